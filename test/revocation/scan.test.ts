// The revocation stage in a real scan: TLS servers on loopback presenting certificates whose CRLs
// are served by a loopback HTTP server and whose OCSP responder is Debian's `openssl ocsp`, plus
// `openssl s_server` stapling a response. Every certificate answer is verified with real keys.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parseConfig } from '../../src/config/load.js';
import { type CertificateAuthority, createIntermediateCa, createRootCa, type IssuedCert, issueCrl, issueLeaf, issueOcspResponder } from '../../src/demo/pki.js';
import { type ServedEndpoint, serveChain } from '../../src/demo/servers.js';
import { buildReport, type EndpointReport, hasFindings } from '../../src/output/report.js';
import { formatTable } from '../../src/output/table.js';
import { runScan } from '../../src/pipeline/scan.js';
import { probeEndpoint } from '../../src/probe/probe.js';
import { freePort } from '../helpers/ports.js';
import { endpointFor } from '../probe/endpoint.js';
import {
  type CrlServer,
  type OcspResponder,
  opensslOcspResponse,
  type StaplingServer,
  startCrlServer,
  startOpensslOcsp,
  startStaplingServer,
} from './servers.js';

const DAY = 86_400_000;
const LIMIT = 4096;

let dir: string;
let crls: CrlServer;
let ocsp: OcspResponder;
let stapling: StaplingServer;
let stapledResponse: Buffer;
let root: CertificateAuthority;
let issuing: CertificateAuthority;
const leaves = new Map<string, IssuedCert>();
const servers = new Map<string, ServedEndpoint>();

/** Each case: the leaf's CRL and OCSP locations. */
function cases(base: string, ocspUrl: string): Record<string, { crl?: string[]; ocsp?: string[] }> {
  return {
    good: { crl: [`${base}/issuing.crl`], ocsp: [ocspUrl] },
    revoked: { crl: [`${base}/issuing.crl`], ocsp: [ocspUrl] },
    stale: { crl: [`${base}/stale.crl`] },
    forged: { crl: [`${base}/forged.crl`] },
    missing: { crl: [`${base}/missing.crl`] },
    blackhole: { crl: [`${base}/hang.crl`] },
    oversized: { crl: [`${base}/big.crl`] },
    ldap: { crl: ['ldap:///CN=Contoso%20Issuing%20CA,CN=CDP,DC=contoso,DC=test?certificateRevocationList'] },
    redirect: { crl: [`${base}/moved.crl`] },
  };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chainwatch-revocation-'));
  crls = await startCrlServer();
  const ocspPort = await freePort();
  const ocspUrl = `http://127.0.0.1:${ocspPort}/`;
  root = await createRootCa({ commonName: 'Revocation Test Root', notAfter: new Date(Date.now() + 3650 * DAY) });
  issuing = await createIntermediateCa(root, {
    commonName: 'Revocation Test Issuing CA',
    notAfter: new Date(Date.now() + 1000 * DAY),
    crlUrls: [`${crls.base}/root.crl`],
  });
  const impostor = await createRootCa({ commonName: 'Revocation Test Issuing CA' });
  for (const [name, where] of Object.entries(cases(crls.base, ocspUrl))) {
    leaves.set(
      name,
      await issueLeaf(issuing, { commonName: `${name}.revocation.test`, dnsNames: [`${name}.revocation.test`], crlUrls: where.crl, ocspUrls: where.ocsp }),
    );
  }
  leaves.set('stapled', await issueLeaf(issuing, { commonName: 'stapled.revocation.test', dnsNames: ['stapled.revocation.test'] }));
  const revoked = leaves.get('revoked')!;
  const revokedAt = new Date(Date.now() - 2 * DAY);
  crls.routes.set('/root.crl', { body: await issueCrl(root) });
  crls.routes.set('/issuing.crl', { body: await issueCrl(issuing, { revoked: [{ serialNumber: revoked.serialNumber, revokedAt, reason: 1 }] }), etag: '"v1"' });
  crls.routes.set('/stale.crl', { body: await issueCrl(issuing, { thisUpdate: new Date(Date.now() - 10 * DAY), nextUpdate: new Date(Date.now() - 3 * DAY) }) });
  crls.routes.set('/forged.crl', { body: await issueCrl(issuing, {}, impostor) });
  crls.routes.set('/hang.crl', 'hang');
  crls.routes.set('/moved.crl', { redirect: `${crls.base}/issuing.crl` });
  const many = Array.from({ length: 200 }, (_, i) => ({ serialNumber: (0x1000 + i).toString(16) }));
  const big = await issueCrl(issuing, { revoked: many });
  assert.ok(big.length > LIMIT, `the oversized CRL must exceed ${LIMIT} bytes (is ${big.length})`);
  crls.routes.set('/big.crl', { body: big });

  // The responder signs with a delegated OCSP-signing certificate, as many CAs do.
  const delegate = await issueOcspResponder(issuing, { commonName: 'Revocation Test OCSP Responder' });
  const index = [{ cert: leaves.get('good')! }, { cert: revoked, revokedAt, reason: 'keyCompromise' }];
  ocsp = await startOpensslOcsp(ocspPort, issuing, index, delegate);

  const stapledLeaf = leaves.get('stapled')!;
  stapledResponse = await opensslOcspResponse(issuing, stapledLeaf, [{ cert: stapledLeaf }]);
  stapling = await startStaplingServer(stapledLeaf, issuing, stapledResponse);
  for (const [name, leaf] of leaves) {
    if (name === 'stapled') continue;
    servers.set(name, await serveChain({ host: '127.0.0.1', port: 0, key: leaf.keyPem, chain: [leaf.pem, issuing.pem] }));
  }
  await writeFile(join(dir, 'root.pem'), root.pem);
});

