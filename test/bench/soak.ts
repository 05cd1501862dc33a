// Long run: `chainwatch run` (a child process, as operators run it) on a one-second schedule
// over a loopback fleet that churns — every SOAK_CHURN_S seconds the config is rewritten so that
// targets appear and vanish and a third of the fleet moves to a server with another certificate
// (renewals and issuer changes). Every 30 s (SOAK_SAMPLE_S) it samples the daemon's RSS, heap,
// external memory, open fds, active handles and timers (from its own /metrics), the number of
// fleet series and the RSS of the probe process the daemon starts for each scan (when one is
// running at that moment), and prints a row. At the end it prints the growth from the first sample after
// warm-up to the last and writes everything to .bench-results/soak.json.
//
// The daemon runs from dist/ (npm run build first), without the TypeScript loader and with the
// Node options of the systemd unit and the container image, so its memory is what an installed
// chainwatch uses.
//
// Run: npm run build && node --import tsx test/bench/soak.ts   (SOAK_SCANS, default 300; SOAK_TARGETS, 60)

import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseExposition, type Sample, select, value } from '../helpers/daemon-process.js';
import { DAEMON_NODE_OPTIONS } from './fleet-run.js';
import { startLoopbackFleet, writeFleetConfig } from './loopback-fleet.js';
import { childrenRssMb } from './support.js';

const scans = Number(process.env.SOAK_SCANS ?? 300);
const size = Number(process.env.SOAK_TARGETS ?? 60);
const churnMs = Number(process.env.SOAK_CHURN_S ?? 10) * 1000;
const sampleMs = Number(process.env.SOAK_SAMPLE_S ?? 30) * 1000;

interface Row {
  seconds: number;
  scans: number;
  rssMb: number;
  heapMb: number;
  externalMb: number;
  fds: number;
  handles: number;
  timers: number;
  series: number;
  /** RSS of the daemon's child processes (the probe process of a scan in flight); 0 between scans. */
  probeRssMb: number;
}

const fleet = await startLoopbackFleet();
const dir = await mkdtemp(join(tmpdir(), 'chainwatch-soak-'));
const rows: Row[] = [];
let stop = (): void => undefined;
try {
  let round = 0;
  // Two thirds of the targets are always there; the last third slides, so targets come and go.
  const window = (r: number): number[] => Array.from({ length: size }, (_, i) => (i < (2 * size) / 3 ? i : i + (r % 5) * 7));
  const config = (r: number) => writeFleetConfig({ dir, fleet, targets: window(r), shift: Math.floor(r / 3), schedule: '* * * * * *' });
  const file = await config(round);
  const daemon = spawn(process.execPath, ['dist/src/cli/main.js', 'run', '--config', file], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, LOG_LEVEL: 'info', NODE_OPTIONS: DAEMON_NODE_OPTIONS },
  });
  stop = () => daemon.kill('SIGKILL');
  const url = await new Promise<string>((resolve, reject) => {
    daemon.once('exit', (code) => reject(new Error(`chainwatch run exited with ${code}`)));
    createInterface({ input: daemon.stdout! }).on('line', (line) => {
      if (line.includes('"msg":"chainwatch started"')) resolve(String((JSON.parse(line) as { listen: string }).listen));
    });
  });
  const t0 = performance.now();
  const churn = setInterval(() => void config(++round), churnMs);

  const sample = async (): Promise<Row> => {
    const text = await (await fetch(`${url}/metrics`)).text();
    const s: Sample[] = parseExposition(text);
    const resources = (type: string) => select(s, 'nodejs_active_resources', { type }).reduce((n, x) => n + x.value, 0);
    return {
      seconds: Math.round((performance.now() - t0) / 1000),
      scans: value(s, 'chainwatch_scans_total'),
      rssMb: value(s, 'process_resident_memory_bytes') / 1048576,
      heapMb: value(s, 'nodejs_heap_size_used_bytes') / 1048576,
      externalMb: value(s, 'nodejs_external_memory_bytes') / 1048576,
      fds: value(s, 'process_open_fds'),
      handles: value(s, 'nodejs_active_handles_total'),
      timers: resources('Timeout'),
      series: s.filter((x) => x.name.startsWith('chainwatch_') && !x.name.startsWith('chainwatch_scan')).length,
      probeRssMb: await childrenRssMb(daemon.pid!),
    };
  };
  const print = (r: Row) =>
    console.log(
      `${String(r.seconds).padStart(6)} s ${String(r.scans).padStart(6)} scans  RSS ${r.rssMb.toFixed(1).padStart(6)} MB  heap ${r.heapMb.toFixed(1).padStart(5)} MB` +
        `  external ${r.externalMb.toFixed(1).padStart(5)} MB  fds ${String(r.fds).padStart(4)}  handles ${String(r.handles).padStart(4)}  timers ${String(r.timers).padStart(3)}  fleet series ${r.series}  probe process RSS ${r.probeRssMb.toFixed(1)} MB`,
    );
  console.log(`soak: ${size} targets (a third churning every ${churnMs / 1000} s), schedule every second, until ${scans} scans`);
  for (;;) {
    const row = await sample();
    rows.push(row);
    print(row);
    if (row.scans >= scans) break;
    await new Promise((r) => setTimeout(r, sampleMs));
  }
  clearInterval(churn);
  const first = rows[Math.min(1, rows.length - 1)]!;
  const last = rows[rows.length - 1]!;
  console.log(
    `growth from ${first.scans} to ${last.scans} scans: RSS ${(last.rssMb - first.rssMb).toFixed(1)} MB, heap ${(last.heapMb - first.heapMb).toFixed(1)} MB, ` +
      `external ${(last.externalMb - first.externalMb).toFixed(1)} MB, fds ${last.fds - first.fds}, handles ${last.handles - first.handles}, timers ${last.timers - first.timers}`,
  );
  await mkdir('.bench-results', { recursive: true });
  await writeFile('.bench-results/soak.json', `${JSON.stringify({ targets: size, churnSeconds: churnMs / 1000, rows }, null, 2)}\n`);
} finally {
  stop();
  await fleet.close();
  await rm(dir, { recursive: true, force: true });
}
