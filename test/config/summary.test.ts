import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { redactUrl, summarizeConfig } from '../../src/config/summary.js';

test('summary lists targets per group, policies, schedule, trust, state, listen and receivers without secrets', async () => {
  const text = [
    'scan: {timeout: 5s, concurrency: 16}',
    'dns: {servers: ["127.0.0.1:5353"]}',
    'trust: {system_roots: true}',
    'state: {path: /var/lib/chainwatch}',
    'server: {listen: "127.0.0.1:9862"}',
    'alerting:',
    '  alertmanager_url: ["http://admin:hunter2@am-a.test:9093", "http://am-b.test:9093"]',
    '  webhooks:',
    '    - {url: "https://contoso.webhook.office.com/webhookb2/SECRET-TOKEN?sig=abc", format: teams}',
    'targets:',
    '  - {name: pool01-sip, group: lync-internal, host: pool01.contoso.test, port: 5061, resolve: all}',
    '  - {name: edge-int, group: lync-internal, host: edge.contoso.test, port: 5061, address: 10.1.20.5}',
    '  - {name: pchat-files, group: pchat-web, url: "https://pool01.contoso.test/PersistentChat/MGCWebService.asmx"}',
    'policies:',
    '  - {name: pchat-web-same-ca, reference: lync-internal, members: [pchat-web]}',
  ].join('\n');
  const summary = summarizeConfig(await parseConfig(text, join('/etc/chainwatch', 'chainwatch.yaml')));
  const lines = summary.split('\n');
  assert.equal(lines[0], 'config /etc/chainwatch/chainwatch.yaml');
  assert.ok(lines.includes('targets: 3 targets in 2 groups'));
  assert.ok(lines.includes('  lync-internal    2  pool01-sip pool01.contoso.test:5061 (every address), edge-int edge.contoso.test:5061 via 10.1.20.5'), summary);
  assert.ok(lines.includes('  pchat-web        1  pchat-files pool01.contoso.test:443'), summary);
  assert.ok(lines.includes('policies: 1'));
  assert.ok(lines.includes('  pchat-web-same-ca: pchat-web must use the issuing CAs of lync-internal'));
  assert.ok(lines.includes('schedule: */5 * * * * (timeout 5s, concurrency 16, expiry warning 30d, critical 7d)'));
  assert.ok(lines.includes('dns: servers 127.0.0.1:5353'));
  assert.ok(lines.includes('trust: system roots'));
  assert.ok(lines.includes('state: /var/lib/chainwatch (retention 7d)'));
  assert.ok(lines.includes('listen: 127.0.0.1:9862'));
  assert.ok(lines.includes('alerting: alertmanager http://am-a.test:9093, alertmanager http://am-b.test:9093, teams webhook https://contoso.webhook.office.com; re-send every 1m'), summary);
  for (const secret of ['hunter2', 'admin', 'SECRET-TOKEN', 'sig=abc', 'webhookb2']) assert.ok(!summary.includes(secret), `summary leaks '${secret}'`);
});

test('redactUrl keeps scheme and host only', () => {
  assert.equal(redactUrl('https://user:pw@hooks.test:8443/path/TOKEN?x=1#y'), 'https://hooks.test:8443');
  assert.equal(redactUrl('not a url'), '(invalid URL)');
});
