// A loopback fleet for the long-run and memory checks: a few TLS servers presenting different
// chains (two issuing CAs, so a target moving between them is a real issuer change) and the
// config file a daemon reads, rewritten to make the fleet churn.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ServedEndpoint, serveChain } from '../../src/demo/servers.js';
import { chainPems, standardPki } from '../helpers/fixtures.js';

export interface LoopbackFleet {
  /** One server per distinct chain; `targetsFor` spreads targets over them. */
  servers: ServedEndpoint[];
  rootPem: string;
  close(): Promise<void>;
}

export async function startLoopbackFleet(): Promise<LoopbackFleet> {
  const pki = await standardPki();
  const servers: ServedEndpoint[] = [];
  for (const [i, ca] of [pki.contosoIssuing01, pki.contosoIssuing01, pki.contosoIssuing02].entries()) {
    // Two servers under Issuing 01 with different leaves: moving between them is a renewal.
    const leaf = await pki.leaf(ca, `fleet${i}.contoso.test`, { dnsNames: ['*.contoso.test'] });
    servers.push(await serveChain({ key: leaf.keyPem, chain: chainPems(leaf, ca) }));
  }
  return {
    servers,
    rootPem: pki.contosoRoot.pem,
    close: async () => {
      await Promise.all(servers.map((s) => s.close()));
    },
  };
}

export interface FleetConfig {
  dir: string;
  fleet: LoopbackFleet;
  /** Target names present in this version of the config. */
  targets: number[];
  /** Which server target i points at is (i + shift) mod servers: a shift changes certificates. */
  shift: number;
  schedule: string;
  timeout?: string;
}

/** Writes chainwatch.yaml (and root.pem) into `dir`; returns the config path. */
export async function writeFleetConfig(c: FleetConfig): Promise<string> {
  await writeFile(join(c.dir, 'root.pem'), c.fleet.rootPem);
  const n = c.fleet.servers.length;
  const targets = c.targets.map((i) => {
    const s = c.fleet.servers[(i + c.shift) % n]!;
    return `  - {name: t${i}, group: ${i % 2 ? 'members' : 'reference'}, host: t${i}.contoso.test, address: ${s.host}, port: ${s.port}}`;
  });
  const file = join(c.dir, 'chainwatch.yaml');
  await writeFile(
    file,
    `server: {listen: "127.0.0.1:0"}\n` +
      `scan: {schedule: "${c.schedule}", timeout: ${c.timeout ?? '5s'}, concurrency: 16}\n` +
      `trust: {ca_files: [root.pem], system_roots: false}\nstate: {path: state}\n` +
      `targets:\n${targets.join('\n')}\n` +
      `policies:\n  - {name: same-ca, reference: reference, members: [members]}\n`,
  );
  return file;
}
