// Shared by both probe implementations.

/** Identity is checked by chain analysis, against the configured host/sni. */
export const noIdentityCheck = (): undefined => undefined;

/** Floor for how long a TLS 1.3 server that asked for a client certificate gets to judge ours. */
const MIN_VERDICT_WAIT_MS = 1000;

/**
 * In TLS 1.3 the client finishes before the server has judged its certificate; the verdict (a
 * session ticket, or an alert such as certificate_required) arrives about one round trip later.
 * Wait a few round trips, at least a second, never past the probe's deadline.
 */
export function verdictWaitMs(rttMs: number, remainingMs: number): number {
  return Math.max(0, Math.min(remainingMs, Math.max(MIN_VERDICT_WAIT_MS, 4 * rttMs)));
}
