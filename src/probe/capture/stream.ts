import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { MAX_CAPTURE_BYTES } from '../wire/limits.js';
import { readServerFlight, type ServerFlight } from '../wire/server-flight.js';
import { secretFromKeylogLine } from '../wire/tls13.js';
import type { Capture, OnOverflow } from './capture.js';

/** Re-read a pending certificate list after this many new bytes (or when the server stops). */
const READ_ON_STEP = 16 * 1024;

/**
 * Reads the chain from the byte stream. TLS runs over a tap, so Node drives it through its
 * JavaScript stream wrapper and every byte the server sends passes here; the tap only appends
 * the chunk (bounded). Parsing happens once, when the stage ends.
 *
 * It sees everything (the exact bytes of an unparsable certificate, what a non-TLS service
 * said, alerts, lists OpenSSL refuses) but the wrapper costs about a fifth of a handshake, so
 * the native capture runs first and this one only when that obtained no chain.
 */
export function streamCapture(onOverflow: OnOverflow): Capture {
  let raw: Socket | null = null;
  let chunks: Buffer[] = [];
  let received = 0;
  let handshakeSecret: Buffer | null = null;
  let waiting: (() => void) | null = null;
  let checkedAt = 0;

  const captured = (): Buffer => {
    if (chunks.length > 1) chunks = [Buffer.concat(chunks)];
    return chunks[0] ?? Buffer.alloc(0);
  };
  const flight = (untilCertificate: boolean): ServerFlight => readServerFlight(captured(), { handshake: handshakeSecret }, untilCertificate);
  const stopWaiting = (): void => {
    const done = waiting;
    waiting = null;
    done?.();
  };
  const onBytes = (chunk: Buffer): void => {
    if (received < MAX_CAPTURE_BYTES) chunks.push(chunk);
    received += chunk.length;
    if (received > MAX_CAPTURE_BYTES) {
      onOverflow();
      return;
    }
    if (waiting !== null && received - checkedAt >= READ_ON_STEP) {
      checkedAt = received;
      if (!flight(true).certificatePending) stopWaiting();
    }
  };

  return {
    carrier(socket) {
      raw = socket;
      socket.once('close', stopWaiting);
      return new Tap(socket, onBytes);
    },
    // The tap counts every byte itself.
    started: () => undefined,
    atCertificateStatus: () => undefined,
    onKeylog(line) {
      // Only the server's TLS 1.3 handshake secret matters: it protects its Certificate.
      if (line.toString('latin1', 0, 12) === 'SERVER_HANDS') handshakeSecret = secretFromKeylogLine(line, 'SERVER_HANDSHAKE_TRAFFIC_SECRET');
    },
    readOn(done) {
      if (raw === null || raw.destroyed || received === 0 || !flight(true).certificatePending) return false;
      waiting = done;
      checkedAt = received;
      return true;
    },
    read(ending) {
      const f = received > 0 ? flight(ending === 'secure') : null;
      return { chain: f?.certificates ?? null, flight: f, bytesReceived: received, firstBytes: chunks[0] ?? Buffer.alloc(0) };
    },
    release() {
      waiting = null;
      chunks = [];
    },
  };
}

/**
 * A duplex over the TCP socket that shows every received chunk to `onBytes` before TLS gets it.
 * Destroying the tap leaves the socket open: the capture may read on after TLS gave up.
 */
class Tap extends Duplex {
  constructor(
    private readonly raw: Socket,
    onBytes: (chunk: Buffer) => void,
  ) {
    super();
    raw.on('data', (chunk: Buffer) => {
      onBytes(chunk);
      if (!this.destroyed && !this.push(chunk)) raw.pause();
    });
    raw.on('end', () => {
      if (!this.destroyed) this.push(null);
    });
    raw.on('error', (err) => this.destroy(err));
    raw.resume();
  }

  override _read(): void {
    this.raw.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.raw.write(chunk, callback);
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.raw.end();
    callback();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    callback(err);
  }
}