after(async () => {
  await Promise.allSettled([...servers.values()].map((s) => s.close()));
  await Promise.allSettled([crls?.close(), ocsp?.stop(), stapling?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

function configText(revocation: string, targets: string[]): string {
  const lines = targets.map((name) => {
    const port = name === 'stapled' ? stapling.port : servers.get(name.replace(/-\d+$/, ''))!.port;
    const host = `${name.replace(/-\d+$/, '')}.revocation.test`;
    return `  - {name: ${name}, group: g, host: ${host}, address: 127.0.0.1, port: ${port}}`;
  });
  return `scan:\n  timeout: 5s\ntrust:\n  ca_files: [root.pem]\n  system_roots: false\nstate:\n  path: state\nrevocation:\n${revocation}\ntargets:\n${lines.join('\n')}\n`;
}

async function scan(revocation: string, targets: string[]) {
  const config = await parseConfig(configText(revocation, targets), join(dir, `c${Math.random()}.yaml`));
  const t0 = performance.now();
  const result = await runScan(config);
  return { report: buildReport(result), ms: performance.now() - t0 };
}

function byName(targets: EndpointReport[], name: string): EndpointReport {
  const t = targets.find((x) => x.target === name);
  assert.ok(t, `no ${name} in the report`);
  return t;
}

describe('revocation in a scan', () => {
  const all = ['good', 'revoked', 'stale', 'forged', 'missing', 'blackhole', 'oversized', 'ldap', 'redirect', 'stapled'];
  let report: Awaited<ReturnType<typeof scan>>['report'];
  let ms: number;

  before(async () => {
    ({ report, ms } = await scan(`  timeout: 5s\n  max_crl_size: ${LIMIT}B`, all));
  });

  it('a good certificate: OCSP answers good (signed by a delegated responder), the CRL agrees', () => {
    const t = byName(report.targets, 'good');
    const r = t.chain[0]!.revocation!;
    assert.equal(r.status, 'good');
    assert.equal(r.source, 'ocsp');
    assert.equal(r.ocspUrl, ocsp.url);
    assert.equal(r.crlUrl, `${crls.base}/issuing.crl`);
    assert.equal(r.error, null);
    assert.ok(r.thisUpdate && r.nextUpdate, 'the OCSP answer has a validity window');
    assert.deepEqual(t.problems, []);
    // The issuing CA's own certificate is checked against the root's CRL; the root is not.
    assert.equal(t.chain[1]!.revocation!.status, 'good');
    assert.equal(t.chain[1]!.revocation!.source, 'crl');
  });

  it('a revoked certificate: OCSP says revoked with the time and reason', () => {
    const t = byName(report.targets, 'revoked');
    const r = t.chain[0]!.revocation!;
    assert.equal(r.status, 'revoked');
    assert.equal(r.source, 'ocsp');
    assert.equal(r.reason, 'keyCompromise');
    assert.ok(r.revokedAt);
    assert.ok(t.problems.includes('revoked'));
  });

  it('a stale CRL: unknown, saying it is past its nextUpdate; the URL is marked stale', () => {
    const t = byName(report.targets, 'stale');
    const r = t.chain[0]!.revocation!;
    assert.equal(r.status, 'unknown');
    assert.equal(r.source, null);
    assert.match(r.error!, /stale\.crl: it expired at its nextUpdate .* \(stale\)/);
    assert.ok(t.problems.includes('revocation_unknown'));
    const url = report.revocation!.urls.find((u) => u.url.endsWith('/stale.crl'))!;
    assert.equal(url.stale, true);
    assert.equal(url.reachable, true);
    assert.deepEqual(url.endpoints, ['stale (127.0.0.1)']);
  });

  it('a CRL signed by another key is never good', () => {
    const r = byName(report.targets, 'forged').chain[0]!.revocation!;
    assert.equal(r.status, 'unknown');
    assert.match(r.error!, /forged\.crl: it is signed by another key than the issuer's/);
  });

  it('a 404 and a black hole are unknown, each saying which; the black hole costs one timeout', () => {
    assert.match(byName(report.targets, 'missing').chain[0]!.revocation!.error!, /missing\.crl: HTTP 404/);
    assert.match(byName(report.targets, 'blackhole').chain[0]!.revocation!.error!, /hang\.crl: no complete answer within 5s \(timeout\)/);
    const hole = report.revocation!.urls.find((u) => u.url.endsWith('/hang.crl'))!;
    assert.equal(hole.reachable, false);
    // The black hole never answers: that the scan finished at all shows the timeout bounded it.
    assert.ok(ms < 30_000, `scan took ${ms} ms`);
  });

  it('an oversized CRL is refused', () => {
    const r = byName(report.targets, 'oversized').chain[0]!.revocation!;
    assert.equal(r.status, 'unknown');
    assert.match(r.error!, new RegExp(`big\\.crl: refused: .*${LIMIT}-byte limit \\(revocation\\.max_crl_size\\)`));
  });

  it('an LDAP distribution point is reported not_checked and never fetched', () => {
    const t = byName(report.targets, 'ldap');
    const r = t.chain[0]!.revocation!;
    assert.equal(r.status, 'unknown');
    assert.match(r.error!, /only ldap:\/\/\/.* is named, and only http\(s\) sources are checked \(not_checked\)/);
    assert.ok(!t.problems.includes('revocation_unknown'), 'nothing was tried, so nothing failed');
    const url = report.revocation!.urls.find((u) => u.url.startsWith('ldap:'))!;
    assert.equal(url.checked, false);
    assert.equal(url.reachable, null);
  });

  it('a redirect to the CRL is followed', () => {
    assert.equal(byName(report.targets, 'redirect').chain[0]!.revocation!.status, 'good');
  });

  it('the probe keeps the stapled response byte for byte, and null when a server staples nothing', async () => {
    const stapled = await probeEndpoint(endpointFor(stapling, { host: 'stapled.revocation.test' }), { timeoutMs: 10_000 });
    assert.ok(stapled.stapledOcsp?.equals(stapledResponse), 'the staple as openssl s_server sent it');
    const plain = await probeEndpoint(endpointFor(servers.get('good')!, { host: 'good.revocation.test' }), { timeoutMs: 10_000 });
    assert.equal(plain.error, null);
    assert.equal(plain.stapledOcsp, null);
  });

  it("a stapled response from openssl s_server is checked with the issuer's key", () => {
    const r = byName(report.targets, 'stapled').chain[0]!.revocation!;
    assert.equal(r.status, 'good');
    assert.equal(r.source, 'stapled');
  });

  it('the table lists the revoked certificate and each broken location with who uses it, within 120 columns', () => {
    const text = formatTable(report);
    const section = text.slice(text.indexOf('\nREVOCATION\n'));
    assert.match(section, /✗ revoked #0 CN=revoked\.revocation\.test: revoked \S+ \(keyCompromise\) per ocsp/);
    assert.match(section, /STALE crl http:\/\/127\.0\.0\.1:\d+\/stale\.crl/);
    assert.match(section, /UNREACHABLE crl http:\/\/127\.0\.0\.1:\d+\/missing\.crl\n {6}HTTP 404 .*\n {6}used by missing \(127\.0\.0\.1\)/);
    assert.match(section, /INVALID crl http:\/\/127\.0\.0\.1:\d+\/forged\.crl/);
    assert.match(section, /not checked crl ldap:/);
    for (const line of text.split('\n')) assert.ok(line.length <= 120, `line longer than 120 columns: ${line}`);
    assert.equal(hasFindings(report), true);
  });

  it('the report, every revocation outcome included, is valid against docs/report.schema.json', async () => {
    const schema = JSON.parse(await readFile(new URL('../../docs/report.schema.json', import.meta.url), 'utf8'));
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    const validate = ajv.compile(schema);
    const doc = JSON.parse(JSON.stringify(report)) as { revocation: { urls: { kind: string }[] } };
    assert.ok(validate(doc), JSON.stringify(validate.errors, null, 2));
    assert.deepEqual(new Set(doc.revocation.urls.map((u) => u.kind)), new Set(['crl', 'ocsp']));
  });

  it('with OCSP off, the CRL alone gives good and revoked', async () => {
    const { report: crlOnly } = await scan('  ocsp: false', ['good', 'revoked']);
    const good = byName(crlOnly.targets, 'good').chain[0]!.revocation!;
    const revoked = byName(crlOnly.targets, 'revoked').chain[0]!.revocation!;
    assert.deepEqual([good.status, good.source], ['good', 'crl']);
    assert.deepEqual([revoked.status, revoked.source, revoked.reason], ['revoked', 'crl', 'keyCompromise']);
    assert.ok(!crlOnly.revocation!.urls.some((u) => u.kind === 'ocsp'));
  });

  it('fifty endpoints sharing one issuing CA fetch its CRL once', async () => {
    const before = crls.hits('/issuing.crl');
    const fifty = Array.from({ length: 50 }, (_, i) => `good-${i}`);
    const { report: fleet } = await scan('  ocsp: false', fifty);
    assert.equal(fleet.targets.length, 50);
    assert.ok(fleet.targets.every((t) => t.chain[0]!.revocation?.status === 'good'));
    assert.equal(crls.hits('/issuing.crl') - before, 1);
    const url = fleet.revocation!.urls.find((u) => u.url.endsWith('/issuing.crl'))!;
    assert.equal(url.endpoints.length, 50);
  });

  it('revocation off: no request, no status', async () => {
    const before = crls.hits('/issuing.crl');
    const { report: off } = await scan('  enabled: false', ['good']);
    assert.equal(off.revocation, null);
    assert.equal(byName(off.targets, 'good').chain[0]!.revocation, null);
    assert.equal(crls.hits('/issuing.crl'), before);
  });
});
