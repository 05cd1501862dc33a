// What the daemon holds between scans at fleet scale, without a fleet of TLS servers: synthetic
// probe results (the chain bytes a real server would present, copied into small pooled Buffers
// as a probe copies them) for N endpoints go through the real stages after probing (chain
// analysis, policies, baseline) and into the daemon's outputs (metrics, status document,
// alerting, scan log), scan after scan. Memory is read after a forced GC once each scan's result
// is dropped, as the daemon drops it; the first scan also shows what each holder adds.
//
// Run: node --expose-gc --import tsx test/bench/fleet-memory.ts
//   MEM_ENDPOINTS  endpoints (default 10000)
//   MEM_LEAVES     distinct leaf certificates (default 1, as in the nginx fleet bench; up to MEM_ENDPOINTS)
//   MEM_SCANS      scans (default 5)
// Prints a table on stderr and one JSON line on stdout: { endpoints, leaves, start, holders,
// scans: [{heap, external, arrayBuffers, rss}] } (start: before the config is read; bytes).
// test/daemon/memory.test.ts runs it and bounds the heap.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import { Alerting } from '../../src/daemon/alerting.js';
import { ScanLog } from '../../src/daemon/scan-log.js';
import { createIntermediateCa, createRootCa, type IssuedCert, issueLeaf } from '../../src/demo/pki.js';
import { BaselineStore } from '../../src/fleet/baseline-store.js';
import { nullLogger } from '../../src/log/logger.js';
import { createMetrics } from '../../src/output/metrics.js';
import { buildStatus, STATUS_CHANGES, type StatusSnapshot, statusJson } from '../../src/output/status.js';
import { Scanner } from '../../src/pipeline/scan.js';
import type { ProbeResult } from '../../src/probe/types.js';
import { expandTargets } from '../../src/targets/expand.js';
import { createResolver } from '../../src/targets/resolver.js';
import type { Endpoint } from '../../src/targets/types.js';

const gc = globalThis.gc;
if (!gc) throw new Error('run with --expose-gc');
const n = Number(process.env.MEM_ENDPOINTS ?? 10_000);
const leafCount = Math.min(n, Number(process.env.MEM_LEAVES ?? 1));
const scans = Number(process.env.MEM_SCANS ?? 5);
const MB = 1048576;

interface Sample {
  heap: number;
  external: number;
  arrayBuffers: number;
  rss: number;
}

/** After pending callbacks (zlib lets go of its input a tick after it answers) and a full GC. */
async function sample(): Promise<Sample> {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  gc!();
  gc!();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, rss: m.rss };
}

const mb = (b: number) => (b / MB).toFixed(1).padStart(7);
const line = (what: string, s: Sample) => `${what.padEnd(34)} ${mb(s.heap)} ${mb(s.external)} ${mb(s.arrayBuffers)} ${mb(s.rss)}`;

const root = await createRootCa({ commonName: 'Fleet Root CA', key: 'p256' });
const ca = await createIntermediateCa(root, { commonName: 'Fleet Issuing CA', key: 'p256' });
const leaves: IssuedCert[] = [];
while (leaves.length < leafCount) {
  const batch = Array.from({ length: Math.min(200, leafCount - leaves.length) }, (_, i) => `fe${leaves.length + i}.contoso.test`);
  leaves.push(...(await Promise.all(batch.map((host) => issueLeaf(ca, { commonName: host, dnsNames: [host], key: 'p256' })))));
}

