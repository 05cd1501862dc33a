// Start-up: `chainwatch check-config` as a whole process (the build in dist/, npm run build
// first) on fleets of 1, 2,000 and 10,000 targets, in the two styles big configs are written in
// (one flow mapping per line, and block mappings), against a bare `node -e 0` in the same rounds.
// The judged figure is the time above bare node (median of per-round differences: both ran
// under the same load), so a slow or busy machine moves the baseline, not the verdict.
// BENCH_ROUNDS (default 7).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from './support.js';

const CLI = 'dist/src/cli/main.js';
const rounds = Number(process.env.BENCH_ROUNDS ?? 7);

/** Seconds a config of this size may take above bare node: 0.2 s, 0.4 s and "well under 1 s" with node's own ~0.08 s. */
const TARGETS = [
  { targets: 1, style: 'flow', maxExtraS: 0.12 },
  { targets: 2_000, style: 'flow', maxExtraS: 0.32 },
  { targets: 2_000, style: 'block', maxExtraS: 0.32 },
  { targets: 10_000, style: 'flow', maxExtraS: 0.75 },
  { targets: 10_000, style: 'block', maxExtraS: 0.75 },
] as const;

function fleetConfig(count: number, style: 'flow' | 'block'): string {
  const lines = ['scan:', '  timeout: 5s', 'targets:'];
  for (let i = 0; i < count; i++) {
    const port = 30_000 + (i % 30_000);
    if (style === 'flow') lines.push(`  - {name: e${i}, group: fleet, host: fleet.contoso.test, address: 127.0.0.1, port: ${port}}`);
    else lines.push(`  - name: e${i}`, '    group: fleet', '    host: fleet.contoso.test', '    address: 127.0.0.1', `    port: ${port}`);
  }
  return `${lines.join('\n')}\n`;
}

function wallSeconds(args: string[]): number {
  const t0 = performance.now();
  const run = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const s = (performance.now() - t0) / 1000;
  if (run.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${run.status}: ${run.stderr}`);
  return s;
}

if (!existsSync(CLI)) {
  console.error(`check-config: ${CLI} is missing; run npm run build first`);
  process.exit(1);
}
const dir = mkdtempSync(join(tmpdir(), 'chainwatch-bench-check-'));
try {
  const cases = TARGETS.map((t) => {
    const file = join(dir, `${t.style}-${t.targets}.yaml`);
    writeFileSync(file, fleetConfig(t.targets, t.style));
    return { ...t, args: [CLI, 'check-config', '--config', file], times: [] as number[], bare: [] as number[] };
  });
  // Warm-up: the file cache and the compile cache, not judged.
  wallSeconds(['-e', '0']);
  for (const c of cases) wallSeconds(c.args);
  for (let round = 0; round < rounds; round++) {
    for (const c of round % 2 === 0 ? cases : [...cases].reverse()) {
      c.bare.push(wallSeconds(['-e', '0']));
      c.times.push(wallSeconds(c.args));
    }
  }
  console.log(`check-config start-up, wall seconds, median of ${rounds} rounds (bare = node -e 0 in the same rounds)`);
  console.log('  targets  style   bare    check   ratio   above bare   target');
  let failed = false;
  for (const c of cases) {
    const extra = median(c.times.map((t, i) => t - c.bare[i]!));
    const ratio = median(c.times.map((t, i) => t / c.bare[i]!));
    const ok = extra <= c.maxExtraS;
    failed ||= !ok;
    console.log(
      `  ${String(c.targets).padStart(7)}  ${c.style.padEnd(5)}  ${median(c.bare).toFixed(3)}  ${median(c.times).toFixed(3)}  ${ratio.toFixed(1).padStart(5)}×  ${extra.toFixed(3).padStart(10)}   ≤ ${c.maxExtraS.toFixed(2)}${ok ? '' : '  MISSED'}`,
    );
  }
  if (failed) {
    console.error('  FAIL: check-config took longer than its target above bare node');
    process.exitCode = 1;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
