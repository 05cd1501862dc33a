// One scan with a good endpoint among hostile ones: each hostile endpoint gets its own error (or
// its own problem) within the deadline, and the good one is judged as if it were alone.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { type ServedEndpoint, serveChain } from '../../src/demo/servers.js';
import { buildReport } from '../../src/output/report.js';
import { runScan } from '../../src/pipeline/scan.js';
import { chainPems, standardPki } from '../helpers/fixtures.js';
import { garbageSanLeaf } from '../helpers/hostile-certs.js';
import {
  type FloodServer,
  type SilentDns,
  serveDribble,
  serveHelloRequestFlood,
  serveHelloThenGarbage,
  serveOldTls,
  serveRawTls12Flight,
  serveResetAfterHello,
  silentDnsServer,
} from '../helpers/servers.js';

const TIMEOUT_S = 3;
let dir: string;
const servers: ServedEndpoint[] = [];
const at: Record<string, { address: string; port: number }> = {};
let flood: FloodServer;
let dns: SilentDns;

before(async () => {
  const pki = await standardPki();
  dir = await mkdtemp(join(tmpdir(), 'chainwatch-hostile-endpoints-'));
  await writeFile(join(dir, 'root.pem'), pki.contosoRoot.pem);
  const good = await pki.leaf(pki.contosoIssuing01, 'good.contoso.test');
  const old = await pki.leaf(pki.contosoIssuing01, 'old.contoso.test');
  const serve = async (name: string, address: string, s: Promise<ServedEndpoint>): Promise<void> => {
    const served = await s;
    servers.push(served);
    at[name] = { address, port: served.port };
  };
  await serve('good', '127.0.0.61', serveChain({ host: '127.0.0.61', key: good.keyPem, chain: chainPems(good, pki.contosoIssuing01) }));
  await serve('toomany', '127.0.0.62', serveRawTls12Flight({ host: '127.0.0.62', certificates: Array.from({ length: 101 }, () => good.der) }));
  await serve('toobig', '127.0.0.63', serveRawTls12Flight({ host: '127.0.0.63', certificates: Array.from({ length: 80 }, (_, i) => Buffer.alloc(3500, i)) }));
  await serve('hellogarbage', '127.0.0.64', serveHelloThenGarbage({ host: '127.0.0.64' }));
  flood = await serveHelloRequestFlood({ host: '127.0.0.65' });
  servers.push(flood);
  at.flood = { address: '127.0.0.65', port: flood.port };
  await serve('dribble', '127.0.0.66', serveDribble({ host: '127.0.0.66', certificates: [good.der], everyMs: 1000 }));
  await serve('reset', '127.0.0.67', serveResetAfterHello({ host: '127.0.0.67' }));
  await serve('tls10', '127.0.0.68', serveOldTls({ host: '127.0.0.68', key: old.keyPem, chain: chainPems(old, pki.contosoIssuing01), version: 'TLSv1' }));
  await serve('tls11', '127.0.0.69', serveOldTls({ host: '127.0.0.69', key: old.keyPem, chain: chainPems(old, pki.contosoIssuing01), version: 'TLSv1.1' }));
  const san = await garbageSanLeaf(pki.contosoIssuing01, 'san.contoso.test');
  await serve('garbagesan', '127.0.0.70', serveRawTls12Flight({ host: '127.0.0.70', certificates: [san, pki.contosoIssuing01.der] }));
  dns = await silentDnsServer('127.0.0.71');
});

after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await dns.close();
  await rm(dir, { recursive: true, force: true });
});

describe('hostile endpoints in one scan', () => {
  it('each is an error or a problem of its own, within the deadline; the good endpoint is unaffected', async () => {
    const target = (name: string, host = `${name}.contoso.test`): string =>
      `  - {name: ${name}, group: g, host: ${host}, address: ${at[name]!.address}, port: ${at[name]!.port}}\n`;
    const names = ['good', 'toomany', 'toobig', 'hellogarbage', 'flood', 'dribble', 'reset', 'tls10', 'tls11', 'garbagesan'];
    const config = await parseConfig(
      `scan: {timeout: ${TIMEOUT_S}s}\ndns: {servers: ["${dns.server}"]}\ntrust: {ca_files: [root.pem], system_roots: false}\ntargets:\n` +
        names.map((n) => target(n, n === 'tls10' || n === 'tls11' ? 'old.contoso.test' : undefined)).join('') +
        '  - {name: nodns, group: g, host: pool09.contoso.test, port: 443}\n',
      join(dir, 'chainwatch.yaml'),
    );
    const report = buildReport(await runScan(config));
    const by = Object.fromEntries(report.targets.map((r) => [r.target, r]));
    const kind = (name: string): string | undefined => by[name]!.error?.kind;

    assert.deepEqual([by.good!.ok, by.good!.trusted, by.good!.problems, by.good!.chain.length], [true, true, [], 2]);

    assert.equal(kind('toomany'), 'oversized');
    assert.match(by.toomany!.error!.message, /more than 100 certificates/);
    assert.equal(kind('toobig'), 'oversized');
    assert.match(by.toobig!.error!.message, /certificate list of \d+ bytes, over the 256 KiB accepted/);

    assert.equal(kind('hellogarbage'), 'handshake');
    assert.match(by.hellogarbage!.error!.message, /malformed TLS record header/);

    // An endless stream of handshake records: cut off by the byte budget, not by the deadline.
    assert.equal(kind('flood'), 'handshake');
    assert.match(by.flood!.error!.message, /more than 288 KiB of handshake data|kept sending handshake data/);
    assert.ok(flood.written() < 256 * 1024 * 1024, `the flood server got ${flood.written()} bytes out`);

    // One byte a second: the deadline is total, not per read.
    assert.equal(kind('dribble'), 'timeout');
    assert.match(by.dribble!.error!.message, /stalled: the server sent \d+ bytes but no complete certificate within 3s/);

    assert.equal(kind('reset'), 'reset');

    for (const [name, version] of [
      ['tls10', 'TLSv1'],
      ['tls11', 'TLSv1.1'],
    ] as const) {
      assert.deepEqual([by[name]!.ok, by[name]!.tls?.version, by[name]!.chain.length, by[name]!.trusted], [true, version, 2, true], name);
    }

    assert.equal(by.garbagesan!.ok, true, 'a leaf with a garbage extension is still a chain to report');
    assert.deepEqual(by.garbagesan!.problems.filter((p) => p === 'malformed_certificate' || p === 'hostname_mismatch').sort(), [
      'hostname_mismatch',
      'malformed_certificate',
    ]);
    assert.equal(by.garbagesan!.chain.length, 2);

    assert.equal(kind('nodns'), 'dns');
    assert.match(by.nodns!.error!.message, /did not answer/);

    for (const r of report.targets.filter((t) => !t.ok)) assert.ok(r.error!.message.length > 20, `${r.target}: say what happened`);
  });
});
