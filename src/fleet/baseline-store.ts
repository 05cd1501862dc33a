import { mkdir, open, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EndpointResult } from '../chain/types.js';
import type { Logger } from '../log/logger.js';
import { writeFileAtomic } from '../util/fs.js';
import { FORMAT_VERSION, parseBaseline } from './baseline-format.js';
import { applyScan, type BaselineState } from './drift.js';
import { acquireStateLock, type StateLock } from './state-lock.js';
import type { BaselineEntry, CertChange } from './types.js';

export const BASELINE_FILE = 'baseline.json';
export const HISTORY_FILE = 'history.jsonl';
const RECENT_LIMIT = 500;
/** Change records kept for history.jsonl while it cannot be written; the oldest go first. */
const HISTORY_BACKLOG_LIMIT = 10_000;

export interface OpenOptions {
  /**
   * Read the baseline without taking the state directory's lock, for `chainwatch scan` next to
   * a running daemon: nothing is moved, deleted or saved.
   */
  readOnly?: boolean;
}

/**
 * The persisted baseline: the last chain seen per endpoint, when it changed, and the changes.
 * baseline.json is replaced atomically (write a temporary file, fsync, rename, fsync the folder),
 * so a crash leaves either the old or the new file, never a torn one; history.jsonl is an
 * append-only log of every change for people and audits.
 */
export class BaselineStore {
  private state: BaselineState;
  private unsavedHistory: CertChange[] = [];
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    private directory: string,
    private readonly log: Logger,
    state: BaselineState,
    private lock: StateLock | null,
  ) {
    this.state = state;
  }

  get dir(): string {
    return this.directory;
  }

  /**
   * Opens the state directory for writing, taking its lock: throws StateLockedError while another
   * live chainwatch holds it. close() releases it.
   */
  static async open(dir: string, log: Logger, options: OpenOptions = {}): Promise<BaselineStore> {
    if (options.readOnly) return new BaselineStore(dir, log, await loadState(dir, log, false), null);
    await mkdir(dir, { recursive: true });
    const lock = await acquireStateLock(dir);
    try {
      if (lock.tookOverFrom) {
        log.warn('took over the state lock of a chainwatch that stopped without releasing it', { path: dir, previousHolder: lock.tookOverFrom });
      }
      await removeLeftovers(dir);
      return new BaselineStore(dir, log, await loadState(dir, log, true), lock);
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  /** Waits for a save in progress and releases the state directory. */
  async close(): Promise<void> {
    await this.saving;
    await this.lock?.release();
  }

  entries(): BaselineEntry[] {
    return [...this.state.entries.values()];
  }

  get(key: string): BaselineEntry | undefined {
    return this.state.entries.get(key);
  }

  /** Newest first. */
  recentChanges(limit = 50): CertChange[] {
    return this.state.recentChanges.slice(-limit).reverse();
  }

  /** Folds one scan into the baseline in memory and returns the changes it found. */
  apply(results: EndpointResult[], now: Date, retentionMs: number): CertChange[] {
    const { state, changes, dropped } = applyScan(this.state, results, now, retentionMs);
    state.recentChanges = state.recentChanges.slice(-RECENT_LIMIT);
    this.state = state;
    this.unsavedHistory.push(...changes);
    if (dropped.length > 0) {
      this.log.info('dropped endpoints from the baseline: gone from the config longer than state.retention', { endpoints: dropped });
    }
    return changes;
  }

  /** Persists the baseline; calls are serialised so two saves never interleave. */
  save(): Promise<void> {
    const next = this.saving.then(() => this.writeNow());
    this.saving = next.catch(() => undefined);
    return next;
  }

  /**
   * Moves the baseline and its history to `dir` (state.path changed); later saves go there. The
   * old files are removed only once the new ones are written; on failure the old ones stay in use.
   */
  moveTo(dir: string): Promise<void> {
    const next = this.saving.then(async () => {
      const from = this.directory;
      if (from === dir) return;
      if (this.lock === null) throw new Error('the baseline was opened read-only');
      await mkdir(dir, { recursive: true });
      // The new directory must not be another chainwatch's: its lock is taken before anything moves.
      const lock = await acquireStateLock(dir);
      try {
        const history = await readFile(join(from, HISTORY_FILE), 'utf8').catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') return null;
          throw err;
        });
        if (history !== null) await writeDurably(join(dir, HISTORY_FILE), history, 'w');
        this.directory = dir;
        await this.writeNow();
      } catch (err) {
        this.directory = from;
        await lock.release();
        throw err;
      }
      for (const name of [BASELINE_FILE, HISTORY_FILE]) await unlink(join(from, name)).catch(() => undefined);
      const old = this.lock;
      this.lock = lock;
      await old.release();
    });
    this.saving = next.catch(() => undefined);
    return next;
  }

  private async writeNow(): Promise<void> {
    if (this.lock === null) throw new Error('the baseline was opened read-only');
    const body = baselinePieces(this.state.entries.values(), this.state.recentChanges, new Date());
    await writeFileAtomic(join(this.dir, BASELINE_FILE), body, 0o640);
    await this.appendHistory();
  }

  /**
   * The baseline is saved by now; history.jsonl is the audit trail beside it. Records it cannot
   * take stay queued for the next save instead of failing the save or being lost.
   */
  private async appendHistory(): Promise<void> {
    const pending = this.unsavedHistory;
    if (pending.length === 0) return;
    const path = join(this.dir, HISTORY_FILE);
    try {
      await appendLines(
        path,
        pending.map((c) => JSON.stringify(c)),
      );
      this.unsavedHistory = this.unsavedHistory.slice(pending.length);
    } catch (err) {
      const excess = this.unsavedHistory.length - HISTORY_BACKLOG_LIMIT;
      if (excess > 0) this.unsavedHistory = this.unsavedHistory.slice(excess);
      this.log.warn(
        'the baseline was saved, but history.jsonl could not be appended; its change records are kept and written at the next save. Check that the file is writable',
        {
          path,
          queued: this.unsavedHistory.length,
          ...(excess > 0 ? { droppedOldest: excess } : {}),
          err,
        },
      );
    }
  }
}

