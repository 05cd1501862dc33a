import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import cron from 'node-cron';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { defaultOf, OPTIONS, optionsMarkdown } from '../../src/config/options.js';
import { DEFAULT_SCHEDULE } from '../../src/config/values.js';
import { configError, ONE_TARGET } from './support.js';

const EXAMPLE = readFileSync(new URL('../../config/example.yaml', import.meta.url), 'utf8');

test('writing every documented default explicitly changes nothing', async () => {
  const sections: Record<string, Record<string, unknown>> = {};
  for (const o of OPTIONS) {
    const [section, key, ...rest] = o.key.split('.');
    if (!key || rest.length > 0 || section!.endsWith('[]') || key.endsWith('[]')) continue;
    if (o.default === null) continue;
    sections[section!] = { ...sections[section!], [key]: o.default };
  }
  assert.deepEqual(Object.keys(sections).sort(), ['alerting', 'dns', 'revocation', 'scan', 'server', 'state', 'trust']);
  const dir = '/srv/chainwatch';
  const explicit = await parseConfig(`${stringify(sections)}${ONE_TARGET}`, join(dir, 'a.yaml'));
  const implicit = await parseConfig(ONE_TARGET, join(dir, 'b.yaml'));
  assert.deepEqual({ ...explicit, source: '' }, { ...implicit, source: '' });
  // And target-level defaults: port, resolve.
  const t = await parseConfig('targets:\n  - {name: a, group: g, host: h.test, port: 443, resolve: first}\n', join(dir, 'c.yaml'));
  assert.deepEqual(
    t.targets,
    implicit.targets.map((x) => ({ ...x, name: 'a', host: 'h.test', sni: 'h.test' })),
  );
});

test('every option in the table is documented in config/example.yaml', () => {
  for (const o of OPTIONS) {
    const leaf = o.key.split('.').at(-1)!.replace(/\[\]$/, '');
    assert.match(EXAMPLE, new RegExp(`(^|[\\s{#-])${leaf}:`, 'm'), `config/example.yaml does not mention ${o.key}`);
    assert.ok(o.description.length >= 8, `${o.key} needs a description`);
  }
});

test('the validator knows exactly the keys of the table, at every level', async () => {
  // An unknown key lists the known keys of its mapping: they must be the table's.
  const knownAt = async (text: string): Promise<string[]> => {
    const err = await configError(text);
    const m = /known keys here: (.*)$/m.exec(err.message);
    assert.ok(m, err.message);
    return m[1]!.split(', ');
  };
  const keys = (prefix: string): string[] =>
    OPTIONS.filter((o) => o.key.startsWith(prefix) && !o.key.slice(prefix.length).includes('.')).map((o) => o.key.slice(prefix.length).replace(/\[\]$/, ''));
  assert.deepEqual(await knownAt(`qqqqqqqq: 1\n${ONE_TARGET}`), ['scan', 'dns', 'trust', 'state', 'server', 'revocation', 'alerting', 'targets', 'policies']);
  assert.deepEqual(await knownAt(`scan:\n  qqqqqqqq: 1\n${ONE_TARGET}`), keys('scan.'));
  const target = '  - {name: t, group: g, host: h.test';
  assert.deepEqual(await knownAt(`targets:\n${target}, qqqqqqqq: 1}\n`), [
    'name',
    'group',
    'host',
    'port',
    'url',
    'address',
    'resolve',
    'sni',
    'role',
    'labels',
    'starttls',
    'client_cert',
  ]);
  assert.deepEqual(await knownAt(`targets:\n${target}, client_cert: {qqqqqqqq: 1}}\n`), keys('targets[].client_cert.'));
  assert.deepEqual(await knownAt(`policies:\n  - {name: p, members: [g], qqqqqqqq: 1}\n${ONE_TARGET}`), keys('policies[].'));
  assert.deepEqual(await knownAt(`alerting:\n  webhooks:\n    - {url: "https://x.test", qqqqqqqq: 1}\n${ONE_TARGET}`), keys('alerting.webhooks[].'));
});

test('every default in the table reads with its own parser', async () => {
  const c = await parseConfig(ONE_TARGET, '/srv/chainwatch/c.yaml');
  assert.equal(c.server.listen.port, Number(String(defaultOf('server.listen')).split(':')[1]));
  assert.equal(c.state.path, '/srv/chainwatch/state');
  assert.equal(c.targets[0]!.port, defaultOf('targets[].port'));
});

test('the default schedule, which the config reader takes without node-cron, is one node-cron accepts', () => {
  assert.equal(defaultOf('scan.schedule'), DEFAULT_SCHEDULE);
  const check = cron.validateDetailed(DEFAULT_SCHEDULE);
  assert.deepEqual([check.valid, check.errors], [true, []]);
});

test('optionsMarkdown renders one row per option with its default', () => {
  const md = optionsMarkdown().split('\n');
  assert.equal(md[0], '| key | value | default | what it does |');
  assert.ok(md.includes('| `scan.timeout` | duration | `10s` | One deadline per connection attempt, covering TCP connect and TLS handshake (at most 1h). |'));
  assert.ok(
    md.includes('| `scan.schedule` | cron expression (5 or 6 fields) | `"*/5 * * * *"` | When the daemon scans (node-cron syntax; 6 fields adds seconds). |'),
  );
  assert.ok(md.some((l) => l.startsWith('| `targets[].name` | string | required |')));
  assert.ok(md.some((l) => l.startsWith('| `targets[].sni` | hostname | host; none when host is an IP address |')));
  assert.ok(md.some((l) => l.startsWith('| `targets[].resolve` | first \\| all | `first` |')));
  // Top-level sections are headings, not options; everything else has a row.
  assert.equal(md.length - 2, OPTIONS.filter((o) => o.key.includes('.') || o.type !== 'mapping').length);
});
