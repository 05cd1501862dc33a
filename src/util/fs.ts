// File reading and writing every stage shares: reads that refuse what is not a regular file
// (a FIFO with no writer would block forever, /dev/zero never ends) and are bounded in size,
// and writes that a crash cannot leave half done.
import { constants, type Stats } from 'node:fs';
import { access, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/** A read that did not give a file's contents, in words ("is a directory", "no such file"). */
export class FileRefused extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
    readonly code: 'missing' | 'denied' | 'not_a_file' | 'directory' | 'too_large' | 'other',
  ) {
    super(`${path}: ${reason}`);
    this.name = 'FileRefused';
  }
}

function kindOf(info: Stats): string {
  if (info.isFIFO()) return 'a named pipe (FIFO)';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  return 'not a regular file';
}

function refusal(path: string, err: unknown): FileRefused {
  if (err instanceof FileRefused) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new FileRefused(path, 'no such file', 'missing');
  if (code === 'EACCES' || code === 'EPERM') return new FileRefused(path, 'permission denied', 'denied');
  if (code === 'EISDIR') return new FileRefused(path, 'is a directory', 'directory');
  return new FileRefused(path, (err as Error).message, 'other');
}

function check(path: string, info: Stats, maxBytes: number): void {
  if (info.isDirectory()) throw new FileRefused(path, 'is a directory', 'directory');
  if (!info.isFile()) throw new FileRefused(path, `is ${kindOf(info)}, not a file`, 'not_a_file');
  if (info.size > maxBytes) throw new FileRefused(path, `is ${info.size} bytes, more than the ${maxBytes} allowed`, 'too_large');
}

/**
 * The bytes of a regular file of at most `maxBytes`. The type is checked before opening (so a
 * device or FIFO is never opened), again on the open handle (the path may have been swapped),
 * and the read stops at the limit even if the file grows meanwhile. Throws FileRefused.
 */
export async function readRegularFile(path: string, maxBytes: number): Promise<Buffer> {
  try {
    check(path, await stat(path), maxBytes);
    // O_NONBLOCK: should the path have become a FIFO since the stat, open does not wait for a writer.
    const fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      check(path, await fh.stat(), maxBytes);
      const buf = Buffer.alloc(maxBytes + 1);
      let length = 0;
      while (length < buf.length) {
        const { bytesRead } = await fh.read(buf, length, buf.length - length, null);
        if (bytesRead === 0) break;
        length += bytesRead;
      }
      if (length > maxBytes) throw new FileRefused(path, `is more than the ${maxBytes} bytes allowed`, 'too_large');
      return buf.subarray(0, length);
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw refusal(path, err);
  }
}

/**
 * Replaces `path` with `data` so that a crash leaves the old contents or the new, never half:
 * write a temporary file beside it, fsync, rename over, then fsync the folder so the rename
 * itself survives a power cut. `data` may come in pieces (a large document made as it is written).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array | Iterable<string>, mode = 0o644): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    const fh = await open(tmp, 'w', mode);
    try {
      // writeFile continues from the handle's position, and writes each piece whole.
      for (const piece of typeof data === 'string' || data instanceof Uint8Array ? [data] : data) await fh.writeFile(piece);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncFolder(dirname(path));
}

/** Makes renames in a folder durable (Linux); Windows cannot open folders for it. */
async function syncFolder(folder: string): Promise<void> {
  if (process.platform === 'win32') return;
  const fh = await open(folder, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** True when something exists at `path` (file, folder or anything else we may see). */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
