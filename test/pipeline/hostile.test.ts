import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ChainAnalyzer } from '../../src/chain/analyzer.js';
import { parseConfig } from '../../src/config/load.js';
import { createRootCa, issueLeaf } from '../../src/demo/pki.js';
import { type ServedEndpoint, serveChain } from '../../src/demo/servers.js';
import { buildReport } from '../../src/output/report.js';
import { runScan } from '../../src/pipeline/scan.js';
import { chainPems, standardPki } from '../helpers/fixtures.js';
import { closedPort, serveBlackHole, serveGarbage, servePlainText, serveRawTls12Flight } from '../helpers/servers.js';

// One scan of a fleet where most endpoints are hostile or broken: each gets its own error, the
// healthy one is judged as usual, and the whole scan costs about one timeout.
const TIMEOUT_S = 3;
let dir: string;
const servers: ServedEndpoint[] = [];
const ports: Record<string, number> = {};

before(async () => {
  const pki = await standardPki();
  dir = await mkdtemp(join(tmpdir(), 'chainwatch-hostile-'));
  await writeFile(join(dir, 'root.pem'), pki.contosoRoot.pem);
  const good = await pki.leaf(pki.contosoIssuing01, 'good.contoso.test');
  const leaf = await pki.leaf(pki.contosoIssuing01, 'junk.contoso.test');
  // A 100-certificate chain of distinct CA certificates, then one entry that is not X.509 at all.
  const hundred = await Promise.all(Array.from({ length: 99 }, (_, i) => createRootCa({ commonName: `Stray ${i}`, key: 'p256' })));
  const selfLeaf = await issueLeaf(hundred[0]!, { commonName: 'many.contoso.test', dnsNames: ['many.contoso.test'], key: 'p256' });
  const serve = async (name: string, s: Promise<ServedEndpoint>) => {
    const served = await s;
    servers.push(served);
    ports[name] = served.port;
  };
  await serve('good', serveChain({ host: '127.0.0.51', key: good.keyPem, chain: chainPems(good, pki.contosoIssuing01) }));
  await serve('blackhole', serveBlackHole({ host: '127.0.0.52' }));
  await serve('garbage', serveGarbage({ host: '127.0.0.53' }));
  await serve('plaintext', servePlainText({ host: '127.0.0.54', banner: 'SSH-2.0-OpenSSH_9.2\r\n', greetFirst: true }));
  await serve('hundred', serveRawTls12Flight({ host: '127.0.0.55', certificates: [selfLeaf.der, ...hundred.map((c) => c.der)] }));
  await serve('junk', serveRawTls12Flight({ host: '127.0.0.56', certificates: [leaf.der, Buffer.from('30820001ff', 'hex')] }));
  await serve('junkleaf', serveRawTls12Flight({ host: '127.0.0.57', certificates: [Buffer.from('definitely not DER')] }));
  ports.closed = (await closedPort('127.0.0.58')).port;
});

after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await rm(dir, { recursive: true, force: true });
});

describe('a scan among hostile endpoints', () => {
  it('gives each broken endpoint its own error and judges the healthy one, in about one timeout', async () => {
    const t = (name: string, n: number) => `  - {name: ${name}, group: g, host: ${name}.contoso.test, address: 127.0.0.${n}, port: ${ports[name]}}\n`;
    const config = await parseConfig(
      `scan: {timeout: ${TIMEOUT_S}s}\ntrust: {ca_files: [root.pem], system_roots: false}\ntargets:\n` +
        t('good', 51) +
        t('blackhole', 52) +
        t('garbage', 53) +
        t('plaintext', 54) +
        t('hundred', 55) +
        t('junk', 56) +
        t('junkleaf', 57) +
        t('closed', 58),
      join(dir, 'chainwatch.yaml'),
    );
    const started = performance.now();
    const report = buildReport(await runScan(config));
    const seconds = (performance.now() - started) / 1000;
    assert.ok(seconds < TIMEOUT_S * 2, `the scan took ${seconds.toFixed(1)} s: bad endpoints must not add up`);

    const by = Object.fromEntries(report.targets.map((r) => [r.target, r]));
    assert.equal(by.good!.ok, true);
    assert.equal(by.good!.trusted, true);
    assert.deepEqual(by.good!.problems, []);
    assert.equal(by.blackhole!.error?.kind, 'timeout');
    assert.equal(by.garbage!.error?.kind, 'not_tls');
    assert.equal(by.plaintext!.error?.kind, 'not_tls');
    assert.equal(by.closed!.error?.kind, 'refused');
    assert.equal(by.hundred!.ok, true, 'a 100-certificate chain is read whole');
    assert.equal(by.hundred!.chain.length, 100);
    assert.ok(by.hundred!.problems.includes('misordered_chain'));
    assert.equal(by.junk!.ok, true);
    assert.deepEqual(
      by.junk!.problems.filter((p) => p === 'malformed_certificate'),
      ['malformed_certificate'],
    );
    assert.equal(by.junkleaf!.ok, false);
    assert.equal(by.junkleaf!.error?.kind, 'malformed_certificate');
    assert.match(by.junkleaf!.error!.message, /position 0/);
    for (const r of report.targets.filter((r) => !r.ok)) assert.ok(r.error!.message.length > 20, `${r.target}: say what happened`);
  });
});

describe('a bug of ours while analysing one chain', () => {
  it('is internal for that endpoint only, reported to the caller with its stack', async () => {
    const t = (name: string, n: number) => `  - {name: ${name}, group: g, host: ${name}.contoso.test, address: 127.0.0.${n}, port: ${ports[name]}}\n`;
    const config = await parseConfig(
      `scan: {timeout: ${TIMEOUT_S}s}\ntrust: {ca_files: [root.pem], system_roots: false}\ntargets:\n${t('good', 51)}${t('junk', 56)}`,
      join(dir, 'crash.yaml'),
    );
    const original = ChainAnalyzer.prototype.analyze;
    // Fault injection: analysing the 'junk' endpoint's chain throws, as a bug would.
    ChainAnalyzer.prototype.analyze = function (presented, name, now) {
      if (name === 'junk.contoso.test') throw new TypeError('injected analysis fault');
      return original.call(this, presented, name, now);
    };
    const reported: [string, string][] = [];
    try {
      const report = buildReport(await runScan(config, { onInternalError: (e, err) => reported.push([e.target, (err as Error).stack ?? '']) }));
      const by = Object.fromEntries(report.targets.map((r) => [r.target, r]));
      assert.deepEqual([by.good!.ok, by.good!.trusted], [true, true]);
      assert.deepEqual([by.junk!.ok, by.junk!.error?.kind], [false, 'internal']);
      assert.match(by.junk!.error!.message, /could not be analysed \(injected analysis fault\); this is a chainwatch bug/);
      assert.equal(reported.length, 1);
      assert.equal(reported[0]![0], 'junk');
      assert.match(reported[0]![1], /TypeError: injected analysis fault\n\s+at /);
    } finally {
      ChainAnalyzer.prototype.analyze = original;
    }
  });
});
