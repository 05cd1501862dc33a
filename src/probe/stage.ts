import type { ProbeError, TlsInfo } from './types.js';

/**
 * A probe is a short pipeline: resolve → transport (TCP, then an optional clear-text prelude)
 * → TLS (with a capture) → result. Every stage returns its value or a failure as a value; a
 * stage never throws for anything a server or the network did, and one deadline, owned by the
 * caller, bounds them all.
 */
export type Stage = 'resolve' | 'transport' | 'tls';

export interface Failure {
  ok: false;
  stage: Stage;
  error: ProbeError;
  /** What the TLS conversation showed before it failed; null when there was none. */
  tls: TlsInfo | null;
}

export type Outcome<T> = { ok: true; value: T } | Failure;

export function failure(stage: Stage, error: ProbeError, tls: TlsInfo | null = null): Failure {
  return { ok: false, stage, error, tls };
}

export function success<T>(value: T): Outcome<T> {
  return { ok: true, value };
}
