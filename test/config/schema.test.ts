import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema.js';
import { GENERATED_DOCS, readDoc } from '../support/generate-docs.js';
import { ONE_TARGET } from './support.js';

const validate = new Ajv2020({ strict: true, strictRequired: false, allErrors: true }).compile(configSchema());

function errorsOf(yaml: string): string[] {
  return validate(parse(yaml)) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

test('the generated docs are committed as generated (run `npm run docs` after changing the options table)', () => {
  for (const doc of GENERATED_DOCS) {
    const current = readDoc(doc.path);
    assert.equal(current, doc.render(current), `${doc.path} is out of date: run npm run docs`);
  }
});

test('every shipped config validates against the schema, and says where the schema is', () => {
  const dir = new URL('../../config/', import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.length > 0);
  for (const f of files) {
    const text = readFileSync(new URL(f, dir), 'utf8');
    assert.deepEqual(errorsOf(text), [], f);
    assert.match(text, /^# yaml-language-server: \$schema=\.\.\/docs\/config\.schema\.json$/m, f);
  }
});

test('the schema refuses what the loader refuses, for mistakes a schema can see', async () => {
  const refused = [
    `scan:\n  timout: 10s\n${ONE_TARGET}`,
    `scan:\n  timeout: 10\n${ONE_TARGET}`,
    `scan:\n  concurrency: 0\n${ONE_TARGET}`,
    `trust:\n  system_roots: "yes"\n${ONE_TARGET}`,
    'targets: []\n',
    'scan:\n  timeout: 10s\n',
    'targets:\n  - {name: a, group: g}\n',
    'targets:\n  - {name: a, group: g, host: h.test, port: 70000}\n',
    'targets:\n  - {name: a, group: g, host: h.test, resolve: every}\n',
    `policies:\n  - {name: p}\n${ONE_TARGET}`,
    `alerting:\n  webhooks:\n    - {url: "https://x.test", format: discord}\n${ONE_TARGET}`,
  ];
  for (const text of refused) {
    assert.notDeepEqual(errorsOf(text), [], `schema accepted:\n${text}`);
    await assert.rejects(parseConfig(text, 'x.yaml'), { name: 'ConfigError' }, `loader accepted:\n${text}`);
  }
});

test('the schema accepts what the loader accepts: empty sections, one or many Alertmanagers, url targets', async () => {
  const accepted = [
    `scan:\ndns:\npolicies:\n${ONE_TARGET}`,
    `alerting:\n  alertmanager_url: http://am:9093\n${ONE_TARGET}`,
    `alerting:\n  alertmanager_url: [http://am1:9093, http://am2:9093]\n${ONE_TARGET}`,
    'targets:\n  - {name: a, group: g, url: "https://h.test/x"}\n  - {name: b, group: g, host: "::1", port: 5061, sni: h.test}\n',
    `scan:\n  timeout: 1.5m\n  schedule: "0 */2 * * * *"\n${ONE_TARGET}`,
  ];
  for (const text of accepted) {
    assert.deepEqual(errorsOf(text), [], text);
    await parseConfig(text, '/srv/x.yaml');
  }
});
