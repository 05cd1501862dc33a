import type { Socket } from 'node:net';
import { describeBytes } from '../failures.js';

/** Bytes a server may send during a STARTTLS exchange; a greeting and a few replies need far less. */
const MAX_PRELUDE_BYTES = 64 * 1024;

/** The server refused STARTTLS or answered out of protocol; the message quotes what it said. */
export class PreludeRefused extends Error {
  override readonly name = 'PreludeRefused';
}

/** The connection ended (or was reset) in the middle of the exchange. */
export class PreludeConnectionLost extends Error {
  override readonly name = 'PreludeConnectionLost';

  constructor(
    readonly code: string | null,
    message: string,
  ) {
    super(message);
  }
}

/** An answer is complete when this returns its length in bytes; 0 while more bytes are needed. */
type Completeness = (received: Buffer) => number;

/**
 * The clear-text part of a connection: bounded reads of whole answers and writes. Nothing the
 * server sends past the answer to STARTTLS is accepted (it would be taken as TLS).
 */
export class Conversation {
  received = 0;
  /** The last answer taken, for messages. */
  lastAnswer: Buffer | null = null;
  private buffered = Buffer.alloc(0);
  private lost: PreludeConnectionLost | null = null;
  private wake: (() => void) | null = null;

  constructor(private readonly socket: Socket) {
    socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Waits for a complete answer at the start of what the server sent, and consumes it. */
  async take(complete: Completeness): Promise<Buffer> {
    for (;;) {
      const n = this.buffered.length === 0 ? 0 : complete(this.buffered);
      if (n > 0) {
        const answer = this.buffered.subarray(0, n);
        this.buffered = this.buffered.subarray(n);
        this.lastAnswer = answer;
        return answer;
      }
      if (this.lost) throw this.lost;
      if (this.received > MAX_PRELUDE_BYTES) {
        throw new PreludeRefused(`sent more than ${MAX_PRELUDE_BYTES / 1024} KiB without completing its answer (${describeBytes(this.buffered)})`);
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** One line, CRLF or LF ended, without its line end. */
  async line(): Promise<string> {
    const bytes = await this.take(lineLength);
    return bytes.toString('latin1').replace(/\r?\n$/, '');
  }

  /** The exchange is over: the socket goes back to the caller, paused, for the TLS handshake. */
  finish(): void {
    this.detach();
    if (this.buffered.length > 0) {
      throw new PreludeRefused(`sent ${describeBytes(this.buffered)} after agreeing to STARTTLS, before the TLS handshake`);
    }
  }

  detach(): void {
    this.socket.pause(); // before the listener goes: a flowing socket without one drops data
    this.socket.off('data', this.onData);
    this.socket.off('error', this.onError);
    this.socket.off('close', this.onClose);
  }

  private readonly onData = (chunk: Buffer): void => {
    this.received += chunk.length;
    if (this.buffered.length <= MAX_PRELUDE_BYTES) this.buffered = Buffer.concat([this.buffered, chunk]);
    this.notify();
  };

  private readonly onError = (err: NodeJS.ErrnoException): void => {
    this.lost ??= new PreludeConnectionLost(err.code ?? null, err.message);
    this.notify();
  };

  private readonly onClose = (): void => {
    this.lost ??= new PreludeConnectionLost(null, 'closed the connection');
    this.notify();
  };

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}

function lineLength(received: Buffer): number {
  const end = received.indexOf(0x0a);
  return end < 0 ? 0 : end + 1;
}

/** A server's words, quoted for a message: printable, bounded. */
export function quote(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]+/g, ' ').trim();
  return `"${clean.length > 120 ? `${clean.slice(0, 120)}…` : clean}"`;
}
