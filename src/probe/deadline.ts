/** Why a probe stopped before its stages were done. */
export type Interruption = 'timeout' | 'cancelled';

/**
 * The one owner of a probe's time: a single timer covers DNS-free connect, any STARTTLS
 * prelude, the TLS handshake and a second capture attempt. Stages never set deadlines of their
 * own; they listen to `signal` and stop when it fires.
 */
export class Deadline {
  readonly startedAt = new Date();
  private readonly t0 = performance.now();
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private reason: Interruption | null = null;

  constructor(readonly timeoutMs: number) {
    this.timer = setTimeout(() => this.interrupt('timeout'), timeoutMs);
  }

  get interruption(): Interruption | null {
    return this.reason;
  }

  cancel(): void {
    this.interrupt('cancelled');
  }

  remainingMs(): number {
    return Math.max(0, this.timeoutMs - (performance.now() - this.t0));
  }

  /** Milliseconds since the start, to a tenth. */
  elapsedMs(): number {
    return Math.round((performance.now() - this.t0) * 10) / 10;
  }

  /** The probe has its result: nothing may fire any more. */
  release(): void {
    clearTimeout(this.timer);
  }

  /** Calls `fn` when the deadline passes or the probe is cancelled (at once if it already was); returns the remover. */
  onInterrupt(fn: (why: Interruption) => void): () => void {
    if (this.reason !== null) {
      fn(this.reason);
      return () => undefined;
    }
    const listener = (): void => fn(this.reason!);
    this.controller.signal.addEventListener('abort', listener, { once: true });
    return () => this.controller.signal.removeEventListener('abort', listener);
  }

  private interrupt(why: Interruption): void {
    if (this.reason !== null) return;
    this.reason = why;
    clearTimeout(this.timer);
    this.controller.abort(why);
  }
}
