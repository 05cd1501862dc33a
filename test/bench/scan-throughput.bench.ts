// A full scan against a bare tls.connect loop.
//
// `chainwatch scan` does for each endpoint what the bare loop does (one TLS handshake) plus
// everything the product adds: target expansion, the chain exactly as presented, X.509 parsing,
// path building and signature checks, problems, policy judgement and the drift baseline. This
// benchmark holds that whole pipeline to at least 0.9× the throughput of the bare loop.
//
// A TLS server (RSA-2048 leaf + intermediate, TLS 1.3) runs in a child process. Each round runs
// N handshakes with the bare loop and one scan of N targets with the same concurrency, in
// alternating order; the judged figure is the median of the per-round ratios. Every scan is
// checked for the right answer, so a fast wrong pipeline fails too.
//
// Run: npm run bench -- scan   (or: node --import tsx test/bench/scan-throughput.bench.ts)
// Knobs: BENCH_ROUNDS (default 8), BENCH_ENDPOINTS (400), BENCH_CONCURRENCY (16).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { parseConfig } from '../../src/config/load.js';
import { BaselineStore } from '../../src/fleet/baseline-store.js';
import { nullLogger } from '../../src/log/logger.js';
import { runScan } from '../../src/pipeline/scan.js';
import { BENCH_HOST, benchPki, loop, mean, pairedRatio, startBenchServer } from './support.js';

const TARGET_RATIO = 0.9;
const HOST = BENCH_HOST;
const rounds = Number(process.env.BENCH_ROUNDS ?? 8);
const endpoints = Number(process.env.BENCH_ENDPOINTS ?? 400);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);

const { root, intermediate, leaf } = await benchPki();
const server = await startBenchServer({ key: leaf.keyPem, cert: leaf.pem + intermediate.pem, maxVersion: 'TLSv1.3' });
const dir = await mkdtemp(join(tmpdir(), 'chainwatch-bench-'));
let failed = false;
try {
  await writeFile(join(dir, 'root.pem'), root.pem);
  // Half the fleet is the reference group, half the members: every endpoint is judged.
  const targets = Array.from(
    { length: endpoints },
    (_, i) => `  - {name: t${i}, group: ${i % 2 ? 'members' : 'reference'}, host: ${HOST}, address: 127.0.0.1, port: ${server.port}}`,
  ).join('\n');
  const config = await parseConfig(
    `scan: {timeout: 10s, concurrency: ${concurrency}}\ntrust: {ca_files: [root.pem], system_roots: false}\nstate: {path: state}\n` +
      `targets:\n${targets}\npolicies:\n  - {name: same-ca, reference: reference, members: [members]}\n`,
    join(dir, 'chainwatch.yaml'),
  );
  const baseline = await BaselineStore.open(config.state.path, nullLogger);

  const bare = () =>
    loop(
      (done) => {
        const socket = tls.connect({ host: '127.0.0.1', port: server.port, servername: HOST, rejectUnauthorized: false });
        socket.once('secureConnect', () => {
          socket.destroy();
          done();
        });
        socket.once('error', (err) => {
          socket.destroy();
          done(err);
        });
      },
      concurrency,
      { count: endpoints },
    );

  const scan = async (): Promise<number> => {
    const started = performance.now();
    const result = await runScan(config, { baseline });
    const seconds = (performance.now() - started) / 1000;
    const wrong = result.endpoints.filter((e) => !e.analysis || e.analysis.issuer?.keyId !== intermediate.keyId || !e.analysis.trusted);
    const verdict = result.policies[0];
    if (wrong.length > 0 || !verdict?.consistent || verdict.matching.length !== endpoints / 2) {
      console.error(`  scan gave a wrong answer: ${wrong.length} endpoints wrong, policy ${JSON.stringify(verdict?.consistent)}`);
      failed = true;
    }
    return endpoints / seconds;
  };

  await bare();
  await scan(); // warm-up: JIT, parse cache, trust store
  const bareRates: number[] = [];
  const scanRates: number[] = [];
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      bareRates.push((await bare()).rate);
      scanRates.push(await scan());
    } else {
      scanRates.push(await scan());
      bareRates.push((await bare()).rate);
    }
  }
  const ratio = pairedRatio(scanRates, bareRates);
  console.log(`scan-throughput TLSv1.3, RSA-2048 leaf+intermediate, ${endpoints} endpoints, concurrency ${concurrency}, ${rounds} rounds`);
  console.log(`  bare tls.connect   ${Math.round(mean(bareRates)).toString().padStart(6)} handshakes/s   rounds: ${bareRates.map(Math.round).join(' ')}`);
  console.log(`  full scan          ${Math.round(mean(scanRates)).toString().padStart(6)} endpoints/s    rounds: ${scanRates.map(Math.round).join(' ')}`);
  console.log(`  scan / bare = ${ratio.toFixed(3)} (median of per-round ratios; target ≥ ${TARGET_RATIO})`);
  if (!(ratio >= TARGET_RATIO)) {
    console.error(`  FAIL: a full scan runs at ${ratio.toFixed(3)}× the bare loop, below ${TARGET_RATIO}`);
    failed = true;
  }
} finally {
  server.stop();
  await rm(dir, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
