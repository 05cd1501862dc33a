import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { startDnsServer } from '../../src/demo/dns-server.js';
import type { CertificateAuthority, IssuedCert } from '../../src/demo/pki.js';
import { type ServedEndpoint, serveChain } from '../../src/demo/servers.js';
import { BaselineStore } from '../../src/fleet/baseline-store.js';
import { createLogger } from '../../src/log/logger.js';
import { buildReport } from '../../src/output/report.js';
import { runScan } from '../../src/pipeline/scan.js';
import { chainPems, type StandardPki, standardPki } from '../helpers/fixtures.js';

// A loopback Lync fleet: the internal Front End, a pool name with three addresses (one on a
// foreign CA), and Persistent Chat web endpoints on the right CA, an external CA, a same-name
// twin CA, a leaf-only server and a sibling issuing CA under the same root.
let pki: StandardPki;
let dir: string;
let dns: Awaited<ReturnType<typeof startDnsServer>>;
const servers = new Map<string, ServedEndpoint>();
const POOL = ['127.0.0.11', '127.0.0.12', '127.0.0.13'];

async function serve(name: string, host: string, leaf: IssuedCert, rest: IssuedCert[], port = 0): Promise<ServedEndpoint> {
  await servers.get(name)?.close();
  const s = await serveChain({ host, port, key: leaf.keyPem, chain: chainPems(leaf, ...rest) });
  servers.set(name, s);
  return s;
}

async function leafAndChain(ca: CertificateAuthority, host: string): Promise<[IssuedCert, IssuedCert[]]> {
  return [await pki.leaf(ca, host), [ca]];
}

/** The three pool members share one port, as a DNS load-balanced pool does. */
async function servePool(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = await serve('pool-0', POOL[0]!, await pki.leaf(pki.contosoIssuing01, 'pool01.contoso.test'), [pki.contosoIssuing01]);
    try {
      await serve('pool-1', POOL[1]!, await pki.leaf(pki.fabrikamTlsCa, 'pool01.contoso.test'), [pki.fabrikamTlsCa], first.port);
      await serve('pool-2', POOL[2]!, await pki.leaf(pki.contosoIssuing01, 'pool01.contoso.test'), [pki.contosoIssuing01], first.port);
      return first.port;
    } catch {
      // the port happened to be taken on another loopback address; try another
    }
  }
  throw new Error('could not find one free port on three loopback addresses');
}

function configText(ports: Record<string, number>): string {
  const t = (name: string, group: string, host: string, address: string, extra = '') =>
    `  - {name: ${name}, group: ${group}, host: ${host}, port: ${ports[name]}, address: ${address}${extra}}\n`;
  return `scan:
  timeout: 3s
dns:
  servers: ["${dns.address}"]
trust:
  ca_files: [contoso-root.pem]
  system_roots: false
state:
  path: state
targets:
${t('fe01', 'lync-internal', 'fe01.contoso.test', '127.0.0.21')}  - {name: pool01, group: lync-pool, host: pool01.contoso.test, port: ${ports.pool01}, resolve: all}
${t('web-right', 'pchat-web', 'web-right.contoso.test', '127.0.0.31')}${t('web-external', 'pchat-web', 'web-external.contoso.test', '127.0.0.32')}${t('web-twin', 'pchat-web', 'web-twin.contoso.test', '127.0.0.33')}${t('web-leafonly', 'pchat-web', 'web-leafonly.contoso.test', '127.0.0.34')}${t('web-ca02', 'pchat-sibling', 'web-ca02.contoso.test', '127.0.0.35')}policies:
  - {name: pool-same-ca, reference: lync-internal, members: [lync-pool]}
  - {name: pchat-web-same-ca, reference: lync-internal, members: [pchat-web]}
  - {name: sibling-same-issuer, reference: lync-internal, members: [pchat-sibling], match: issuer}
  - {name: sibling-same-root, reference: lync-internal, members: [pchat-sibling], match: root}
`;
}

let ports: Record<string, number>;

