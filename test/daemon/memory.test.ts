// Memory over many scans: the daemon's heap across 50 scans of a fixed fleet, what it holds for
// 10,000 synthetic endpoints, and the cost of the fleet half of /metrics at 10,000 endpoints. All
// are gross bounds (10 % growth, twice what is held now, 1 s of CPU where the render takes about a
// third of that) that only a leak, a document kept twice or an accidental quadratic can cross,
// whatever else the machine is doing. The size of that text is exact (the synthetic fleet is
// deterministic), so its bound catches labels creeping back.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { readBody } from '../../src/output/body.js';
import { createMetrics } from '../../src/output/metrics.js';
import { median } from '../bench/support.js';
import { syntheticScan } from '../output/synthetic-fleet.js';

test('the heap does not grow across 50 scans of a fixed fleet', () => {
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'test/bench/daemon-heap.ts'], {
    encoding: 'utf8',
    env: { ...process.env, HEAP_SCANS: '50' },
    timeout: 170_000,
  });
  const { heap } = JSON.parse(out.trim().split('\n').pop()!) as { heap: number[] };
  assert.equal(heap.length, 50);
  // Medians of five samples after warm-up (parse caches, JIT) against the last five.
  const early = median(heap.slice(5, 10));
  const late = median(heap.slice(45, 50));
  assert.ok(late <= early * 1.1, `heap grew from ${(early / 1048576).toFixed(1)} MB to ${(late / 1048576).toFixed(1)} MB over 40 scans: ${heap.join(' ')}`);
});

test('what the daemon holds for 10,000 endpoints between scans stays under 40 MB and flat', () => {
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'test/bench/fleet-memory.ts'], {
    encoding: 'utf8',
    env: { ...process.env, MEM_ENDPOINTS: '10000', MEM_LEAVES: '50', MEM_SCANS: '4' },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 170_000,
  });
  type Sample = { heap: number; external: number };
  const { start, scans } = JSON.parse(out.trim().split('\n').pop()!) as { start: Sample; scans: Sample[] };
  const held = scans.map((s) => s.heap + s.external - start.heap - start.external);
  const mb = (b: number) => (b / 1048576).toFixed(1);
  // Config, baseline, parse cache, the published report, /metrics and /api/v1/status: about 20 MB.
  // Keeping the status JSON as text, or the /metrics text beside its gzip form, adds 20 MB each.
  assert.ok(held[3]! <= 40 * 1048576, `the daemon holds ${mb(held[3]!)} MB for 10,000 endpoints`);
  assert.ok(held[3]! <= held[1]! * 1.1, `held memory grew from ${mb(held[1]!)} MB to ${mb(held[3]!)} MB`);
});

test('/metrics for 10,000 endpoints renders within 1 s; the gzip form is the same text', async () => {
  const m = createMetrics({ version: 'test', processMetrics: false });
  const { scan, baseline } = syntheticScan(10_000);
  // CPU time, not wall time: on a busy machine the wall clock measures the neighbours.
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const c0 = process.cpuUsage();
    await m.updateFromScan(scan, baseline);
    await readBody((await m.scrape(false)).body);
    const c = process.cpuUsage(c0);
    times.push((c.user + c.system) / 1000);
  }
  assert.ok(median(times) < 1000, `render took ${times.map(Math.round).join(', ')} ms of CPU`);
  const plain = await readBody((await m.scrape(false)).body);
  const gzipped = await m.scrape(true);
  assert.equal(gzipped.encoding, 'gzip');
  assert.ok(gunzipSync(await readBody(gzipped.body)).equals(plain), 'the gzip members decompress to the plain text');
  const text = plain.toString('utf8');
  assert.equal(text.split('\n').filter((l) => l.startsWith('chainwatch_probe_success{')).length, 10_000);
});

test('/metrics for 10,000 endpoints stays under 20 MB of text: 12 series per healthy endpoint, identity on not_after only', async () => {
  const m = createMetrics({ version: 'test', processMetrics: false });
  const { scan, baseline } = syntheticScan(10_000);
  await m.updateFromScan(scan, baseline);
  const plain = await readBody((await m.scrape(false)).body);
  const gzipped = await readBody((await m.scrape(true)).body);
  // The synthetic fleet's labels are deterministic, so the size is too (19.6 MB, 1.6 MB gzip);
  // the certificate labels back on not_before would be 21 MB.
  assert.ok(plain.length <= 20_000_000, `/metrics is ${(plain.length / 1e6).toFixed(2)} MB at 10,000 endpoints`);
  assert.ok(gzipped.length <= 2_000_000, `/metrics is ${(gzipped.length / 1e6).toFixed(2)} MB gzipped at 10,000 endpoints`);
  const healthy = scan.endpoints.find((r) => r.analysis !== null)!.probe.endpoint;
  const own = `{target="${healthy.target}",group="${healthy.group}",address="${healthy.address}"`;
  const series = plain
    .toString('utf8')
    .split('\n')
    .filter((l) => l.includes(`${own},`) || l.includes(`${own}}`));
  assert.equal(series.length, 12, series.join('\n'));
});
