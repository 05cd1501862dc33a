// `npm run bench`: runs every test/bench/*.bench.ts in its own process (`node --import tsx`),
// one after another so they do not compete for CPU, and exits non-zero if any benchmark misses
// its target. `npm run bench -- probe` runs only the files whose name contains a word given.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
process.chdir(root);

const filters = process.argv.slice(2);
const files = readdirSync('test/bench')
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((w) => f.includes(w)))
  .sort()
  .map((f) => join('test/bench', f));
if (files.length === 0) {
  console.error('no benchmarks found in test/bench');
  process.exit(1);
}

const failed = [];
for (const file of files) {
  console.log(`\n▶ ${file}`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', file], { stdio: 'inherit' });
  if (run.status !== 0) failed.push(`${file} (${run.signal ?? `exit ${run.status}`})`);
}
if (failed.length > 0) {
  console.error(`\nbenchmarks that missed their target or failed: ${failed.join(', ')}`);
  process.exit(1);
}
console.log(`\nall ${files.length} benchmark(s) met their targets`);
