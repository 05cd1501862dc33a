// The daemon's JavaScript heap across many scans of one fixed loopback fleet, sampled after a
// forced GC at the same point of every scan (when it logs "scan finished"). Prints one JSON line:
// { scans, heap: [bytes per scan], rss: [...], external: [...] }.
//
// Run: node --expose-gc --import tsx test/bench/daemon-heap.ts   (HEAP_SCANS, default 50;
// HEAP_TARGETS, default 30). test/daemon/memory.test.ts runs it and judges the growth.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon } from '../../src/daemon/daemon.js';
import { createLogger } from '../../src/log/logger.js';
import { startLoopbackFleet, writeFleetConfig } from './loopback-fleet.js';

const scans = Number(process.env.HEAP_SCANS ?? 50);
const targets = Number(process.env.HEAP_TARGETS ?? 30);
const gc = globalThis.gc;
if (!gc) throw new Error('run with --expose-gc');

const fleet = await startLoopbackFleet();
const dir = await mkdtemp(join(tmpdir(), 'chainwatch-heap-'));
const heap: number[] = [];
const rss: number[] = [];
const external: number[] = [];
let finish!: () => void;
const done = new Promise<void>((r) => (finish = r));
try {
  const file = await writeFleetConfig({ dir, fleet, targets: Array.from({ length: targets }, (_, i) => i), shift: 0, schedule: '* * * * * *' });
  const log = createLogger({
    level: 'info',
    format: 'json',
    sink: {
      write(line: string) {
        if (!line.includes('"msg":"scan finished"') || heap.length >= scans) return;
        gc();
        const m = process.memoryUsage();
        heap.push(m.heapUsed);
        rss.push(m.rss);
        external.push(m.external);
        if (heap.length === scans) finish();
      },
    },
  });
  const daemon = await startDaemon(file, { log, watchConfig: false });
  await done;
  await daemon.stop();
  console.log(JSON.stringify({ scans, targets, heap, rss, external }));
} finally {
  await fleet.close();
  await rm(dir, { recursive: true, force: true });
}
