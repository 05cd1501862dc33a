import type { Endpoint } from '../targets/types.js';
import type { CaptureFactory } from './capture/capture.js';
import { nativeCapture } from './capture/native.js';
import { streamCapture } from './capture/stream.js';
import { Deadline } from './deadline.js';
import { type Destination, resolveDestination } from './resolve.js';
import { type Failure, failure, type Outcome } from './stage.js';
import { type Handshake, negotiate } from './tls.js';
import { openTransport } from './transport.js';
import type { ProbeResult } from './types.js';

export interface StartOptions {
  /** One deadline covering TCP connect, any STARTTLS exchange and the TLS handshake. */
  timeoutMs: number;
  /**
   * 'auto' (default): native TLS first, byte-stream reading when that obtains no chain.
   * 'stream': byte-stream reading only — slower, for diagnosis and for tests that compare both.
   */
  capture?: 'auto' | 'stream';
  /** Told about a bug of ours (the result says `internal`), with the error and its stack. */
  onInternalError?: (endpoint: Endpoint, err: unknown) => void;
}

/** A probe in flight. */
export interface RunningProbe {
  result: Promise<ProbeResult>;
  cancel(): void;
}

export function startProbe(endpoint: Endpoint, opts: StartOptions): RunningProbe {
  const deadline = new Deadline(opts.timeoutMs);
  return { result: probe(endpoint, deadline, opts), cancel: () => deadline.cancel() };
}

async function probe(endpoint: Endpoint, deadline: Deadline, opts: StartOptions): Promise<ProbeResult> {
  // Stages start on the next microtask: a probe cancelled as it is created never connects.
  await undefined;
  let outcome: Outcome<Handshake>;
  try {
    outcome = await run(endpoint, deadline, opts);
  } catch (err) {
    outcome = internalFailure(endpoint, err, opts);
  } finally {
    deadline.release();
  }
  return toResult(endpoint, deadline, outcome);
}

function internalFailure(endpoint: Endpoint, err: unknown, opts: StartOptions): Failure {
  opts.onInternalError?.(endpoint, err);
  const message = `the probe failed on our side (${err instanceof Error ? err.message : String(err)}); this is a chainwatch bug — please report it`;
  return failure('tls', { kind: 'internal', message });
}

/** resolve → transport → TLS with a capture; a second capture attempt within the same deadline. */
async function run(endpoint: Endpoint, deadline: Deadline, opts: StartOptions): Promise<Outcome<Handshake>> {
  const dest = resolveDestination(endpoint);
  if (!dest.ok) return dest;
  if (opts.capture === 'stream') return attempt(dest.value, streamCapture, deadline);
  // Without a STARTTLS prelude the native capture lets TLS make the TCP connection itself.
  const first = dest.value.starttls === null ? await negotiate(null, dest.value, nativeCapture, deadline) : await attempt(dest.value, nativeCapture, deadline);
  if (first.ok || first.stage !== 'tls' || deadline.interruption !== null) return first;
  // The connection stood but the native capture read no chain (an alert, a non-TLS answer, a
  // certificate OpenSSL refuses): the byte stream says precisely what happened.
  return attempt(dest.value, streamCapture, deadline);
}

async function attempt(dest: Destination, capture: CaptureFactory, deadline: Deadline): Promise<Outcome<Handshake>> {
  const transport = await openTransport(dest, deadline);
  if (!transport.ok) return transport;
  return negotiate(transport.value, dest, capture, deadline);
}

function toResult(endpoint: Endpoint, deadline: Deadline, outcome: Outcome<Handshake>): ProbeResult {
  const startedAt = deadline.startedAt;
  const durationMs = deadline.elapsedMs();
  if (outcome.ok) {
    const { chain, tls, stapledOcsp } = outcome.value;
    return { endpoint, startedAt, durationMs, presented: chain, tls, stapledOcsp, error: null };
  }
  return { endpoint, startedAt, durationMs, presented: [], tls: outcome.tls, stapledOcsp: null, error: outcome.error };
}