const dir = await mkdtemp(join(tmpdir(), 'chainwatch-fleet-memory-'));
try {
  const { writeFile } = await import('node:fs/promises');
  await writeFile(join(dir, 'root.pem'), root.pem);
  // As the nginx fleet bench writes it: one group, every target its own name, 5 % black holes.
  const yaml =
    `server: {listen: "127.0.0.1:0"}\nscan: {schedule: "0 0 1 1 *", timeout: 5s, concurrency: 64}\n` +
    `trust: {ca_files: [root.pem], system_roots: false}\nstate: {path: ${join(dir, 'state')}}\ntargets:\n` +
    Array.from({ length: n }, (_, i) => `  - {name: e${i}, group: fleet, host: fe${i % leafCount}.contoso.test, address: 127.0.0.1, port: ${20_000 + i}}`).join(
      '\n',
    ) +
    '\n';
  const start = await sample();
  const config = await parseConfig(yaml, join(dir, 'chainwatch.yaml'));
  const endpoints = await expandTargets(config.targets, createResolver(config.dns, config.scan.timeoutMs));
  const withConfig = await sample();

  const scanner = new Scanner(config);
  const baseline = await BaselineStore.open(config.state.path, nullLogger);
  const metrics = createMetrics({ version: 'bench' });
  const alerting = new Alerting(config, metrics, nullLogger);
  const scanLog = new ScanLog(nullLogger);
  let status: StatusSnapshot | null = null;

  const holders: Record<string, number> = { config: withConfig.heap - start.heap };
  const rows: Sample[] = [];
  process.stderr.write(`${n} endpoints, ${leafCount} distinct leaves, ${scans} scans\n${'MB after GC'.padEnd(34)}    heap external  buffers     rss\n`);
  process.stderr.write(`${line('start', start)}\n${line('config and endpoints', withConfig)}\n`);
  for (let s = 0; s < scans; s++) {
    let scan = await scanner.scanProbes(syntheticProbes(endpoints, s), { baseline });
    const first = s === 0;
    const before = first ? await sample() : null;
    const entries = baseline.entries();
    await metrics.updateFromScan(scan, entries);
    // The compressed forms are made in the background; what is held is what is left once they are.
    await metrics.scrape(true);
    const afterMetrics = first ? await sample() : null;
    status = buildStatus(scan, { entries, recentChanges: baseline.recentChanges(STATUS_CHANGES) });
    scanLog.finished(scan, status.report.summary, 'schedule');
    await statusJson(status, true);
    const afterStatus = first ? await sample() : null;
    await baseline.save();
    alerting.afterScan(scan);
    if (first) {
      const afterAlerting = await sample();
      holders['scan result (until published)'] = before!.heap - withConfig.heap;
      holders.metrics = afterMetrics!.heap + afterMetrics!.external - before!.heap - before!.external;
      holders.status = afterStatus!.heap - afterMetrics!.heap;
      holders.alerting = afterAlerting.heap - afterStatus!.heap;
    }
    scan = null as never;
    const row = await sample();
    rows.push(row);
    process.stderr.write(`${line(`after scan ${s + 1}`, row)}\n`);
  }
  process.stderr.write(`first scan, heap (metrics: heap + external) added by each holder, MB:\n`);
  for (const [k, v] of Object.entries(holders)) process.stderr.write(`  ${k.padEnd(32)} ${mb(v)}\n`);
  await alerting.stop();
  await baseline.close();
  if (status === null) throw new Error('no scan published');
  console.log(JSON.stringify({ endpoints: n, leaves: leafCount, start, holders, scans: rows }));
} finally {
  await rm(dir, { recursive: true, force: true });
}

/**
 * What the probes of one scan return: each presented certificate copied out of the handshake
 * into a small Buffer, as the byte-stream capture does, between the other small Buffers a
 * handshake allocates (so that a stored copy shares its pool slab with short-lived bytes).
 */
function syntheticProbes(endpoints: Endpoint[], scan: number): ProbeResult[] {
  const scratch: Buffer[] = [];
  return endpoints.map((endpoint, i) => {
    const startedAt = new Date();
    const base = { endpoint, startedAt, durationMs: 3 + ((i + scan) % 7) };
    if (i % 20 === 10) return { ...base, presented: [], tls: null, stapledOcsp: null, error: { kind: 'timeout', message: 'no answer within 5s' } };
    scratch.length = 0;
    scratch.push(Buffer.from(`handshake record ${i}`.repeat(12)));
    const leaf = Buffer.from(leaves[i % leafCount]!.der);
    scratch.push(Buffer.from(`server key exchange ${i}`.repeat(8)));
    const intermediate = Buffer.from(ca.der);
    const tls = { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', completed: true, alert: null };
    return { ...base, presented: [leaf, intermediate], tls, stapledOcsp: null, error: null };
  });
}