before(async () => {
  pki = await standardPki();
  dir = await mkdtemp(join(tmpdir(), 'chainwatch-pipeline-'));
  await writeFile(join(dir, 'contoso-root.pem'), pki.contosoRoot.pem);
  dns = await startDnsServer({ records: { 'pool01.contoso.test': POOL } });
  ports = {
    fe01: (await serve('fe01', '127.0.0.21', ...(await leafAndChain(pki.contosoIssuing01, 'fe01.contoso.test')))).port,
    pool01: await servePool(),
    'web-right': (await serve('web-right', '127.0.0.31', ...(await leafAndChain(pki.contosoIssuing01, 'web-right.contoso.test')))).port,
    'web-external': (await serve('web-external', '127.0.0.32', ...(await leafAndChain(pki.fabrikamTlsCa, 'web-external.contoso.test')))).port,
    'web-twin': (await serve('web-twin', '127.0.0.33', ...(await leafAndChain(pki.contosoIssuing01Twin, 'web-twin.contoso.test')))).port,
    'web-leafonly': (await serve('web-leafonly', '127.0.0.34', await pki.leaf(pki.contosoIssuing01, 'web-leafonly.contoso.test'), [])).port,
    'web-ca02': (await serve('web-ca02', '127.0.0.35', ...(await leafAndChain(pki.contosoIssuing02, 'web-ca02.contoso.test')))).port,
  };
});

after(async () => {
  await Promise.all([...servers.values()].map((s) => s.close()));
  await dns?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('scan pipeline against a loopback Lync fleet', () => {
  it('judges every policy per endpoint, by key', async () => {
    const config = await parseConfig(configText(ports), join(dir, 'chainwatch.yaml'));
    const scan = await runScan(config);
    const report = buildReport(scan);
    assert.equal(report.targets.length, 9, 'pool01 fans out into three endpoints');
    assert.deepEqual(
      report.targets.filter((t) => !t.ok),
      [],
    );

    const policy = (name: string) => report.policies.find((p) => p.name === name)!;
    const pool = policy('pool-same-ca');
    assert.deepEqual(
      pool.divergent.map((d) => [d.target, d.address]),
      [['pool01', '127.0.0.12']],
    );
    assert.equal(pool.divergent[0]!.issuer.dn, 'CN=Fabrikam TLS CA, O=Fabrikam');
    assert.equal(pool.matching.filter((m) => !m.asReference).length, 2);

    const web = policy('pchat-web-same-ca');
    assert.deepEqual(web.divergent.map((d) => d.target).sort(), ['web-external', 'web-twin']);
    const twin = web.divergent.find((d) => d.target === 'web-twin')!;
    assert.equal(twin.issuer.dn, 'CN=Contoso Issuing CA 01, O=Contoso', 'the twin has the very same name');
    assert.equal(twin.issuer.keyId, pki.contosoIssuing01Twin.keyId);
    assert.deepEqual(
      web.matching
        .filter((m) => !m.asReference)
        .map((m) => m.target)
        .sort(),
      ['web-leafonly', 'web-right'],
    );
    assert.deepEqual(web.expected, [{ dn: 'CN=Contoso Issuing CA 01, O=Contoso', keyId: pki.contosoIssuing01.keyId, endpoints: 1 }]);

    const leafOnly = report.targets.find((t) => t.target === 'web-leafonly')!;
    assert.equal(leafOnly.issuer?.keyId, pki.contosoIssuing01.keyId);
    assert.deepEqual(leafOnly.problems, ['untrusted', 'incomplete_chain']);

    assert.equal(policy('sibling-same-issuer').consistent, false);
    assert.equal(policy('sibling-same-root').consistent, true);
  });

  it('records a baseline and classifies renewal, issuer change and chain change across scans', async () => {
    const stateDir = join(dir, 'drift-state');
    const log = createLogger({ level: 'error' });
    const config = await parseConfig(configText(ports), join(dir, 'chainwatch.yaml'));
    const scanOnce = async () => {
      const store = await BaselineStore.open(stateDir, log); // a fresh process each time: restart safety too
      const scan = await runScan(config, { baseline: store, targetNames: ['web-right'] });
      await store.save();
      return scan.changes.map((c) => c.kind);
    };
    const host = 'web-right.contoso.test';
    const port = ports['web-right']!;
    assert.deepEqual(await scanOnce(), []);
    assert.deepEqual(await scanOnce(), [], 'nothing changed, nothing reported');

    await serve('web-right', '127.0.0.31', await pki.leaf(pki.contosoIssuing01, host, { serialNumber: '0a01' }), [pki.contosoIssuing01], port);
    assert.deepEqual(await scanOnce(), ['renewal']);

    await serve('web-right', '127.0.0.31', await pki.leaf(pki.fabrikamTlsCa, host), [pki.fabrikamTlsCa], port);
    assert.deepEqual(await scanOnce(), ['issuer_change']);

    await serve('web-right', '127.0.0.31', await pki.leaf(pki.fabrikamTlsCa, host), [pki.fabrikamTlsCa, pki.fabrikamRoot], port);
    assert.deepEqual(await scanOnce(), ['chain_change']);
    assert.deepEqual(await scanOnce(), []);
  });
});
