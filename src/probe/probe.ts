import type { Endpoint } from '../targets/types.js';
import { type StartOptions, startProbe } from './run.js';
import type { ProbeResult } from './types.js';

export { type ProbeAllOptions, probeAll } from './probe-all.js';

export interface ProbeOptions extends StartOptions {
  signal?: AbortSignal;
}

/**
 * Connects to the endpoint, performs a real TLS handshake and records the certificates exactly
 * as the server listed them. Never rejects: every failure becomes `error`.
 */
export function probeEndpoint(endpoint: Endpoint, opts: ProbeOptions): Promise<ProbeResult> {
  const probe = startProbe(endpoint, opts);
  const signal = opts.signal;
  if (!signal) return probe.result;
  if (signal.aborted) probe.cancel();
  const onAbort = (): void => probe.cancel();
  signal.addEventListener('abort', onAbort, { once: true });
  return probe.result.finally(() => signal.removeEventListener('abort', onAbort));
}
