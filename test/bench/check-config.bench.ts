// Start-up: `chainwatch check-config` as a whole process (the build in dist/, npm run build
// first) on fleets of 1, 2,000 and 10,000 targets, in the two styles big configs are written in
// (one flow mapping per line, and block mappings), against a bare `node -e 0` in the same rounds.
// The judged figure is the ratio to bare node (median of per-round ratios: both ran under the
// same load), so a slow or busy machine moves the baseline, not the verdict; the targets are the
// wall times asked for (0.2 s, 0.4 s, well under 1 s) over bare node's 0.08 s on the reference
// machine. BENCH_ROUNDS (default 7).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from './support.js';

const CLI = 'dist/src/cli/main.js';
const rounds = Number(process.env.BENCH_ROUNDS ?? 7);

/** Bare node's wall time on the reference machine (2 cores, idle), against which the targets were set. */
const BARE_S = 0.08;

/** Wall seconds check-config may take on the reference machine, as a multiple of bare node there. */
const TARGETS = [
  { targets: 1, style: 'flow', maxS: 0.2 },
  { targets: 2_000, style: 'flow', maxS: 0.4 },
  { targets: 2_000, style: 'block', maxS: 0.4 },
  { targets: 10_000, style: 'flow', maxS: 0.8 },
  { targets: 10_000, style: 'block', maxS: 0.8 },
].map((t) => ({ ...t, style: t.style as 'flow' | 'block', maxRatio: t.maxS / BARE_S }));

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
  console.log('  targets  style   bare    check   above bare   ratio   target');
  let failed = false;
  for (const c of cases) {
    const extra = median(c.times.map((t, i) => t - c.bare[i]!));
    const ratio = median(c.times.map((t, i) => t / c.bare[i]!));
    const ok = ratio <= c.maxRatio;
    failed ||= !ok;
    console.log(
      `  ${String(c.targets).padStart(7)}  ${c.style.padEnd(5)}  ${median(c.bare).toFixed(3)}  ${median(c.times).toFixed(3)}  ${extra.toFixed(3).padStart(10)}  ${ratio.toFixed(1).padStart(5)}×  ≤ ${c.maxRatio.toFixed(1)}× (${c.maxS} s at ${BARE_S} s bare)${ok ? '' : '  MISSED'}`,
    );
  }
  if (failed) {
    console.error('  FAIL: check-config took more than its target, as a multiple of bare node');
    process.exitCode = 1;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
