import type { Endpoint } from '../targets/types.js';
import { Probe } from './probe-connection.js';
import type { ProbeResult } from './types.js';

export { probeAll, type ProbeAllOptions } from './probe-all.js';

export interface ProbeOptions {
  /** One deadline covering TCP connect and TLS handshake. */
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * Connects to the endpoint, performs a real TLS handshake and records the certificates exactly
 * as the server listed them. Never rejects: every failure becomes `error`.
 */
export function probeEndpoint(endpoint: Endpoint, opts: ProbeOptions): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const probe = new Probe(endpoint, opts.timeoutMs, resolve);
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

