import type { ProbeResult } from '../probe/types.js';
import type { Endpoint } from '../targets/types.js';

/**
 * Endpoints whose last probe took this share of the timeout or more are started first the next
 * time: a black hole or a slow server then waits while the rest of the fleet is probed, instead
 * of keeping the scan open for a whole timeout after the others are done.
 */
const SLOW_SHARE = 0.5;

/**
 * Connections left for the rest of the fleet while the slow endpoints wait. Starting them first
 * pays only when they all fit in one wave: when they do not, the later ones would start as the
 * first ones time out, and the scan would last two timeouts instead of spreading them out.
 */
function reserved(concurrency: number): number {
  return Math.max(1, Math.ceil(concurrency / 8));
}

/** Remembers which endpoints were slow in the last scan that probed them. */
export class SlowEndpoints {
  private readonly slow = new Set<string>();

  constructor(private readonly timeoutMs: number) {}

  record(probes: readonly ProbeResult[]): void {
    for (const p of probes) {
      if (p.durationMs >= this.timeoutMs * SLOW_SHARE) this.slow.add(p.endpoint.key);
      else this.slow.delete(p.endpoint.key);
    }
  }

  /** Indices into `endpoints` to start first; none when they would not fit in one wave. */
  first(endpoints: readonly Endpoint[], concurrency: number): number[] {
    if (this.slow.size === 0) return [];
    const first: number[] = [];
    endpoints.forEach((e, i) => {
      if (this.slow.has(e.key)) first.push(i);
    });
    return first.length <= concurrency - reserved(concurrency) ? first : [];
  }
}
