// `chainwatch rules` as an operator runs it: the example config's policies become rules that
// Debian's promtool accepts, and a bad config is the usual one-line config error.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { PROMTOOL, runTool } from '../deploy/support.js';
import { chainwatch } from '../helpers/cli.js';

describe('chainwatch rules', () => {
  test('prints the generic rules and one rule per policy of the example config; promtool accepts them', async () => {
    const r = await chainwatch('rules', '--config', 'config/example.yaml');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const file = parse(r.stdout) as { groups: { name: string; rules: { alert: string; labels: Record<string, string> }[] }[] };
    const generated = file.groups.find((g) => g.name === 'chainwatch-policies');
    assert.ok(generated, 'a chainwatch-policies group');
    assert.deepEqual(
      generated.rules.filter((x) => x.labels.judged_by === 'prometheus').map((x) => x.labels.policy),
      ['pchat-web-same-ca', 'lync-internal-one-ca'],
    );
    assert.ok(
      file.groups.some((g) => g.name === 'chainwatch-certificates'),
      'the generic rules come first',
    );
    const dir = await mkdtemp(join(tmpdir(), 'chainwatch-rules-cli-'));
    try {
      await writeFile(join(dir, 'rules.yml'), r.stdout);
      const check = runTool(PROMTOOL, ['check', 'rules', 'rules.yml'], dir);
      assert.equal(check.status, 0, check.output);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a bad config is a config error naming the spot, exit 2, nothing on stdout', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chainwatch-rules-cli-'));
    try {
      await writeFile(join(dir, 'bad.yaml'), 'targets:\n  - name: a\n    group: g\n    host: h.test\npolicies:\n  - name: p\n    membres: [g]\n');
      const r = await chainwatch('rules', '--config', join(dir, 'bad.yaml'));
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /bad\.yaml:7:5: policies\[0\] \(p\)\.membres: unknown key 'membres'/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
