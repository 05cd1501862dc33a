// A probe process started by probeAllIsolated (isolated.ts): probes the endpoints it is dealt,
// at most `concurrency` at once, with the native capture, and streams the results back in
// batches until it is told there are no more, then waits for the parent to hang up.
import type { Endpoint } from '../targets/types.js';
import type { FromProber, SentResult, ToProber } from './isolated.js';
import { type RunningProbe, startProbe } from './run.js';

/** A batch goes back when it is this big or this old: few messages, steady progress. */
const BATCH_SIZE = 256;
const BATCH_MS = 50;

const send = (m: FromProber): void => {
  process.send?.(m);
};

let timeoutMs = 0;
let concurrency = 1;
let queue: [index: number, endpoint: Endpoint][] = [];
let head = 0;
const active = new Set<RunningProbe>();
let last = false;
let cancelled = false;
let finished = false;
let batch: [number, SentResult][] = [];
let flushTimer: NodeJS.Timeout | null = null;

function flush(): void {
  if (flushTimer !== null) clearTimeout(flushTimer);
  flushTimer = null;
  if (batch.length === 0) return;
  send({ type: 'results', batch });
  batch = [];
}

function waiting(): number {
  return queue.length - head;
}

function launch(): void {
  while (!cancelled && active.size < concurrency && head < queue.length) {
    const [index, endpoint] = queue[head++]!;
    const probe = startProbe(endpoint, {
      timeoutMs,
      onInternalError: (_endpoint, err) =>
        send({ type: 'internal', index, message: err instanceof Error ? err.message : String(err), stack: err instanceof Error ? err.stack : undefined }),
    });
    active.add(probe);
    void probe.result.then((result) => {
      active.delete(probe);
      const { endpoint: _sent, ...sent } = result;
      batch.push([index, sent]);
      // Running short of endpoints: the results go now, and the parent deals more for them
      // (unless it has said there are no more).
      if (batch.length >= BATCH_SIZE || (!last && waiting() < concurrency)) flush();
      else flushTimer ??= setTimeout(flush, BATCH_MS);
      launch();
      finishIfDone();
    });
  }
  if (head > 4096 && head * 2 > queue.length) {
    queue = queue.slice(head);
    head = 0;
  }
}

function finishIfDone(): void {
  if (finished || active.size > 0 || !(cancelled || (last && waiting() === 0))) return;
  finished = true;
  flush();
  send({ type: 'done' });
}

// The parent is gone or finished with us: nothing left to report to.
process.on('disconnect', () => {
  for (const probe of active) probe.cancel();
  process.exit(0);
});

process.on('message', (m: ToProber) => {
  switch (m.type) {
    case 'start':
      timeoutMs = m.timeoutMs;
      concurrency = m.concurrency;
      break;
    case 'endpoints':
      for (const dealt of m.endpoints) queue.push(dealt);
      launch();
      break;
    case 'last':
      last = true;
      finishIfDone();
      break;
    case 'cancel':
      cancelled = true;
      for (const probe of active) probe.cancel();
      finishIfDone();
      break;
  }
});
