// The Alertmanager example: amtool accepts it, its routing tree sends each kind of chainwatch
// alert to the intended receiver, and the real Alertmanager running it groups divergence by
// policy, inhibits the PromQL duplicate of a daemon verdict, and renders chat messages from the
// alerts' annotations.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { freePort } from '../helpers/ports.js';
import { ALERTMANAGER, AMTOOL, deployPath, getJson, readDeploy, runTool, ServerProcess, tempDir, waitFor } from './support.js';

const CONFIG = 'alertmanager.yml';
const dir = deployPath('alertmanager');

describe('example alertmanager.yml', () => {
  test('amtool check-config accepts it with its templates', () => {
    const r = runTool(AMTOOL, ['check-config', CONFIG], dir);
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /SUCCESS/);
    assert.match(r.output, /1 templates/);
  });

  test('groups chainwatch alerts by policy and target', () => {
    const config = parse(readDeploy('alertmanager', CONFIG));
    assert.deepEqual(config.route.group_by, ['alertname', 'policy', 'target']);
  });

  const routes: [string[], string][] = [
    [['alertname=ChainwatchIssuerDivergence', 'severity=critical', 'policy=pchat-web-same-ca', 'target=pchat-web2'], 'tls-oncall'],
    [['alertname=ChainwatchCertificateExpiringSoon', 'severity=critical', 'target=pool01-fe01'], 'tls-oncall'],
    [['alertname=ChainwatchCertificateExpired', 'severity=critical', 'target=pool01-fe01'], 'tls-oncall'],
    [['alertname=ChainwatchCertificateExpiringSoon', 'severity=warning', 'target=pool01-fe01'], 'tls-chat'],
    [['alertname=ChainwatchWeakCrypto', 'severity=warning', 'target=edge01-internal'], 'tls-chat'],
    [['alertname=ChainwatchCertificateChanged', 'severity=info', 'target=pool01-fe01'], 'tls-chat'],
    [['alertname=ChainwatchScansStale', 'severity=warning', 'instance=chainwatch-a:9862'], 'tls-chat'],
  ];
  for (const [labels, receiver] of routes) {
    test(`routes ${labels.slice(0, 2).join(' ')} to ${receiver}`, () => {
      const r = runTool(AMTOOL, ['config', 'routes', 'test', `--config.file=${CONFIG}`, `--verify.receivers=${receiver}`, ...labels], dir);
      assert.equal(r.status, 0, r.output);
      assert.match(r.output, new RegExp(`^${receiver}$`, 'm'));
    });
  }

  test('the route check notices a wrong receiver', () => {
    const r = runTool(
      AMTOOL,
      ['config', 'routes', 'test', `--config.file=${CONFIG}`, '--verify.receivers=tls-oncall', 'alertname=ChainwatchWeakCrypto', 'severity=warning'],
      dir,
    );
    assert.notEqual(r.status, 0, r.output);
  });
});

interface Received {
  path: string;
  body: any;
}

