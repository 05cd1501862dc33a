// `npm test`: install what the tests need, type-check src and tests, then run every
// test/**/*.test.ts file with Node's test runner.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureSystemDeps } from './system-deps.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
process.chdir(root);

function findTests(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'bench' && entry.name !== 'node_modules') out.push(...findTests(path));
    else if (entry.isFile() && entry.name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out.sort();
}

ensureSystemDeps();

console.log('linting and format-checking (npm run lint)');
const lint = spawnSync(process.execPath, ['node_modules/@biomejs/biome/bin/biome', 'check', '.'], { stdio: 'inherit' });
if (lint.status !== 0) {
  console.error('lint or formatting failed: `npx biome check --write .` fixes what it can');
  process.exit(lint.status ?? 1);
}

console.log('type-checking src and test');
const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'test/tsconfig.json'], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

// A filter such as `npm test -- probe` runs only the files whose path contains a word given.
const filters = process.argv.slice(2);
const files = findTests('test').filter((f) => filters.length === 0 || filters.some((w) => f.includes(w)));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=180000', ...files], {
  stdio: 'inherit',
  env: { ...process.env, CHAINWATCH_TEST: '1' },
});
process.exit(run.status ?? 1);
