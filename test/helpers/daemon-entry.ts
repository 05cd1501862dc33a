// A stand-in for `chainwatch run|demo` while the CLI does not have them: the same functions the
// CLI calls, behind the same arguments.
import { runDaemon } from '../../src/daemon/daemon.js';
import { demoMain } from '../../src/demo/demo.js';

const [command, ...rest] = process.argv.slice(2);
if (command === 'run') {
  const i = rest.indexOf('--config');
  process.exitCode = await runDaemon(rest[i + 1] ?? '');
} else if (command === 'demo') {
  process.exitCode = await demoMain(rest);
} else {
  process.stderr.write(`unknown command ${command}\n`);
  process.exitCode = 2;
}
