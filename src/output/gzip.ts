// Compression of the documents the daemon keeps between scans (/metrics, /api/v1/status).

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createGzip, gunzip as gunzipCallback } from 'node:zlib';

/**
 * One gzip member of the pieces, compressed off the event loop and pulled as the compressor takes
 * them: a generator of pieces is never all in memory at once, so no whole-document string or
 * Buffer is left behind for the collector.
 */
export async function gzipPieces(pieces: Iterable<string | Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from(pieces), createGzip(), async (compressed: AsyncIterable<Buffer>) => {
    for await (const chunk of compressed) out.push(chunk);
  });
  return Buffer.concat(out);
}

/** For a client that does not take gzip: the kept compressed form, expanded for its request. */
export const gunzip = promisify(gunzipCallback);
