// The probe process started by probeAllIsolated (isolated.ts): probes the endpoints it is sent with
// the native capture and streams the results back in batches, then waits for the parent to hang up.
import type { FromProber, SentResult, ToProber } from './isolated.js';
import { probeAll } from './probe-all.js';

/** A batch goes back when it is this big or this old: few messages, steady progress. */
const BATCH_SIZE = 256;
const BATCH_MS = 50;

const send = (m: FromProber): void => {
  process.send?.(m);
};
const abort = new AbortController();
let batch: [number, SentResult][] = [];
let flushTimer: NodeJS.Timeout | null = null;

function flush(): void {
  if (flushTimer !== null) clearTimeout(flushTimer);
  flushTimer = null;
  if (batch.length === 0) return;
  send({ type: 'results', batch });
  batch = [];
}

// The parent is gone or finished with us: nothing left to report to.
process.on('disconnect', () => {
  abort.abort();
  process.exit(0);
});

process.on('message', (m: ToProber) => {
  if (m.type === 'cancel') {
    abort.abort();
    return;
  }
  const index = new Map(m.endpoints.map((e, i) => [e, i]));
  void probeAll(m.endpoints, {
    timeoutMs: m.timeoutMs,
    concurrency: m.concurrency,
    signal: abort.signal,
    onInternalError: (endpoint, err) =>
      send({
        type: 'internal',
        index: index.get(endpoint)!,
        message: err instanceof Error ? err.message : String(err),
        stack: err instanceof Error ? err.stack : undefined,
      }),
    onResult: (result) => {
      const { endpoint, ...sent } = result;
      batch.push([index.get(endpoint)!, sent]);
      // probeAll keeps every result until the scan ends, and nobody here reads it again: let
      // the certificates go once they are on their way (a tenth of this process at 10k).
      result.presented = [];
      result.stapledOcsp = null;
      if (batch.length >= BATCH_SIZE) flush();
      else flushTimer ??= setTimeout(flush, BATCH_MS);
    },
  }).then(() => {
    flush();
    send({ type: 'done' });
  });
});
