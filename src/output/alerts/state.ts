// The active alerts on disk, so a restart continues where it left off: no second "firing"
// message for a condition that never ended, and a "resolved" one for what ended meanwhile.
// Losing this file costs at most repeated messages, so a bad file is reported and ignored.

import { readFileSync, renameSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../../log/logger.js';
import { writeFileAtomic } from '../../util/fs.js';
import { fingerprint } from './fingerprint.js';
import type { Alert } from './types.js';

const VERSION = 1;
/** A state file bigger than this is not ours to parse. */
const MAX_BYTES = 16 * 1024 * 1024;

export interface AlertState {
  active: Alert[];
  pending: [string, number][];
}

interface StoredAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  generatorURL: string;
  holdUntil: string | null;
  forScans: number;
}

export function loadAlertState(path: string, logger: Logger): AlertState {
  const empty: AlertState = { active: [], pending: [] };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      logger.warn('cannot read the alert state file; starting with no active alerts (firing alerts will be announced again)', { path, err });
    }
    return empty;
  }
  try {
    if (text.length > MAX_BYTES) throw new Error(`larger than ${MAX_BYTES} bytes`);
    const data = JSON.parse(text) as { version?: unknown; active?: unknown; pending?: unknown };
    if (data.version !== VERSION || !Array.isArray(data.active)) throw new Error('not a chainwatch alert state file');
    const active = data.active.map(parseAlert);
    const pending = Array.isArray(data.pending)
      ? data.pending.filter((p): p is [string, number] => Array.isArray(p) && typeof p[0] === 'string' && typeof p[1] === 'number')
      : [];
    return { active, pending };
  } catch (err) {
    const aside = `${path}.corrupt-${Date.now()}`;
    try {
      renameSync(path, aside);
    } catch {
      // Leaving it in place is fine: the next save replaces it.
    }
    logger.warn('alert state file is unreadable; set it aside and starting with no active alerts (firing alerts will be announced again)', {
      path,
      movedTo: aside,
      error: (err as Error).message,
    });
    return empty;
  }
}

function parseAlert(raw: unknown): Alert {
  const a = raw as Partial<StoredAlert>;
  const strings = (o: unknown) => typeof o === 'object' && o !== null && Object.values(o).every((v) => typeof v === 'string');
  if (!strings(a.labels) || !strings(a.annotations) || typeof a.startsAt !== 'string' || typeof a.generatorURL !== 'string') {
    throw new Error('an alert entry is malformed');
  }
  const labels = a.labels as Record<string, string>;
  const annotations = a.annotations as Record<string, string>;
  const startsAt = new Date(a.startsAt);
  const holdUntil = typeof a.holdUntil === 'string' ? new Date(a.holdUntil) : null;
  if (Number.isNaN(startsAt.getTime()) || (holdUntil && Number.isNaN(holdUntil.getTime()))) throw new Error('an alert entry has a bad time');
  return {
    labels,
    annotations: { ...annotations, summary: annotations.summary ?? '', description: annotations.description ?? '' },
    startsAt,
    generatorURL: a.generatorURL,
    fingerprint: fingerprint(labels),
    holdUntil,
    forScans: typeof a.forScans === 'number' ? a.forScans : 1,
  };
}

/** A crash leaves the old file or the new one, never half of one. Throws. */
export async function writeAlertState(path: string, state: AlertState): Promise<void> {
  const stored = {
    version: VERSION,
    savedAt: new Date().toISOString(),
    active: state.active.map(
      (a): StoredAlert => ({
        labels: a.labels,
        annotations: a.annotations,
        startsAt: a.startsAt.toISOString(),
        generatorURL: a.generatorURL,
        holdUntil: a.holdUntil ? a.holdUntil.toISOString() : null,
        forScans: a.forScans,
      }),
    ),
    pending: state.pending,
  };
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, JSON.stringify(stored), 0o600);
}

/** writeAlertState that reports a failure instead of throwing: losing the file costs little. */
export async function saveAlertState(path: string, state: AlertState, logger: Logger): Promise<void> {
  try {
    await writeAlertState(path, state);
  } catch (err) {
    logger.warn('cannot save the alert state file; a restart may announce firing alerts again. Check the state directory is writable', {
      path,
      err,
    });
  }
}
