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

const inflate = promisify(gunzipCallback);

/**
 * For a client that does not take gzip: the kept compressed form, expanded for its request. In
 * 1 MB steps: with zlib's 16 KB default, 16 MB of metrics text is a thousand turns between the
 * thread pool and the event loop, each waiting behind whatever else the pool has queued.
 */
export function gunzip(compressed: Buffer): Promise<Buffer> {
  return inflate(compressed, { chunkSize: 1 << 20 });
}
