import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ScanReason, ScanScheduler } from '../../src/daemon/scheduler.js';
import { nullLogger } from '../../src/log/logger.js';

function gate() {
  let open!: () => void;
  const p = new Promise<void>((r) => (open = r));
  return { p, open };
}

test('a reload during a scan runs once, right after it; stop waits for the running scan', async () => {
  const runs: ScanReason[] = [];
  const gates: ReturnType<typeof gate>[] = [];
  let concurrent = 0;
  let maxConcurrent = 0;
  const s = new ScanScheduler({
    schedule: '0 0 1 1 *',
    log: nullLogger,
    scan: async (reason) => {
      runs.push(reason);
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      const g = gate();
      gates.push(g);
      await g.p;
      concurrent--;
      if (reason === 'reload') throw new Error('a failing scan must not stop the scheduler');
    },
  });
  s.start();
  assert.deepEqual(runs, ['start']);
  assert.equal(s.running, true);
  s.triggerNow('reload');
  s.triggerNow('reload');
  assert.deepEqual(runs, ['start'], 'nothing runs beside the running scan');
  gates[0]!.open();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(runs, ['start', 'reload'], 'the remembered reload runs once, at once');
  gates[1]!.open();
  await s.idle();
  assert.equal(s.running, false);

  s.triggerNow('reload');
  assert.equal(s.running, true);
  let stopped = false;
  const stopping = s.stop().then(() => (stopped = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(stopped, false, 'stop waits for the scan in flight');
  gates[2]!.open();
  await stopping;
  s.triggerNow('reload');
  assert.deepEqual(runs, ['start', 'reload', 'reload']);
  assert.equal(maxConcurrent, 1);
});
