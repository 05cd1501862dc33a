// Compression of the documents the daemon keeps between scans (/metrics, /api/v1/status).

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import type { StreamedPart } from './body.js';

/** A document kept only gzip-compressed; `plainBytes` is its length decompressed. */
export interface Compressed {
  readonly gzip: Buffer;
  readonly plainBytes: number;
}

/**
 * One gzip member of the pieces, compressed off the event loop and pulled as the compressor takes
 * them: a generator of pieces is never all in memory at once, so no whole-document string or
 * Buffer is left behind for the collector.
 */
export async function gzipPieces(pieces: Iterable<string | Buffer>): Promise<Compressed> {
  let plainBytes = 0;
  // The compressor would turn each string into a Buffer anyway; doing it here counts the bytes.
  function* counted(): Generator<Buffer> {
    for (const piece of pieces) {
      const bytes = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece;
      plainBytes += bytes.length;
      yield bytes;
    }
  }
  const out: Buffer[] = [];
  await pipeline(Readable.from(counted()), createGzip(), async (compressed: AsyncIterable<Buffer>) => {
    for await (const chunk of compressed) out.push(chunk);
  });
  return { gzip: Buffer.concat(out), plainBytes };
}

/** Decompressed output is made this many bytes at a time, each sent before the next is made. */
const INFLATE_CHUNK = 256 * 1024;

/**
 * For a client that does not take gzip: the kept document, decompressed while it is sent. A
 * whole 16 MB copy per request would cost fresh memory (page faults) and delay the first byte
 * until the last one is made; streamed, decompression and sending overlap.
 */
export function inflated(document: Compressed): StreamedPart {
  return {
    length: document.plainBytes,
    open() {
      const gunzip = createGunzip({ chunkSize: INFLATE_CHUNK });
      gunzip.end(document.gzip);
      return gunzip;
    },
  };
}
