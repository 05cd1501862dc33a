import net from 'node:net';
import type { Deadline } from './deadline.js';
import { describeConnectFailure } from './failures.js';
import type { Destination } from './resolve.js';
import { type Failure, failure, type Outcome, success } from './stage.js';
import { runPrelude } from './starttls/prelude.js';

/** A connected socket, ready for the TLS ClientHello. */
export interface Transport {
  socket: net.Socket;
  /** TCP connect time, a round-trip estimate. */
  connectMs: number;
  /** Bytes the server sent before TLS (a STARTTLS exchange). */
  preludeBytes: number;
}

const ignore = (): void => undefined;

/** The transport stage's failure: no TCP connection stood (also when TLS made the connection). */
export function connectFailure(
  dest: Destination,
  deadline: Deadline,
  err: NodeJS.ErrnoException | null,
  interruption: 'timeout' | 'cancelled' | null,
): Failure {
  return failure(
    'transport',
    describeConnectFailure({
      peer: dest.peer,
      timeoutMs: deadline.timeoutMs,
      interruption,
      errorCode: err?.code ?? null,
      errorMessage: err?.message ?? null,
    }),
  );
}

/** Stage two: TCP, then the endpoint's STARTTLS dialogue when it has one. */
export async function openTransport(dest: Destination, deadline: Deadline): Promise<Outcome<Transport>> {
  const tcp = await connect(dest, deadline);
  if (!tcp.ok || dest.starttls === null) return tcp;
  const prelude = await runPrelude(tcp.value.socket, dest.starttls, dest, deadline);
  if (!prelude.ok) return prelude;
  return success({ ...tcp.value, preludeBytes: prelude.value });
}

function connect(dest: Destination, deadline: Deadline): Promise<Outcome<Transport>> {
  return new Promise((resolve) => {
    const started = performance.now();
    const fail = (err: NodeJS.ErrnoException | null, interruption: 'timeout' | 'cancelled' | null): void => {
      resolve(connectFailure(dest, deadline, err, interruption));
    };
    if (deadline.interruption !== null) return fail(null, deadline.interruption);
    let socket: net.Socket;
    try {
      socket = net.connect({ host: dest.address, port: dest.port });
    } catch (err) {
      // Node refuses some arguments synchronously (a port outside 1–65535, say): never reject.
      return fail(err as NodeJS.ErrnoException, null);
    }
    // Errors after the connection stood are the later stages' to report; none may go unheard.
    socket.on('error', ignore);
    let stop = ignore;
    const onConnect = (): void => {
      stop();
      socket.off('error', onError);
      resolve(success({ socket, connectMs: performance.now() - started, preludeBytes: 0 }));
    };
    const onError = (err: NodeJS.ErrnoException): void => {
      stop();
      socket.off('connect', onConnect);
      socket.destroy();
      fail(err, null);
    };
    socket.once('connect', onConnect);
    socket.once('error', onError);
    stop = deadline.onInterrupt((why) => {
      socket.off('connect', onConnect).off('error', onError);
      socket.destroy();
      fail(null, why);
    });
  });
}
