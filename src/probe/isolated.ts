import { type ChildProcess, fork } from 'node:child_process';
import type { Endpoint } from '../targets/types.js';
import { CollectedResults, type ProbeAllOptions } from './probe-all.js';
import type { ProbeResult } from './types.js';

/** Parent → child: the scan to run, then possibly a cancel. */
export type ToProber = { type: 'probe'; endpoints: Endpoint[]; timeoutMs: number; concurrency: number } | { type: 'cancel' };

/** What the child sends back of a result; the parent puts its own Endpoint object back. */
export type SentResult = Omit<ProbeResult, 'endpoint'>;

/** Child → parent: results in batches (index into the endpoints sent), a bug report, all sent. */
export type FromProber =
  | { type: 'results'; batch: [index: number, result: SentResult][] }
  | { type: 'internal'; index: number; message: string; stack: string | undefined }
  | { type: 'done' };

/** How long a cancelled child gets to hand back its `cancelled` results before it is killed. */
const CANCEL_GRACE_MS = 5_000;

/**
 * probeAll in a short-lived child process, one per scan, with the native capture.
 *
 * Node 20's getPeerX509Certificate() leaks about 5 KB of native memory per handshake (the issuer
 * copies are never freed; test/bench/native-capture-leak.ts measures it). A daemon that probes a
 * fleet every few minutes for months cannot keep that in its own process, and reading every
 * chain from the byte stream instead costs a quarter more client CPU. In a child the leak ends
 * with the scan, and probing runs on another core while this process analyses the chains that
 * have already come back.
 *
 * Behaves as probeAll: every endpoint gets a result, in input order; an abort cancels. A
 * child that dies early leaves the endpoints it had not answered with an `internal` error.
 */
export function probeAllIsolated(endpoints: Endpoint[], opts: ProbeAllOptions): Promise<ProbeResult[]> {
  const total = endpoints.length;
  const collected = new CollectedResults(total, opts.onResult);
  if (total === 0) return Promise.resolve(collected.results);
  return new Promise((resolve, reject) => {
    let settled = false;
    let killTimer: NodeJS.Timeout | null = null;
    const startedAt = new Date();

    const accept = (index: number, sent: SentResult): void => {
      if (index < 0 || index >= total || collected.results[index] !== undefined) return;
      collected.add(index, { endpoint: endpoints[index]!, ...sent });
    };

    // Every endpoint gets a result, even when the child never answered for it.
    const complete = (why: string): void => {
      if (settled) return;
      settled = true;
      if (killTimer !== null) clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      const cancelled = opts.signal?.aborted ?? false;
      for (let i = 0; i < total && collected.done < total; i++) {
        if (collected.results[i] !== undefined) continue;
        const error = cancelled
          ? { kind: 'cancelled' as const, message: 'the scan was cancelled before this endpoint was probed' }
          : {
              kind: 'internal' as const,
              message: `${why} before this endpoint was probed; the next scan starts a new one. If nothing killed it (the out-of-memory killer, an operator), this is a chainwatch bug — please report it`,
            };
        accept(i, { startedAt, durationMs: 0, presented: [], tls: null, stapledOcsp: null, error });
      }
      if (child?.connected) child.disconnect();
      if (collected.callbackError !== null) reject(collected.callbackError);
      else resolve(collected.results);
    };

    const onAbort = (): void => {
      if (!child?.connected) return;
      child.send({ type: 'cancel' } satisfies ToProber);
      killTimer = setTimeout(() => child?.kill('SIGKILL'), CANCEL_GRACE_MS);
      killTimer.unref();
    };

    let child: ChildProcess | undefined;
    try {
      child = fork(new URL('./isolated-child.js', import.meta.url), [], {
        // This process's node flags (a TypeScript loader under test), and a small young
        // generation: handshakes make short-lived garbage, and V8 would otherwise let it grow to
        // 32 MB of RSS per scan for nothing.
        execArgv: [...process.execArgv, '--max-semi-space-size=1'],
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
    } catch (err) {
      complete(`the probe process could not be started (${(err as Error).message})`);
      return;
    }
    child.on('message', (m: FromProber) => {
      if (m.type === 'results') for (const [index, sent] of m.batch) accept(index, sent);
      else if (m.type === 'internal') {
        const err = new Error(m.message);
        err.stack = m.stack;
        opts.onInternalError?.(endpoints[m.index]!, err);
      } else child?.disconnect(); // the child exits when it is let go
    });
    child.on('error', (err) => complete(`the probe process failed (${err.message})`));
    // Done when the process has exited and its channel is drained, so that no message it sent is
    // lost and no probe process outlives its scan. (A parent-side disconnect() means 'close' never
    // comes, hence the two events.)
    let ended: string | null = null;
    let drained = false;
    child.on('exit', (code, signal) => {
      ended = `the probe process ended early (${signal ?? `exit code ${code}`})`;
      if (drained) complete(ended);
    });
    child.on('disconnect', () => {
      drained = true;
      if (ended !== null) complete(ended);
    });
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.send({ type: 'probe', endpoints, timeoutMs: opts.timeoutMs, concurrency: opts.concurrency } satisfies ToProber);
    if (opts.signal?.aborted) onAbort();
  });
}
