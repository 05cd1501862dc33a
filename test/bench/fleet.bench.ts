// `npm run bench -- fleet`: chainwatch against the handshake floor and blackbox_exporter on a
// loopback nginx fleet, at 1,000 and 10,000 endpoints with 5 % black holes (see fleet-run.ts).
// Prints a table and writes .bench-results/fleet-<sizes>.json. Installs nginx and the blackbox exporter
// (Debian packages) when missing. The machine may be shared: compare the same-run ratios, not
// absolute times.
//
// Knobs: BENCH_FLEET_SIZES (default "1000,10000"), BENCH_ROUNDS (7), BENCH_CONCURRENCY (64),
// BENCH_TIMEOUT_MS (2000), BENCH_DAEMON_SCANS (3). Needs a build: npm run build.
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { ensurePackages } from '../support/system-deps.mjs';
import { type FleetRunResult, runFleet } from './fleet-run.js';
import { median } from './support.js';

ensurePackages([
  { bin: '/usr/sbin/nginx', pkg: 'nginx' },
  { bin: '/usr/bin/prometheus-blackbox-exporter', pkg: 'prometheus-blackbox-exporter' },
]);
const sizes = (process.env.BENCH_FLEET_SIZES ?? '1000,10000').split(',').map(Number);
const results: FleetRunResult[] = [];
for (const endpoints of sizes) {
  console.log(`fleet ${endpoints} endpoints:`);
  results.push(
    await runFleet({
      endpoints,
      holes: 0.05,
      concurrency: Number(process.env.BENCH_CONCURRENCY ?? 64),
      rounds: Number(process.env.BENCH_ROUNDS ?? 7),
      timeoutMs: Number(process.env.BENCH_TIMEOUT_MS ?? 2000),
      daemonScans: Number(process.env.BENCH_DAEMON_SCANS ?? 3),
      blackbox: true,
      log: (l) => console.log(l),
    }),
  );
}

const f = (n: number, d = 2) => n.toFixed(d);
console.log(
  `\n| endpoints | bare loop s | chainwatch scan s (×bare) | blackbox_exporter s (×bare) | daemon scan s: first, later (median) | scan max RSS MB (each probe process) | daemon RSS MB: between scans, after a scan (peak) | probe process peak RSS MB | /metrics MB (gzip) | /metrics ms (gzip): between scans, right after a scan; worst gzip scrape during scans |`,
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  const s = (k: string) => median(r.seconds[k] ?? [NaN]);
  const d = r.daemon;
  console.log(
    `| ${r.endpoints} (${r.holes} holes) | ${f(s('bare'))} | ${f(s('scan'))} (${f(r.speedVsBare.scan ?? NaN)}) | ${f(s('blackbox'))} (${f(r.speedVsBare.blackbox ?? NaN)}) | ` +
      `${f(d.scanSeconds[0] ?? NaN)}, ${f(median(d.scanSeconds.slice(1)))} | ${f(r.scanMaxRssMb, 0)} (${f(r.scanProbeMaxRssMb, 0)}) | ${f(d.idleRssMb, 0)}, ${f(d.rssMb, 0)} (${f(d.peakRssMb, 0)}) | ${f(d.probeProcessPeakRssMb, 0)} | ${f(d.metricsBytes / 1e6)} (${f(d.metricsGzipBytes / 1e6)}) | ${f(d.metricsMs, 0)} (${f(d.metricsGzipMs, 0)}), ${f(d.metricsAfterScanMs, 0)} (${f(d.metricsAfterScanGzipMs, 0)}); ${f(d.metricsWorstGzipMs, 0)} |`,
  );
}
if (results.length >= 2) {
  const [a, b] = [results[0]!, results[results.length - 1]!];
  const grow = (k: string) => median(b.seconds[k]!) / median(a.seconds[k]!);
  console.log(
    `growth ${a.endpoints} → ${b.endpoints} (×${b.endpoints / a.endpoints} endpoints): bare ×${f(grow('bare'))}, scan ×${f(grow('scan'))}, blackbox ×${f(grow('blackbox'))}, daemon RSS between scans ×${f(b.daemon.idleRssMb / a.daemon.idleRssMb)}`,
  );
}
console.log(
  `(×bare: median of per-round bare/variant time ratios; above 1 is faster than the bare loop. Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${f(totalmem() / 2 ** 30, 0)} GiB, Node ${process.version})`,
);
await mkdir('.bench-results', { recursive: true });
await writeFile(
  `.bench-results/fleet-${sizes.join('-')}.json`,
  `${JSON.stringify({ machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version }, results }, null, 2)}\n`,
);
