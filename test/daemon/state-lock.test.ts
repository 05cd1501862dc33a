// Two daemons on one state.path: the second is refused at start with a message naming the first,
// and exit code 2; once the first is killed with SIGKILL, a new one takes its place.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { chainwatch } from '../helpers/cli.js';
import { killAll, spawnChainwatch } from '../helpers/daemon-process.js';

describe('state directory lock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chainwatch-lock-'));
  after(() => {
    killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a second daemon on the same state.path, and lets one start after the first was killed', async () => {
    const config = join(dir, 'chainwatch.yaml');
    writeFileSync(
      config,
      'scan:\n  schedule: "0 0 1 1 *"\nstate:\n  path: ./state\nserver:\n  listen: 127.0.0.1:0\ntargets:\n  - name: t1\n    group: g\n    host: 127.0.0.1\n    port: 9\n',
    );
    const first = spawnChainwatch(['run', '--config', config]);
    await first.waitForLog((r) => r.msg === 'chainwatch started', 'the first daemon to start', 60_000);

    const second = spawnChainwatch(['run', '--config', config]);
    const exit = await second.exited;
    assert.equal(exit.code, 2);
    assert.match(second.stderr(), new RegExp(`not starting: state\\.path .*state is in use by another chainwatch \\(pid ${first.proc.pid} on `));

    // A one-off scan beside the daemon reads the baseline freely, but may not write it.
    const read = await chainwatch('scan', '--config', config, '--format', 'json');
    assert.equal(read.code, 1, read.stderr); // the target's port is closed: a finding
    const save = await chainwatch('scan', '--config', config, '--format', 'json', '--save');
    assert.equal(save.code, 2);
    assert.match(save.stderr, new RegExp(`cannot --save: state\\.path .* is in use by another chainwatch \\(pid ${first.proc.pid} `));

    first.proc.kill('SIGKILL');
    await first.exited;
    const third = spawnChainwatch(['run', '--config', config]);
    await third.waitForLog(
      (r) => r.msg === 'took over the state lock of a chainwatch that stopped without releasing it',
      'the stale lock to be taken over',
      60_000,
    );
    await third.waitForLog((r) => r.msg === 'chainwatch started', 'the third daemon to start', 60_000);
    third.proc.kill('SIGTERM');
    assert.equal((await third.exited).code, 0);
  });
});
