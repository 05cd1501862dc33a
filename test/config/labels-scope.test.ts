import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { configError } from './support.js';

function target(name: string, group: string, labels: string | null): string {
  return `  - name: ${name}\n    group: ${group}\n    host: ${name}.contoso.test\n${labels === null ? '' : `    labels: ${labels}\n`}`;
}

function oneIssue(err: { issues: { line: number; column: number; key: string; message: string }[] }): {
  line: number;
  column: number;
  key: string;
  message: string;
} {
  assert.equal(err.issues.length, 1, JSON.stringify(err.issues));
  return err.issues[0]!;
}

describe('target labels', () => {
  test('are read as strings and reach the target; a target without any has none', async () => {
    const c = await parseConfig(`targets:\n${target('fe', 'g', '{site: dublin, pool: pool01, rack: 7}')}${target('edge', 'g', null)}`, 'cfg.yaml');
    assert.deepEqual(
      c.targets.map((t) => t.labels),
      [{ site: 'dublin', pool: 'pool01', rack: '7' }, {}],
    );
  });

  test('a label name that is not a Prometheus label name is refused at its position', async () => {
    const i = oneIssue(await configError(`targets:\n${target('fe', 'g', '{site-name: dublin}')}`));
    assert.deepEqual([i.line, i.column, i.key], [5, 14, 'targets[0] (fe).labels.site-name']);
    assert.match(i.message, /'site-name' is not a valid label name/);
  });

  test('a built-in label name is refused, naming the key', async () => {
    for (const name of ['group', 'target', 'address', 'policy', 'issuer_dn', 'judged_by', 'severity', '__meta']) {
      const i = oneIssue(await configError(`targets:\n${target('fe', 'g', `{${name}: x}`)}`));
      assert.equal(i.key, `targets[0] (fe).labels.${name}`);
      assert.equal(i.line, 5);
      assert.match(i.message, name === '__meta' ? /reserves/ : /already sets/);
    }
  });

  test('a label value must be a scalar', async () => {
    const i = oneIssue(await configError(`targets:\n${target('fe', 'g', '{site: [a, b]}')}`));
    assert.equal(i.key, 'targets[0] (fe).labels.site');
    assert.match(i.message, /expected a label value/);
  });
});

describe('policy scope', () => {
  const fleet = `targets:\n${target('dub-fe', 'fe', '{site: dublin}')}${target('dub-web', 'web', '{site: dublin}')}${target('lon-fe', 'fe', '{site: london}')}`;

  test('defaults to none; none and a label name are accepted', async () => {
    const c = await parseConfig(
      `${fleet}policies:\n  - {name: a, reference: fe, members: [web]}\n  - {name: b, members: [fe], scope: none}\n  - {name: c, reference: fe, members: [web], scope: site}\n`,
      'cfg.yaml',
    );
    assert.deepEqual(
      c.policies.map((p) => p.scope),
      [null, null, 'site'],
    );
  });

  test('a scope no target carries is refused, listing the label names there are', async () => {
    const i = oneIssue(await configError(`${fleet}policies:\n  - {name: c, reference: fe, members: [web], scope: pool}\n`));
    assert.equal(i.key, 'policies[0] (c).scope');
    assert.match(i.message, /no target has label 'pool' \(label names in this config: site\)/);
  });

  test('a target of the policy without the scope label is an error at that target', async () => {
    const text = `${fleet}${target('lon-web', 'web', null)}${target('other', 'x', null)}policies:\n  - {name: c, reference: fe, members: [web], scope: site}\n`;
    const i = oneIssue(await configError(text));
    assert.deepEqual([i.line, i.column, i.key], [14, 5, 'targets[3] (lon-web).labels']);
    assert.match(i.message, /policy 'c' is judged per site \(scope: site\), but target 'lon-web' \(group web\) has no 'site' label/);
  });

  test('a group cannot be both the reference and a member', async () => {
    const i = oneIssue(await configError(`${fleet}policies:\n  - {name: c, reference: fe, members: [fe, web]}\n`));
    assert.equal(i.key, 'policies[0] (c).members[0]');
    assert.match(i.message, /both the reference and a member/);
  });
});
