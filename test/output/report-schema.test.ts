// docs/report.schema.json against real output: `scan --format json` and a daemon's
// /api/v1/status over a fleet with a good endpoint, a divergent one, a failed probe, a policy
// verdict and a recorded change, so every part of the schema meets a real value.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { serveChain, type ServedEndpoint } from '../../src/demo/servers.js';
import { chainwatch } from '../helpers/cli.js';
import { killAll, spawnChainwatch } from '../helpers/daemon-process.js';
import { chainPems, standardPki } from '../helpers/fixtures.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

async function validator(): Promise<(doc: unknown) => ErrorObject[]> {
  const schema = JSON.parse(await readFile(new URL('../../docs/report.schema.json', import.meta.url), 'utf8'));
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  ajv.addFormat('date-time', ISO);
  const validate = ajv.compile(schema);
  return (doc) => (validate(doc) ? [] : (validate.errors ?? []));
}

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

let dir: string;
const servers: ServedEndpoint[] = [];
let check: (doc: unknown) => ErrorObject[];
let config: (webPort: number) => string;
let ports: { fe: number; webContoso: number; webFabrikam: number };

before(async () => {
  check = await validator();
  const pki = await standardPki();
  dir = await mkdtemp(join(tmpdir(), 'chainwatch-report-'));
  await writeFile(join(dir, 'root.pem'), pki.contosoRoot.pem);
  const fe = await pki.leaf(pki.contosoIssuing01, 'fe01.contoso.test');
  const webA = await pki.leaf(pki.contosoIssuing01, 'web01.contoso.test');
  const webB = await pki.leaf(pki.fabrikamTlsCa, 'web01.contoso.test');
  const [s1, s2, s3] = await Promise.all([
    serveChain({ host: '127.0.0.1', key: fe.keyPem, chain: chainPems(fe, pki.contosoIssuing01) }),
    serveChain({ host: '127.0.0.1', key: webA.keyPem, chain: chainPems(webA, pki.contosoIssuing01) }),
    serveChain({ host: '127.0.0.1', key: webB.keyPem, chain: chainPems(webB, pki.fabrikamTlsCa) }),
  ]);
  servers.push(s1, s2, s3);
  ports = { fe: s1.port, webContoso: s2.port, webFabrikam: s3.port };
  const dead = await closedPort();
  config = (webPort) => `trust: {ca_files: [root.pem], system_roots: false}
state: {path: state}
server: {listen: "127.0.0.1:0"}
scan: {schedule: "0 0 1 1 *", timeout: 5s}
targets:
  - {name: fe01, group: core, host: fe01.contoso.test, address: 127.0.0.1, port: ${ports.fe}, role: front-end}
  - {name: web01, group: web, host: web01.contoso.test, address: 127.0.0.1, port: ${webPort}}
  - {name: gone, group: web, host: gone.contoso.test, address: 127.0.0.1, port: ${dead}}
policies:
  - {name: web-same-ca, reference: core, members: [web]}
`;
});

after(async () => {
  killAll();
  await Promise.all(servers.map((s) => s.close()));
  await rm(dir, { recursive: true, force: true });
});

test('scan --format json is valid against docs/report.schema.json, and the schema is not vacuous', async () => {
  await writeFile(join(dir, 'chainwatch.yaml'), config(ports.webContoso));
  const first = await chainwatch('scan', '--config', join(dir, 'chainwatch.yaml'), '--format', 'json', '--save');
  assert.equal(first.code, 1, first.stderr); // the dead port is a finding
  // The web endpoint moves to another CA: a change, a divergent member, an untrusted chain.
  await writeFile(join(dir, 'chainwatch.yaml'), config(ports.webFabrikam));
  const second = await chainwatch('scan', '--config', join(dir, 'chainwatch.yaml'), '--format', 'json', '--save');
  assert.equal(second.code, 1, second.stderr);
  for (const out of [first.stdout, second.stdout]) assert.deepEqual(check(JSON.parse(out)), []);

  const report = JSON.parse(second.stdout);
  assert.deepEqual(report.changes.map((c: { kind: string }) => c.kind), ['issuer_change']);
  assert.equal(report.policies[0].divergent.length, 1);
  assert.equal(report.targets.find((t: { target: string }) => t.target === 'gone').error.kind, 'refused');

  // The schema rejects what a reader could not rely on.
  const broken = structuredClone(report);
  broken.targets[0].chain[0].sha256 = 'AB:CD';
  delete broken.targets[1].problems;
  broken.targets[2].surprise = true;
  broken.policies[0].match = 'subject';
  const errors = check(broken).map((e) => `${e.instancePath} ${e.message}`);
  assert.equal(errors.length >= 4, true, errors.join('\n'));
});

test('/api/v1/status is valid against docs/report.schema.json', async () => {
  await writeFile(join(dir, 'chainwatch.yaml'), config(ports.webFabrikam));
  const cw = spawnChainwatch(['run', '--config', join(dir, 'chainwatch.yaml')]);
  const started = await cw.waitForLog((r) => r.msg === 'chainwatch started', 'the start line');
  await cw.waitForLog((r) => r.msg === 'scan finished', 'the first scan', 30_000);
  const status = (await (await fetch(`${String(started.listen)}/api/v1/status`)).json()) as { targets: unknown[]; changes: unknown[] };
  assert.equal(status.targets.length, 3);
  assert.ok(status.changes.length >= 1, 'the change recorded by scan --save is shown');
  assert.deepEqual(check(status), []);
});
