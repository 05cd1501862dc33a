import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// V8 runs a full collection only once the old generation has grown well past what is live, so
// after a 10,000-endpoint scan the daemon would sit on a couple of hundred MB of that scan's dead
// objects until the next one. One full collection after each scan, when they are all dead, hands
// the memory back (measured: 10k endpoints, see README Performance). It costs tens of
// milliseconds once per scan.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A full garbage collection, on the next turn of the event loop (after the caller's frame is gone). */
export function collectGarbageSoon(): void {
  setImmediate(gc);
}
