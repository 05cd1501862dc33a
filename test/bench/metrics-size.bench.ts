// The size of /metrics: bytes per series family for one healthy endpoint, and the whole text,
// plain and gzip, at 1,000 and 10,000 synthetic endpoints of both fleet shapes (Lync-like names,
// and the fleet benchmark's e0… on 127.0.0.1). The text is deterministic, so these are exact;
// test/daemon/memory.test.ts holds the bound, this prints where the bytes go.
//
// Run: npm run bench -- metrics-size   (or: node --import tsx test/bench/metrics-size.bench.ts)
import { gzipSync } from 'node:zlib';
import { readBody } from '../../src/output/body.js';
import { createMetrics } from '../../src/output/metrics.js';
import { type FleetShape, syntheticScan } from '../output/synthetic-fleet.js';

async function render(n: number, shape: FleetShape): Promise<{ text: string; plain: number; gzip: number; endpointLabels: string }> {
  const m = createMetrics({ version: 'bench', processMetrics: false });
  const { scan, baseline } = syntheticScan(n, shape);
  await m.updateFromScan(scan, baseline);
  const plain = await readBody((await m.scrape(false)).body);
  const ep = scan.endpoints.find((r) => r.analysis !== null)!.probe.endpoint;
  return {
    text: plain.toString('utf8'),
    plain: plain.length,
    gzip: gzipSync(plain).length,
    endpointLabels: `{target="${ep.target}",group="${ep.group}",address="${ep.address}"`,
  };
}

const mb = (bytes: number): string => (bytes / 1e6).toFixed(2);

for (const shape of ['lync', 'loopback'] as const) {
  const one = await render(1_000, shape);
  const own = one.text.split('\n').filter((l) => l.includes(`${one.endpointLabels},`) || l.includes(`${one.endpointLabels}}`));
  const perFamily = new Map<string, { series: number; bytes: number }>();
  for (const line of own) {
    const name = line.slice(0, line.indexOf('{'));
    const f = perFamily.get(name) ?? { series: 0, bytes: 0 };
    f.series++;
    f.bytes += Buffer.byteLength(line) + 1;
    perFamily.set(name, f);
  }
  console.log(`\n${shape}: one healthy endpoint, ${own.length} series, ${own.reduce((s, l) => s + Buffer.byteLength(l) + 1, 0)} bytes`);
  for (const [name, f] of perFamily) console.log(`  ${name.padEnd(48)} ${String(f.series).padStart(2)} × ${String(f.bytes / f.series).padStart(5)} B`);
  const ten = await render(10_000, shape);
  console.log(`  1,000 endpoints: ${mb(one.plain)} MB, gzip ${mb(one.gzip)} MB; 10,000: ${mb(ten.plain)} MB, gzip ${mb(ten.gzip)} MB`);
}
