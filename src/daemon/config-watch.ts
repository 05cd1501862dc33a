// Notices edits to the config file. The folder is watched, not the file: editors and config
// management tools replace a file by writing a new one and renaming it over the old, which ends
// a watch on the file itself. Events come in bursts, so they are debounced.

import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from '../log/logger.js';

export interface ConfigWatcher {
  close(): void;
}

export function watchConfigFile(file: string, onChange: () => void, log: Logger, debounceMs = 300): ConfigWatcher {
  const dir = dirname(file);
  const name = basename(file);
  let timer: NodeJS.Timeout | null = null;
  let watcher: FSWatcher | null = null;
  let closed = false;

  const fire = () => {
    timer = null;
    if (!closed) onChange();
  };
  try {
    watcher = watch(dir, { persistent: false }, (_event, changed) => {
      // Some platforms do not say which file changed; then any change in the folder counts.
      // Kubernetes updates a ConfigMap volume by swapping the `..data` symlink, never touching
      // the file's own name; the daemon compares contents, so an extra event costs nothing.
      if (changed !== null && changed !== undefined && changed.toString() !== name && changed.toString() !== '..data') return;
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(fire, debounceMs);
    });
    watcher.on('error', (err) => {
      log.warn('stopped watching the config folder; send SIGHUP (or restart) to apply config changes', { dir, err });
      watcher?.close();
    });
  } catch (err) {
    log.warn('cannot watch the config folder; send SIGHUP (or restart) to apply config changes', { dir, err });
  }
  return {
    close() {
      closed = true;
      if (timer !== null) clearTimeout(timer);
      watcher?.close();
    },
  };
}
