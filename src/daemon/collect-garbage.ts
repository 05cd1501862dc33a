import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// V8 runs a full collection only once the old generation has grown well past what is live, so
// after a 10,000-endpoint scan the daemon would sit on a couple of hundred MB of that scan's dead
// objects until the next one. Full collections after each scan, when they are all dead, hand the
// memory back (measured: 10k endpoints, see README Performance). Each costs tens of milliseconds.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * When to collect again after a scan. The work a scan hands to the background (alert deliveries
 * and their state file, compression of the published documents) lets go of its memory within
 * seconds; and V8 gives back the young generation it grew during the scan (32 MB) only in a full
 * collection made while the process allocates slowly, which it judges over the last 5 seconds.
 */
const QUIET_MS = [10_000, 30_000];
/** Pending quiet-time collections: a scan schedules them anew, so scans every second do not pile them up. */
let quiet: NodeJS.Timeout[] = [];

/**
 * A full collection now. Called when a scan's results are in and before they are published: the
 * probing and analysis leave tens of MB of garbage that V8 would otherwise carry into the peak
 * of building the report, the status page and the metrics text (10,000 endpoints: old space
 * 81 MB at that peak without it, 52 MB with it).
 */
export function collectGarbageNow(): void {
  gc();
}

/** Full garbage collections: on the next turn of the event loop (after the caller's frame is gone), and once the daemon is quiet. */
export function collectGarbageSoon(): void {
  setImmediate(gc);
  for (const timer of quiet) clearTimeout(timer);
  quiet = QUIET_MS.map((ms) => setTimeout(gc, ms).unref());
}
