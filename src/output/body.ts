// An HTTP body as the outputs hand it to the daemon's front: parts sent one after the other.

import type { Readable } from 'node:stream';

/**
 * A part made while it is sent, e.g. text decompressed for this one request: it is never whole
 * in memory, and its first bytes leave while the rest is still being made. `length` is known up
 * front, so the answer still carries a Content-Length.
 */
export interface StreamedPart {
  readonly length: number;
  open(): Readable;
}

export type BodyPart = Buffer | StreamedPart;

/** The parts read into one Buffer: for tests and tools, not for answering a request. */
export async function readBody(parts: readonly BodyPart[]): Promise<Buffer> {
  const out: Buffer[] = [];
  for (const part of parts) {
    if (Buffer.isBuffer(part)) out.push(part);
    else for await (const chunk of part.open()) out.push(chunk as Buffer);
  }
  return Buffer.concat(out);
}