describe('the real Alertmanager with the shipped config', () => {
  const tmp = tempDir('chainwatch-alertmanager-');
  const received: Received[] = [];
  let chat: Server | undefined;
  let alertmanager: ServerProcess | undefined;
  let base = '';

  before(async () => {
    // A loopback stand-in for Slack and the Teams bridge that records every message.
    chat = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ path: req.url ?? '', body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => chat!.listen(0, '127.0.0.1', resolve));
    const chatUrl = `http://127.0.0.1:${(chat.address() as AddressInfo).port}`;

    // The shipped routing, inhibition and templates; only the outside URLs point at loopback and
    // the first notification is not held back 30 s.
    const config = parse(readDeploy('alertmanager', CONFIG));
    config.route.group_wait = '1s';
    for (const r of config.receivers as { name: string; slack_configs?: Record<string, unknown>[]; webhook_configs?: Record<string, unknown>[] }[]) {
      for (const s of r.slack_configs ?? []) {
        const file = join(tmp.path, `${r.name}.url`);
        writeFileSync(file, `${chatUrl}/slack/${r.name}\n`);
        s.api_url_file = file;
      }
      for (const w of r.webhook_configs ?? []) w.url = `${chatUrl}/teams/${r.name}`;
    }
    config.templates = (config.templates as string[]).map((t) => join(dir, t));
    const configPath = join(tmp.path, CONFIG);
    writeFileSync(configPath, stringify(config));

    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    alertmanager = new ServerProcess(
      ALERTMANAGER,
      [
        `--config.file=${configPath}`,
        `--storage.path=${join(tmp.path, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=', // no gossip port on other interfaces
        '--log.level=warn',
      ],
      tmp.path,
    );
    await waitFor(
      'Alertmanager to be ready',
      async () => {
        if (!alertmanager!.running) throw new Error(`alertmanager exited:\n${alertmanager!.output}`);
        const res = await fetch(`${base}/-/ready`, { signal: AbortSignal.timeout(2_000) });
        return res.status === 200 ? true : undefined;
      },
      20_000,
      () => alertmanager!.output,
    );
  });

  after(async () => {
    await alertmanager?.stop();
    await new Promise((r) => (chat ? chat.close(r) : r(undefined)));
    tmp.remove();
  });

  test('divergence reaches on-call as one message per policy; the PromQL duplicate is inhibited', async () => {
    const divergence = (target: string, address: string, extra: Record<string, string> = {}) => ({
      labels: { alertname: 'ChainwatchIssuerDivergence', severity: 'critical', policy: 'pchat-web-same-ca', target, address, group: 'pchat-web', ...extra },
      annotations: {
        summary: `${target} (${address}) breaks CA policy pchat-web-same-ca`,
        description: `${target} presents a certificate issued by CN=Fabrikam TLS CA (issuing-CA key 3f2a9c1d).`,
      },
    });
    const alerts = [
      divergence('pchat-web2', '10.1.2.22'),
      divergence('pchat-web3', '10.1.2.23', { judged_by: 'daemon', instance: 'chainwatch-b:9862', job: 'chainwatch' }),
      divergence('pchat-web2', '10.1.2.22', { judged_by: 'prometheus', issuer_key_id: '3f2a9c1d' }),
      {
        labels: { alertname: 'ChainwatchCertificateExpiringSoon', severity: 'warning', target: 'pool01-fe01', address: '10.1.2.11', group: 'lync-internal' },
        annotations: { summary: 'Certificate of pool01-fe01 expires in 19d 23h 50m 0s', description: 'Renew it from the same issuing CA.' },
      },
    ];
    const res = await fetch(`${base}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alerts),
      signal: AbortSignal.timeout(5_000),
    });
    assert.equal(res.status, 200, await res.text());

    const oncall = await waitFor(
      'the on-call Slack message',
      async () => received.find((r) => r.path === '/slack/tls-oncall'),
      20_000,
      () => alertmanager!.output,
    );
    const attachment = oncall.body.attachments[0];
    assert.equal(attachment.title, '[FIRING:2] ChainwatchIssuerDivergence - policy pchat-web-same-ca');
    assert.match(attachment.text, /\*CRITICAL\* pchat-web2 \(10\.1\.2\.22\) breaks CA policy pchat-web-same-ca/);
    assert.match(attachment.text, /\*CRITICAL\* pchat-web3 \(10\.1\.2\.23\) breaks CA policy pchat-web-same-ca/);
    assert.match(attachment.text, /issued by CN=Fabrikam TLS CA/);

    const teams = await waitFor('the on-call Teams bridge message', async () => received.find((r) => r.path === '/teams/tls-oncall'), 10_000);
    assert.deepEqual(teams.body.alerts.map((a: { labels: { target: string } }) => a.labels.target).sort(), ['pchat-web2', 'pchat-web3']);
    assert.ok(teams.body.alerts.every((a: { labels: Record<string, string> }) => a.labels.judged_by !== 'prometheus'));

    const chatMsg = await waitFor('the chat Slack message', async () => received.find((r) => r.path === '/slack/tls-chat'), 10_000);
    assert.equal(chatMsg.body.attachments[0].title, '[FIRING:1] ChainwatchCertificateExpiringSoon - pool01-fe01');
    assert.match(chatMsg.body.attachments[0].text, /\*WARNING\* Certificate of pool01-fe01 expires in 19d 23h 50m 0s\nRenew it/);

    const { body } = await getJson(`${base}/api/v2/alerts`);
    const promql = (body as { labels: Record<string, string>; status: { state: string; inhibitedBy: string[] } }[]).find(
      (a) => a.labels.judged_by === 'prometheus',
    );
    assert.equal(promql?.status.state, 'suppressed');
    assert.equal(promql?.status.inhibitedBy.length, 1);
    assert.ok(!received.some((r) => r.path.endsWith('tls-chat') && JSON.stringify(r.body).includes('Divergence')), 'divergence went to on-call only');
  });
});
