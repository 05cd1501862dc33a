import { type ChildProcess, fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
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

export interface IsolatedOptions extends ProbeAllOptions {
  /** At most this many probe processes (see shareOut); one when absent. */
  processes?: number;
}

/** How long a cancelled child gets to hand back its `cancelled` results before it is killed. */
const CANCEL_GRACE_MS = 5_000;

/**
 * A probe process costs about as much CPU to start as a hundred handshakes, so a process is
 * only worth starting for at least this many endpoints.
 */
const ENDPOINTS_PER_PROCESS = 128;

/** The default for scan.probe_processes: one per CPU this process may run on, at most four. */
export function defaultProbeProcesses(): number {
  return Math.min(4, availableParallelism());
}

/** One probe process's part of a scan: endpoint indices and its part of the concurrency. */
export interface Share {
  indices: number[];
  concurrency: number;
}

/**
 * Splits a scan between at most `processes` probe processes. Endpoints are dealt out in turn, so
 * a run of slow neighbours in the config (a site that is down) lands on every process alike, and
 * the shares of the concurrency add up to the configured one: the fleet sees no more
 * connections at once than `scan.concurrency` says.
 */
export function shareOut(total: number, concurrency: number, processes: number): Share[] {
  const count = Math.max(1, Math.min(Math.floor(processes), Math.floor(concurrency), Math.ceil(total / ENDPOINTS_PER_PROCESS)));
  const shares = Array.from(
    { length: count },
    (_, i): Share => ({
      indices: [],
      concurrency: Math.floor(concurrency / count) + (i < concurrency % count ? 1 : 0),
    }),
  );
  for (let i = 0; i < total; i++) shares[i % count]!.indices.push(i);
  return shares;
}

/**
 * probeAll in short-lived child processes, started for one scan, with the native capture.
 *
 * Node 20's getPeerX509Certificate() leaks about 5 KB of native memory per handshake (the issuer
 * copies are never freed; test/bench/native-capture-leak.ts measures it). A daemon that probes a
 * fleet every few minutes for months cannot keep that in its own process, and reading every
 * chain from the byte stream instead costs a quarter more client CPU. In a child the leak ends
 * with the scan.
 *
 * That read is also most of what a probe costs beyond the handshake (a third more client CPU),
 * and one process runs on one core. With several probe processes the probing uses the other
 * cores, and this process analyses the chains that have already come back.
 *
 * Behaves as probeAll: every endpoint gets a result, in input order; an abort cancels. A
 * child that dies early leaves the endpoints it had not answered with an `internal` error.
 */
export async function probeAllIsolated(endpoints: Endpoint[], opts: IsolatedOptions): Promise<ProbeResult[]> {
  const total = endpoints.length;
  const collected = new CollectedResults(total, opts.onResult);
  if (total === 0) return collected.results;
  const startedAt = new Date();
  const accept = (index: number, sent: SentResult): void => {
    if (index < 0 || index >= total || collected.results[index] !== undefined) return;
    collected.add(index, { endpoint: endpoints[index]!, ...sent });
  };
  const shares = shareOut(total, opts.concurrency, opts.processes ?? 1);
  const endings = await Promise.all(shares.map((share) => runProbeProcess(share, endpoints, opts, accept)));

  // Every endpoint gets a result, even when its process never answered for it.
  const cancelled = opts.signal?.aborted ?? false;
  for (const [n, share] of shares.entries()) {
    for (const i of share.indices) {
      if (collected.results[i] !== undefined) continue;
      const error = cancelled
        ? { kind: 'cancelled' as const, message: 'the scan was cancelled before this endpoint was probed' }
        : {
            kind: 'internal' as const,
            message: `${endings[n]} before this endpoint was probed; the next scan starts a new one. If nothing killed it (the out-of-memory killer, an operator), this is a chainwatch bug — please report it`,
          };
      accept(i, { startedAt, durationMs: 0, presented: [], tls: null, stapledOcsp: null, error });
    }
  }
  if (collected.callbackError !== null) throw collected.callbackError;
  return collected.results;
}

/**
 * One probe process for one share. Resolves, with how the process ended, once it has exited and
 * its channel is drained, so that no message it sent is lost and no probe process outlives its
 * scan.
 */
function runProbeProcess(share: Share, endpoints: Endpoint[], opts: IsolatedOptions, accept: (index: number, sent: SentResult) => void): Promise<string> {
  return new Promise((resolve) => {
    let settled = false;
    let killTimer: NodeJS.Timeout | null = null;

    const complete = (why: string): void => {
      if (settled) return;
      settled = true;
      if (killTimer !== null) clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (child?.connected) child.disconnect();
      resolve(why);
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
      if (m.type === 'results') for (const [n, sent] of m.batch) accept(share.indices[n] ?? -1, sent);
      else if (m.type === 'internal') {
        const index = share.indices[m.index];
        if (index === undefined) return;
        const err = new Error(m.message);
        err.stack = m.stack;
        opts.onInternalError?.(endpoints[index]!, err);
      } else child?.disconnect(); // the child exits when it is let go
    });
    child.on('error', (err) => complete(`the probe process failed (${err.message})`));
    // A parent-side disconnect() means 'close' never comes, hence the two events.
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
    child.send({
      type: 'probe',
      endpoints: share.indices.map((i) => endpoints[i]!),
      timeoutMs: opts.timeoutMs,
      concurrency: share.concurrency,
    } satisfies ToProber);
    if (opts.signal?.aborted) onAbort();
  });
}
