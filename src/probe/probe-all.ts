import type { Endpoint } from '../targets/types.js';
import { type RunningProbe, startProbe } from './run.js';
import type { ProbeResult } from './types.js';

export interface ProbeAllOptions {
  timeoutMs: number;
  /** Connections in flight at once. */
  concurrency: number;
  signal?: AbortSignal;
  /**
   * Indices of endpoints to start before the others, e.g. those that ran into the timeout last
   * scan: their wait then overlaps the rest of the scan instead of trailing after it.
   */
  first?: readonly number[];
  onResult?: (result: ProbeResult, done: number, total: number) => void;
  /** Told about a bug of ours (the result says `internal`), with the error and its stack. */
  onInternalError?: (endpoint: Endpoint, err: unknown) => void;
}

/**
 * Probes every endpoint with at most `concurrency` connections in flight; a slow endpoint holds
 * one slot, never the whole scan. Results come back in input order. Aborting cancels the probes
 * in flight and those not started, each of which still gets a result.
 */
export function probeAll(endpoints: Endpoint[], opts: ProbeAllOptions): Promise<ProbeResult[]> {
  const total = endpoints.length;
  const collected = new CollectedResults(total, opts.onResult);
  if (total === 0) return Promise.resolve(collected.results);
  const active = new Set<RunningProbe>();
  const order = launchOrder(total, opts.first ?? []);
  let next = 0;
  let cancelled = opts.signal?.aborted ?? false;

  return new Promise((resolve, reject) => {
    // One listener for the whole scan: a listener per probe would pile up on a shared signal.
    const onAbort = (): void => {
      cancelled = true;
      for (const probe of [...active]) probe.cancel();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    const launch = (): void => {
      const index = order[next++]!;
      const endpoint = endpoints[index]!;
      const probe = startProbe(endpoint, { timeoutMs: opts.timeoutMs, onInternalError: opts.onInternalError });
      active.add(probe);
      if (cancelled) probe.cancel();
      void probe.result.then((result) => {
        active.delete(probe);
        collected.add(index, result);
        if (next < total) launch();
        else if (collected.done === total) {
          opts.signal?.removeEventListener('abort', onAbort);
          if (collected.callbackError !== null) reject(collected.callbackError);
          else resolve(collected.results);
        }
      });
    };
    const workers = Math.max(1, Math.min(Math.floor(opts.concurrency) || 1, total));
    for (let i = 0; i < workers; i++) launch();
  });
}

/** The indices of `first` that name an endpoint, each once, in their order. */
export function startFirst(total: number, first: readonly number[]): number[] {
  return [...new Set(first.filter((i) => Number.isInteger(i) && i >= 0 && i < total))];
}

/** The order in which endpoints start: those of `first`, then the others in input order. */
export function launchOrder(total: number, first: readonly number[]): number[] {
  const order = startFirst(total, first);
  const taken = new Set(order);
  for (let i = 0; i < total; i++) if (!taken.has(i)) order.push(i);
  return order;
}

/**
 * A scan's probe results in input order, each told to `onResult` as it arrives. A callback that
 * throws must not lose the results still to come: its error is kept to fail the scan at the end.
 */
export class CollectedResults {
  readonly results: ProbeResult[];
  done = 0;
  callbackError: unknown = null;

  constructor(
    readonly total: number,
    private readonly onResult: ProbeAllOptions['onResult'],
  ) {
    this.results = new Array<ProbeResult>(total);
  }

  add(index: number, result: ProbeResult): void {
    this.results[index] = result;
    this.done++;
    try {
      this.onResult?.(result, this.done, this.total);
    } catch (err) {
      this.callbackError ??= err;
    }
  }
}
