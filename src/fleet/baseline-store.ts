import { mkdir, open, readFile, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log/logger.js';
import type { EndpointResult } from '../chain/types.js';
import { applyScan, type BaselineState } from './drift.js';
import type { BaselineEntry, CertChange } from './types.js';

export const BASELINE_FILE = 'baseline.json';
export const HISTORY_FILE = 'history.jsonl';
const FORMAT_VERSION = 1;
const RECENT_LIMIT = 500;

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
  ) {
    this.state = state;
  }

  get dir(): string {
    return this.directory;
  }

  static async open(dir: string, log: Logger): Promise<BaselineStore> {
    await mkdir(dir, { recursive: true });
    await removeLeftovers(dir);
    return new BaselineStore(dir, log, await loadState(dir, log));
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
      await mkdir(dir, { recursive: true });
      const history = await readFile(join(from, HISTORY_FILE), 'utf8').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return null;
        throw err;
      });
      if (history !== null) await writeDurably(join(dir, HISTORY_FILE), history, 'w');
      this.directory = dir;
      try {
        await this.writeNow();
      } catch (err) {
        this.directory = from;
        throw err;
      }
      for (const name of [BASELINE_FILE, HISTORY_FILE]) await unlink(join(from, name)).catch(() => undefined);
    });
    this.saving = next.catch(() => undefined);
    return next;
  }

  private async writeNow(): Promise<void> {
    const body = JSON.stringify({
      version: FORMAT_VERSION,
      savedAt: new Date().toISOString(),
      entries: [...this.state.entries.values()],
      recentChanges: this.state.recentChanges,
    });
    const target = join(this.dir, BASELINE_FILE);
    const tmp = join(this.dir, `${BASELINE_FILE}.tmp-${process.pid}`);
    await writeDurably(tmp, body, 'w');
    await rename(tmp, target);
    await syncDir(this.dir);
    const pending = this.unsavedHistory;
    this.unsavedHistory = [];
    if (pending.length > 0) {
      await writeDurably(join(this.dir, HISTORY_FILE), pending.map((c) => JSON.stringify(c)).join('\n') + '\n', 'a');
    }
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

async function syncDir(dir: string): Promise<void> {
  // Directory fsync makes the rename itself durable on Linux; Windows cannot open folders for it.
  if (process.platform === 'win32') return;
  const fh = await open(dir, 'r');
  try {
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

async function loadState(dir: string, log: Logger): Promise<BaselineState> {
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
  try {
    return parseState(text);
  } catch (err) {
    const aside = `${path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    await rename(path, aside);
    log.error('baseline file is unreadable and was moved aside; starting with an empty baseline (changes made while it was unreadable will not be reported). Inspect or delete the moved file', {
      path,
      movedTo: aside,
      reason: (err as Error).message,
    });
    return empty();
  }
}

function empty(): BaselineState {
  return { entries: new Map(), recentChanges: [] };
}

function parseState(text: string): BaselineState {
  const doc: unknown = JSON.parse(text);
  if (!isObject(doc) || doc.version !== FORMAT_VERSION || !Array.isArray(doc.entries) || !Array.isArray(doc.recentChanges)) {
    throw new Error(`not a chainwatch baseline of format version ${FORMAT_VERSION}`);
  }
  const entries = new Map<string, BaselineEntry>();
  for (const e of doc.entries) {
    if (!isEntry(e)) throw new Error('an entry lacks its key, snapshot or times');
    entries.set(e.key, e);
  }
  return { entries, recentChanges: doc.recentChanges as CertChange[] };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isEntry(v: unknown): v is BaselineEntry {
  if (!isObject(v) || !isObject(v.current)) return false;
  return (
    typeof v.key === 'string' &&
    typeof v.target === 'string' &&
    typeof v.firstSeen === 'string' &&
    typeof v.lastSeen === 'string' &&
    typeof v.changes === 'number' &&
    typeof v.current.leafSha256 === 'string' &&
    Array.isArray(v.current.chain)
  );
}
