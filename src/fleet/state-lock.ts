// One writer per state directory. Two daemons on one state.path would each append every change to
// history.jsonl and each fire its alerts, and their saves would undo each other. The lock is a
// file created exclusively; it names its holder so a second daemon can say who has it, and so a
// lock left by a killed process (kill -9, power loss) is recognised and taken over.

import { readFileSync } from 'node:fs';
import { open, readFile, stat, unlink, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

export const LOCK_FILE = 'chainwatch.lock';
/** The holder touches the lock this often, so that another host can tell a live lock from a dead one. */
const HEARTBEAT_MS = 15_000;
/** A lock from another host untouched this long is stale (its holder stopped without removing it). */
const FOREIGN_STALE_MS = 4 * HEARTBEAT_MS;

/** Another live chainwatch holds this state directory; the message names it and what to do. */
export class StateLockedError extends Error {}

interface Holder {
  pid: number;
  host: string;
  /** Kernel start time of the process (Linux), so a recycled pid is not taken for the holder. */
  processStart: string | null;
  since: string;
}

export interface StateLock {
  /** Holder left by a process that died without removing the lock, if one was taken over. */
  readonly tookOverFrom: Holder | null;
  release(): Promise<void>;
}

export async function acquireStateLock(dir: string): Promise<StateLock> {
  const path = join(dir, LOCK_FILE);
  const me: Holder = { pid: process.pid, host: hostname(), processStart: processStart(process.pid), since: new Date().toISOString() };
  let tookOverFrom: Holder | null = null;
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o640);
      try {
        await fh.writeFile(`${JSON.stringify(me)}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 2) throw err;
    }
    const holder = await readHolder(path);
    if (holder !== null && (await isAlive(holder, path))) {
      throw new StateLockedError(
        `state.path ${dir} is in use by another chainwatch (pid ${holder.pid} on ${holder.host}, since ${holder.since}). ` +
          'Two daemons must not share a state directory: give each its own state.path (each shard its own volume), or stop the other one. ' +
          `If that process is certainly gone, delete ${path}.`,
      );
    }
    tookOverFrom = holder;
    // Stale: remove it and race for it again; whoever creates it first wins.
    await unlink(path).catch(() => undefined);
  }
  const heartbeat = setInterval(() => {
    const now = new Date();
    void utimes(path, now, now).catch(() => undefined);
  }, HEARTBEAT_MS);
  heartbeat.unref();
  let released = false;
  return {
    tookOverFrom,
    async release() {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      // Only our own lock is removed: never one that another process took over meanwhile.
      const holder = await readHolder(path);
      if (holder?.pid === me.pid && holder.host === me.host && holder.since === me.since) await unlink(path).catch(() => undefined);
    },
  };
}

async function readHolder(path: string): Promise<Holder | null> {
  try {
    const v = JSON.parse(await readFile(path, 'utf8')) as Partial<Holder>;
    if (typeof v.pid !== 'number' || typeof v.host !== 'string') return null;
    return { pid: v.pid, host: v.host, processStart: typeof v.processStart === 'string' ? v.processStart : null, since: String(v.since ?? '') };
  } catch {
    // Torn (killed between create and write) or unreadable: nobody can be holding it properly.
    return null;
  }
}

async function isAlive(holder: Holder, path: string): Promise<boolean> {
  if (holder.host !== hostname()) {
    const age = Date.now() - (await stat(path)).mtimeMs;
    return age < FOREIGN_STALE_MS;
  }
  // A container's pid 1 after a restart is us, and not the process that left the lock.
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const start = processStart(holder.pid);
  return holder.processStart === null || start === null || start === holder.processStart;
}

/** Field 22 of /proc/PID/stat (start time in clock ticks since boot); null where there is no /proc. */
function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}
