// The state directory lock: who counts as a live holder, and which leftovers are taken over.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { acquireStateLock, LOCK_FILE, StateLockedError } from '../../src/fleet/state-lock.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function dirWithLock(holder: Record<string, unknown> | string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'chainwatch-lock-'));
  dirs.push(dir);
  await writeFile(join(dir, LOCK_FILE), typeof holder === 'string' ? holder : JSON.stringify(holder));
  return dir;
}

/** Start time of a process as the lock records it (field 22 of /proc/PID/stat). */
function startOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

describe('state lock', () => {
  const parent = process.ppid; // alive for as long as this test runs, and not us

  it('refuses while the holder lives on this host, and names it', async () => {
    const dir = await dirWithLock({ pid: parent, host: hostname(), processStart: startOf(parent), since: '2026-11-30T00:00:00.000Z' });
    await assert.rejects(acquireStateLock(dir), (e: Error) => e instanceof StateLockedError && e.message.includes(`pid ${parent} on ${hostname()}`));
  });

  for (const [name, holder] of [
    ['a dead process', { pid: 2 ** 22 + 7, host: hostname(), processStart: '1', since: 'x' }],
    ['a recycled pid (same pid, another process start)', { pid: parent, host: hostname(), processStart: '1', since: 'x' }],
    ['a torn lock file', '{"pid":12'],
  ] as const) {
    it(`takes over the lock of ${name}`, async () => {
      const dir = await dirWithLock(holder);
      const lock = await acquireStateLock(dir);
      const now = JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')) as { pid: number };
      assert.equal(now.pid, process.pid);
      await lock.release();
    });
  }

  it('another host: refused while its lock is fresh, taken over once it stopped being touched', async () => {
    const fresh = await dirWithLock({ pid: 1, host: 'other-node', processStart: null, since: 'x' });
    await assert.rejects(acquireStateLock(fresh), /pid 1 on other-node/);
    const stale = await dirWithLock({ pid: 1, host: 'other-node', processStart: null, since: 'x' });
    const old = new Date(Date.now() - 10 * 60_000);
    await utimes(join(stale, LOCK_FILE), old, old);
    const lock = await acquireStateLock(stale);
    assert.equal(lock.tookOverFrom?.host, 'other-node');
    await lock.release();
  });

  it('release removes only its own lock', async () => {
    const dir = await dirWithLock('{}');
    const lock = await acquireStateLock(dir);
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid: 4242, host: 'someone-else', since: 'y' }));
    await lock.release();
    assert.match(await readFile(join(dir, LOCK_FILE), 'utf8'), /someone-else/);
  });
});
