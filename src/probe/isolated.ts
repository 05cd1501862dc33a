import { type ChildProcess, fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import type { Endpoint } from '../targets/types.js';
import { CollectedResults, launchOrder, type ProbeAllOptions, startFirst } from './probe-all.js';
import type { ProbeResult } from './types.js';

/**
 * Parent → child: settings, then endpoints dealt a few at a time (with their index in the scan),
 * then that no more will come; or a cancel at any time.
 */
export type ToProber =
  | { type: 'start'; timeoutMs: number; concurrency: number }
  | { type: 'endpoints'; endpoints: [index: number, endpoint: Endpoint][] }
  | { type: 'last' }
  | { type: 'cancel' };

/** What the child sends back of a result; the parent puts its own Endpoint object back. */
export type SentResult = Omit<ProbeResult, 'endpoint'>;

/** Child → parent: results in batches, a bug report, all sent. */
export type FromProber =
  | { type: 'results'; batch: [index: number, result: SentResult][] }
  | { type: 'internal'; index: number; message: string; stack: string | undefined }
  | { type: 'done' };

export interface IsolatedOptions extends ProbeAllOptions {
  /** At most this many probe processes (see probeProcessCount); one when absent. */
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

/**
 * How many probe processes a scan starts: at most `processes`, never more than connections
 * in flight, and one per ENDPOINTS_PER_PROCESS endpoints.
 */
export function probeProcessCount(total: number, concurrency: number, processes: number): number {
  return Math.max(1, Math.min(Math.floor(processes), Math.floor(concurrency), Math.ceil(total / ENDPOINTS_PER_PROCESS)));
}

/** Each process's part of the connections in flight; together exactly `concurrency`. */
export function concurrencyShares(concurrency: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => Math.floor(concurrency / count) + (i < concurrency % count ? 1 : 0));
}

/**
 * probeAll in short-lived child processes, started for one scan, with the native capture.
 *
 * Node 20's getPeerX509Certificate() leaks about 5 KB of native memory per handshake (the issuer
 * copies are never freed; test/bench/native-capture-leak.ts measures it; Node 24 does not, but
 * the package supports 20). A daemon that probes a fleet every few minutes for months cannot keep
 * that in its own process, and reading every chain from the byte stream instead costs a quarter
 * more client CPU. In a child the leak ends with the scan.
 *
 * That read is also most of what a probe costs beyond the handshake (on Node 20 a third more
 * client CPU), and one process runs on one core. With several probe processes the probing uses
 * the other cores, and this process analyses the chains that have already come back.
 *
 * Endpoints are dealt as the processes ask for them, never split up front: the slow endpoints of
 * a fleet (black holes, a site that is down) fall in patterns a fixed split would give to one
 * process. Each process has its share of the concurrency, so the fleet sees no more connections
 * at once than scan.concurrency says.
 *
 * Behaves as probeAll: every endpoint gets a result, in input order; an abort cancels. A
 * process that dies leaves the endpoints it held with an `internal` error; the others go on
 * with the rest.
 */
export async function probeAllIsolated(endpoints: Endpoint[], opts: IsolatedOptions): Promise<ProbeResult[]> {
  const total = endpoints.length;
  const collected = new CollectedResults(total, opts.onResult);
  if (total === 0) return collected.results;
  const startedAt = new Date();
  const shares = concurrencyShares(opts.concurrency, probeProcessCount(total, opts.concurrency, opts.processes ?? 1));
  const dealer = new Dealer(endpoints, opts.first ?? [], shares.length);
  const accept = (index: number, sent: SentResult): void => {
    if (!Number.isInteger(index) || index < 0 || index >= total || collected.results[index] !== undefined) return;
    collected.add(index, { endpoint: endpoints[index]!, ...sent });
  };
  const endings = await Promise.all(shares.map((concurrency, n) => runProbeProcess(n, concurrency, dealer, opts, accept)));

  // Every endpoint gets a result, even when no process answered for it.
  const cancelled = opts.signal?.aborted ?? false;
  for (let i = 0; i < total && collected.done < total; i++) {
    if (collected.results[i] !== undefined) continue;
    const owner = dealer.owner[i]!;
    const why = endings[owner === -1 ? endings.length - 1 : owner];
    const error = cancelled
      ? { kind: 'cancelled' as const, message: 'the scan was cancelled before this endpoint was probed' }
      : {
          kind: 'internal' as const,
          message: `${why} before this endpoint was probed; the next scan starts a new one. If nothing killed it (the out-of-memory killer, an operator), this is a chainwatch bug — please report it`,
        };
    accept(i, { startedAt, durationMs: 0, presented: [], tls: null, stapledOcsp: null, error });
  }
  if (collected.callbackError !== null) throw collected.callbackError;
  return collected.results;
}

/**
 * The scan's endpoints not yet dealt, and which process each dealt one went to. The endpoints to
 * start first are spread over the processes in turn, at the head of each one's first deal, so
 * that no one process spends all its connections on them; a process that has run out of its own
 * takes the others' before it is told there are no more.
 */
class Dealer {
  private next = 0;
  private readonly order: number[];
  private readonly early: number[][];
  readonly owner: Int16Array;

  constructor(
    readonly endpoints: Endpoint[],
    first: readonly number[],
    processes: number,
  ) {
    this.owner = new Int16Array(endpoints.length).fill(-1);
    const early = startFirst(endpoints.length, first);
    this.early = Array.from({ length: processes }, (_, p) => early.filter((_, i) => i % processes === p));
    this.order = launchOrder(endpoints.length, early).slice(early.length);
  }

  get empty(): boolean {
    return this.next >= this.order.length && this.early.every((e) => e.length === 0);
  }

  deal(to: number, count: number): [number, Endpoint][] {
    const dealt: [number, Endpoint][] = [];
    const own = this.early[to] ?? [];
    while (dealt.length < count) {
      const index = own.shift() ?? (this.next < this.order.length ? this.order[this.next++] : this.early.find((q) => q.length > 0)?.shift());
      if (index === undefined) break;
      this.owner[index] = to;
      dealt.push([index, this.endpoints[index]!]);
    }
    return dealt;
  }
}

/**
 * One probe process. It holds endpoints for its connections in flight and three times as many
 * more (a few hundred milliseconds of probing), so that it never waits for the next deal while
 * its results are on their way. Resolves,
 * with how the process ended, once it has exited and its channel is drained, so that no message
 * it sent is lost and no probe process outlives its scan.
 */
function runProbeProcess(
  n: number,
  concurrency: number,
  dealer: Dealer,
  opts: IsolatedOptions,
  accept: (index: number, sent: SentResult) => void,
): Promise<string> {
  const holding = 4 * concurrency + 64;
  return new Promise((resolve) => {
    let settled = false;
    let killTimer: NodeJS.Timeout | null = null;
    let held = 0;
    let toldLast = false;

    const complete = (why: string): void => {
      if (settled) return;
      settled = true;
      if (killTimer !== null) clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (child?.connected) child.disconnect();
      resolve(why);
    };

    const topUp = (): void => {
      if (!child?.connected || opts.signal?.aborted) return;
      const dealt = dealer.deal(n, holding - held);
      held += dealt.length;
      if (dealt.length > 0) child.send({ type: 'endpoints', endpoints: dealt } satisfies ToProber);
      if (dealer.empty && !toldLast) {
        toldLast = true;
        child.send({ type: 'last' } satisfies ToProber);
      }
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
      if (m.type === 'results') {
        for (const [index, sent] of m.batch) accept(index, sent);
        held -= m.batch.length;
        topUp();
      } else if (m.type === 'internal') {
        const endpoint = dealer.endpoints[m.index];
        if (endpoint === undefined) return;
        const err = new Error(m.message);
        err.stack = m.stack;
        opts.onInternalError?.(endpoint, err);
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
    child.send({ type: 'start', timeoutMs: opts.timeoutMs, concurrency } satisfies ToProber);
    topUp();
    if (opts.signal?.aborted) onAbort();
  });
}
