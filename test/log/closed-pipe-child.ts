// Run by logger.test.ts with stdout on a pipe whose reader goes away: logs for a while, then says
// on stderr that it is still alive.
import { createLogger } from '../../src/log/logger.js';

const log = createLogger({ format: 'json' });
let n = 0;
const timer = setInterval(() => {
  log.info('tick', { n: n++, padding: 'x'.repeat(4096) });
  if (n === 60) {
    clearInterval(timer);
    process.stderr.write('still alive\n');
  }
}, 5);
