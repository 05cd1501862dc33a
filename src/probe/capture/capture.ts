import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Ending } from '../failures.js';
import type { ServerFlight } from '../wire/server-flight.js';

/** What a capture read when the TLS stage ended. */
export interface CaptureReading {
  /** DER certificates exactly as presented; null when none was read. */
  chain: Buffer[] | null;
  /** What the server's bytes show (stream capture only). */
  flight: ServerFlight | null;
  /** Bytes the server sent during the TLS stage; null when unknown. */
  bytesReceived: number | null;
  /** The first bytes the server sent, for naming a non-TLS service (stream capture only). */
  firstBytes: Buffer;
}

/**
 * How the TLS stage obtains the presented chain. The stage owns the connection's lifecycle
 * (deadline, events, verdict, errors); a capture only reads.
 */
export interface Capture {
  /**
   * What tls.connect runs over when the stage has a connected socket (a STARTTLS prelude ran,
   * or the capture needs one): the TCP socket itself, or a tap that sees every byte.
   */
  carrier(socket: Socket): Socket | Duplex;
  /** TLS is under way; `tcpBytesRead` counts the bytes the server has sent on the connection. */
  started(tcpBytesRead: () => number): void;
  /** OpenSSL's certificate-status hook: the server's Certificate message has been processed. */
  atCertificateStatus(tls: TLSSocket): void;
  /** Key-log lines, when the capture needs TLS 1.3 secrets. */
  readonly onKeylog: ((line: Buffer) => void) | null;
  /**
   * The TLS stack gave up while the server was still sending its certificates (OpenSSL refuses
   * lists over 100 KiB): true when the capture reads on and calls `done` once it has them.
   */
  readOn(done: () => void): boolean;
  read(ending: Ending): CaptureReading;
  /** The stage is over: stop watching, drop buffers. */
  release(): void;
}

/** Either kind of capture calls this when the server sends more than a probe reads. */
export type OnOverflow = () => void;

/** Makes a capture for one connection; `bytesBefore` were read by a clear-text prelude. */
export type CaptureFactory = (onOverflow: OnOverflow, bytesBefore: number) => Capture;
