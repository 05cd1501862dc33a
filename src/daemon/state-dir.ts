// Moving the daemon's state when a reload changes state.path: the baseline, its history and the
// alert state go together, so a move never leaves one behind (a restart would then announce
// again what was already announced, or lose the certificate history).

import { join } from 'node:path';
import { BASELINE_FILE, type BaselineStore, HISTORY_FILE } from '../fleet/baseline-store.js';
import { pathExists } from '../util/fs.js';
import { ALERT_STATE_FILE, type Alerting } from './alerting.js';

/** Every file the daemon keeps in state.path. */
export const STATE_FILES = [BASELINE_FILE, HISTORY_FILE, ALERT_STATE_FILE] as const;

/**
 * Moves every state file from the baseline's directory to `to`. Refuses a directory that already
 * holds chainwatch state: overwriting it would destroy another baseline, adopting it would drop
 * ours. Throws with a message saying what to do; files not yet moved stay where they were.
 */
export async function moveStateFiles(to: string, baseline: BaselineStore, alerting: Alerting): Promise<void> {
  const from = baseline.dir;
  const present = [];
  for (const name of STATE_FILES) {
    if (await pathExists(join(to, name))) present.push(name);
  }
  if (present.length > 0) {
    throw new Error(
      `${to} already holds chainwatch state (${present.join(', ')}); chainwatch keeps using ${from}. ` +
        'Choose an empty directory, or move those files away first',
    );
  }
  await baseline.moveTo(to);
  await alerting.moveStateTo(to);
}