/**
 * Appends whole lines. A line torn by a crash is ended first, so the next record starts on a line
 * of its own instead of being glued to the torn one (which readers then skip as one bad line).
 */
async function appendLines(path: string, lines: string[]): Promise<void> {
  const fh = await open(path, 'a+', 0o640);
  try {
    const { size } = await fh.stat();
    let lead = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      await fh.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) lead = '\n';
    }
    await fh.appendFile(`${lead + lines.join('\n')}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function writeDurably(path: string, data: string, flags: 'w' | 'a'): Promise<void> {
  const fh = await open(path, flags, 0o640);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function removeLeftovers(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (name.startsWith(`${BASELINE_FILE}.tmp-`)) await unlink(join(dir, name)).catch(() => undefined);
  }
}

async function loadState(dir: string, log: Logger, writable: boolean): Promise<BaselineState> {
  const path = join(dir, BASELINE_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      log.info('no baseline yet: every endpoint is recorded as first seen on the first scan', { path });
      return empty();
    }
    throw err;
  }
  let parsed: ReturnType<typeof parseBaseline>;
  try {
    parsed = parseBaseline(text);
  } catch (err) {
    if (!writable) {
      log.warn('baseline file is unreadable; scanning without it (the daemon sets it aside when it starts)', { path, reason: (err as Error).message });
      return empty();
    }
    const aside = `${path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    await rename(path, aside);
    log.error(
      'baseline file is unreadable and was moved aside; starting with an empty baseline (changes made while it was unreadable will not be reported). Inspect or delete the moved file',
      {
        path,
        movedTo: aside,
        reason: (err as Error).message,
      },
    );
    return empty();
  }
  if (parsed.rejected.length > 0) {
    const aside = `${path}.rejected-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    if (writable) await writeFile(aside, `${JSON.stringify({ rejectedFrom: path, entries: parsed.rejected }, null, 2)}\n`, { mode: 0o640 });
    for (const r of parsed.rejected) {
      log.error(
        'baseline entry is invalid and was set aside; that endpoint starts as first seen at the next scan, the rest of the baseline is kept. Inspect or delete the set-aside file',
        {
          path,
          endpoint: isKeyed(r.entry) ? r.entry.key : null,
          reason: r.reason,
          ...(writable ? { movedTo: aside } : {}),
        },
      );
    }
  }
  if (parsed.droppedChanges > 0) {
    log.warn('ignored invalid records in the list of recent changes of the baseline', { path, dropped: parsed.droppedChanges });
  }
  return parsed.state;
}

function empty(): BaselineState {
  return { entries: new Map(), recentChanges: [] };
}

function isKeyed(v: unknown): v is { key: string } {
  return typeof v === 'object' && v !== null && typeof (v as { key?: unknown }).key === 'string';
}

/** Text handed to the file at a time. */
const PIECE = 64 * 1024;

/**
 * The baseline file's JSON, entry by entry as the file takes it: at 10,000 endpoints the text is
 * megabytes, and a daemon that made it whole after every scan would hold it at its peak.
 */
function* baselinePieces(entries: Iterable<BaselineEntry>, recentChanges: readonly CertChange[], savedAt: Date): Generator<string> {
  let piece = `{"version":${FORMAT_VERSION},"savedAt":"${savedAt.toISOString()}","entries":[`;
  let first = true;
  for (const entry of entries) {
    piece += `${first ? '' : ','}${JSON.stringify(entry)}`;
    first = false;
    if (piece.length >= PIECE) {
      yield piece;
      piece = '';
    }
  }
  yield `${piece}],"recentChanges":${JSON.stringify(recentChanges)}}`;
}
