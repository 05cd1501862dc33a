// The config loader against generated input: whatever the bytes, it answers with a config or a
// ConfigError, never another exception. Fixed seed and a bounded number of runs, so a failure
// reproduces; CHAINWATCH_FUZZ_RUNS=100000 runs longer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { ConfigError } from '../../src/config/errors.js';
import { parseConfig } from '../../src/config/load.js';

const RUNS = Number(process.env.CHAINWATCH_FUZZ_RUNS ?? 300);
const SEED = 20261130;

async function loadsOrRefuses(text: string): Promise<void> {
  try {
    await parseConfig(text, '/srv/chainwatch/fuzz.yaml');
  } catch (err) {
    if (err instanceof ConfigError) {
      assert.ok(err.issues.length > 0);
      for (const i of err.issues) assert.ok(i.line >= 1 && i.column >= 1, JSON.stringify(i));
      return;
    }
    throw err;
  }
}

// YAML's punctuation and the config's own words, so generated text reaches deep into the reader.
const TOKENS = [
  '\n',
  '  ',
  '- ',
  ': ',
  '[',
  ']',
  '{',
  '}',
  ',',
  '"',
  "'",
  '#',
  '&a ',
  '*a',
  '|',
  '>',
  '? ',
  '!!str ',
  '---\n',
  '\t',
  'targets',
  'name',
  'group',
  'host',
  'port',
  'url',
  'address',
  'resolve',
  'sni',
  'role',
  'client_cert',
  'cert',
  'key',
  'policies',
  'members',
  'reference',
  'match',
  'allowed_issuers',
  'scan',
  'timeout',
  'schedule',
  'concurrency',
  'dns',
  'servers',
  'trust',
  'ca_files',
  'system_roots',
  'server',
  'listen',
  'alerting',
  'webhooks',
  'alertmanager_url',
  '10s',
  '0',
  '-1',
  '443',
  '65536',
  '1e400',
  'null',
  'true',
  '~',
  'https://h.test/',
  'tls://[::1]:1',
  '::1',
  '*/5 * * * *',
  '\u0000',
  '\uFEFF',
  '€',
];

test('random text never throws anything but a ConfigError', async () => {
  await fc.assert(fc.asyncProperty(fc.string({ maxLength: 400 }), loadsOrRefuses), { seed: SEED, numRuns: RUNS });
});

test('text made of YAML punctuation and config words never throws anything but a ConfigError', async () => {
  const text = fc.array(fc.constantFrom(...TOKENS), { maxLength: 120 }).map((parts) => parts.join(''));
  await fc.assert(fc.asyncProperty(text, loadsOrRefuses), { seed: SEED, numRuns: RUNS });
});

test('well-formed YAML of any shape under the config keys never throws anything but a ConfigError', async () => {
  const leaf = fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constantFrom(...TOKENS));
  const { tree } = fc.letrec((tie) => ({
    tree: fc.oneof(
      { depthSize: 'small' },
      leaf,
      fc.array(tie('tree'), { maxLength: 4 }),
      fc.dictionary(fc.constantFrom(...TOKENS.filter((t) => /^[a-z_]+$/.test(t))), tie('tree'), { maxKeys: 5 }),
    ),
  }));
  const config = fc.record(
    {
      scan: tree,
      dns: tree,
      trust: tree,
      state: tree,
      server: tree,
      alerting: tree,
      targets: fc.array(fc.dictionary(fc.constantFrom('name', 'group', 'host', 'port', 'url', 'address', 'resolve', 'sni', 'role', 'client_cert'), tree), {
        maxLength: 3,
      }),
      policies: tree,
    },
    { requiredKeys: [] },
  );
  await fc.assert(
    fc.asyncProperty(config, (c) => loadsOrRefuses(stringify(c))),
    { seed: SEED, numRuns: RUNS },
  );
});
