// Child process for the crash test: saves generation after generation of a 50-endpoint baseline
// as fast as it can, until it is killed. Every generation renews every leaf.

import { BaselineStore } from '../../src/fleet/baseline-store.js';
import { createLogger } from '../../src/log/logger.js';
import { CA01, result } from './results.js';

const dir = process.argv[2]!;
const store = await BaselineStore.open(dir, createLogger({ level: 'error' }));
let generation = Math.max(0, ...store.entries().map((e) => Number(e.current.leafSha256.split('-')[1])));
for (;;) {
  generation += 1;
  const results = Array.from({ length: 50 }, (_, i) => result({ target: `t${i}`, group: 'g', issuer: CA01, leaf: `gen-${generation}` }));
  store.apply(results, new Date(), 7 * 86_400_000);
  await store.save();
  if (generation % 5 === 0) process.stdout.write(`saved ${generation}\n`);
}
