import type { Endpoint } from '../targets/types.js';
import { NativeProbe } from './native-probe.js';
import { StreamProbe } from './stream-probe.js';
import type { ProbeResult } from './types.js';

export { probeAll, type ProbeAllOptions } from './probe-all.js';

export interface ProbeOptions {
  /** One deadline covering TCP connect and TLS handshake. */
  timeoutMs: number;
  signal?: AbortSignal;
  /**
   * 'auto' (default): native TLS first, byte-stream reading when that obtains no chain.
   * 'stream': byte-stream reading only — slower, for diagnosis and for tests that compare both.
   */
  capture?: 'auto' | 'stream';
}

/**
 * Connects to the endpoint, performs a real TLS handshake and records the certificates exactly
 * as the server listed them. Never rejects: every failure becomes `error`.
 */
export function probeEndpoint(endpoint: Endpoint, opts: ProbeOptions): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const probe = opts.capture === 'stream' ? new StreamProbe(endpoint, opts.timeoutMs, resolve) : new NativeProbe(endpoint, opts.timeoutMs, resolve);
    const signal = opts.signal;
    if (signal) {
      if (signal.aborted) return probe.cancel();
      const onAbort = (): void => probe.cancel();
      signal.addEventListener('abort', onAbort, { once: true });
      probe.onFinish = () => signal.removeEventListener('abort', onAbort);
    }
    probe.start();
  });
}

