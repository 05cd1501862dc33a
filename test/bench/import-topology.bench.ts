// import-topology at scale: a 1,000-server topology against a 100-server one, imported in the same
// run, interleaved. Linear work makes the ratio about 10; anything quadratic (a lookup per target
// over all targets) would make it about 100. The absolute times are printed for the record only:
// on a shared machine they say little.
import { importTopology } from '../../src/topology/index.js';
import { largeTopology } from '../topology/support.js';
import { median } from './support.js';

const TARGET_RATIO = 20;
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);

const small = largeTopology(1, 98); // 100 servers
const large = largeTopology(10, 98); // 1,000 servers

function time(xml: string): number {
  const t0 = performance.now();
  importTopology(xml);
  return performance.now() - t0;
}

time(small); // warm-up: JIT
const smallMs: number[] = [];
const largeMs: number[] = [];
for (let round = 0; round < rounds; round++) {
  if (round % 2 === 0) {
    smallMs.push(time(small));
    largeMs.push(time(large));
  } else {
    largeMs.push(time(large));
    smallMs.push(time(small));
  }
}
const ratio = median(largeMs) / median(smallMs);
console.log(`import-topology: 100 vs 1,000 servers (${(large.length / 1e6).toFixed(1)} MB of XML), ${rounds} rounds`);
console.log(`  100 servers     ${median(smallMs).toFixed(0).padStart(6)} ms   rounds: ${smallMs.map((x) => x.toFixed(0)).join(' ')}`);
console.log(`  1,000 servers   ${median(largeMs).toFixed(0).padStart(6)} ms   rounds: ${largeMs.map((x) => x.toFixed(0)).join(' ')}`);
console.log(`  1,000 / 100 = ${ratio.toFixed(1)} (target ≤ ${TARGET_RATIO}; linear is 10)`);
if (!(ratio <= TARGET_RATIO)) {
  console.error(`  FAIL: ten times the servers took ${ratio.toFixed(1)} times as long`);
  process.exitCode = 1;
}
