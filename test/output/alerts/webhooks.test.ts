// Webhook delivery against loopback HTTP receivers: the exact body of each format, one message
// per transition, retries, timeouts, bounded shutdown, and no secrets in names or logs.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { WebhookConfig } from '../../../src/config/types.js';
import { createLogger } from '../../../src/log/logger.js';
import { AlertDispatcher, type AlertDispatcherOptions } from '../../../src/output/alerts/dispatcher.js';
import { countsOf, newCounter } from './counters.js';
import { eventually, type LoopbackReceiver, type Responder, startReceiver } from './processes.js';
import { CONTOSO, change, DAY, endpoint, FABRIKAM, okResult, pchatScan, scanOf, verdict } from './scans.js';

const EXTERNAL = 'http://127.0.0.1:9862';
const T0 = new Date('2025-06-01T12:00:00.000Z');
const T1 = new Date('2025-06-01T12:05:00.000Z');
const T2 = new Date('2025-06-01T12:10:00.000Z');

const LABELS = {
  alertname: 'ChainwatchIssuerDivergence',
  policy: 'pchat-web-same-ca',
  target: 'web2',
  address: '10.1.2.5',
  group: 'pchat-web',
  severity: 'critical',
};
const SUMMARY =
  'web2 (10.1.2.5) presents a certificate from Fabrikam TLS CA (key 3f2a8877…); policy pchat-web-same-ca expects Contoso Issuing CA 01 (key 42d1a9c0…)';
const DESCRIPTION =
  'web2 (10.1.2.5), in group pchat-web, presents a certificate issued by CN=Fabrikam TLS CA, O=Fabrikam (key id 3f2a8877c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6). ' +
  'Policy pchat-web-same-ca (match: issuer) requires the most common CA of reference group lync-internal: CN=Contoso Issuing CA 01, O=Contoso, C=US (key id 42d1a9c07be35f10c2d3e4f5a6b7c8d9e0f1a2b3). ' +
  'Bind a certificate issued by Contoso Issuing CA 01 on web2, or, if the new CA is intended, update the policy.';
const LINK = `${EXTERNAL}/targets/web2`;
const FINGERPRINT = '431caff102a8ffb0';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const open: { close(): Promise<unknown> }[] = [];
after(async () => {
  await Promise.all(open.map((o) => o.close()));
});

async function receiver(path: string, respond?: Responder): Promise<LoopbackReceiver> {
  const r = await startReceiver(path, respond);
  open.push(r);
  return r;
}

function dispatcher(hooks: WebhookConfig[], extra: Partial<AlertDispatcherOptions> = {}) {
  const counter = newCounter();
  const clock = { now: T0.getTime() };
  const d = new AlertDispatcher({
    alerting: { alertmanagerUrls: [], webhooks: hooks, resendIntervalMs: 60_000 },
    externalUrl: EXTERNAL,
    expiryWarningMs: 30 * DAY,
    deliveries: counter,
    retry: { baseMs: 50, maxMs: 200 },
    requestTimeoutMs: 2000,
    now: () => new Date(clock.now),
    ...extra,
  });
  open.push({ close: () => d.close(500) });
  return { d, counter, clock };
}

function expectedGeneric(status: 'firing' | 'resolved', endsAt: string | null) {
  return {
    version: '1',
    status,
    alert: {
      name: 'ChainwatchIssuerDivergence',
      fingerprint: FINGERPRINT,
      labels: LABELS,
      annotations: { summary: SUMMARY, description: DESCRIPTION },
      startsAt: T0.toISOString(),
      endsAt,
      generatorURL: LINK,
    },
  };
}

function expectedSlack(status: 'firing' | 'resolved') {
  const word = status === 'firing' ? 'FIRING' : 'RESOLVED';
  return {
    text: `${word} ChainwatchIssuerDivergence: ${SUMMARY}`,
    blocks: [
      {
        type: 'header',
        text: { type: 'plain_text', text: `${status === 'firing' ? ':red_circle:' : ':white_check_mark:'} ${word}: ChainwatchIssuerDivergence`, emoji: true },
      },
      { type: 'section', text: { type: 'mrkdwn', text: `*${SUMMARY}*\n${DESCRIPTION}` } },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: `address: 10.1.2.5 | group: pchat-web | policy: pchat-web-same-ca | severity: critical | target: web2 | <${LINK}|Open in chainwatch>`,
          },
        ],
      },
    ],
  };
}

function expectedTeams(status: 'firing' | 'resolved', endsAt: string | null) {
  const facts = [
    { title: 'address', value: '10.1.2.5' },
    { title: 'group', value: 'pchat-web' },
    { title: 'policy', value: 'pchat-web-same-ca' },
    { title: 'severity', value: 'critical' },
    { title: 'target', value: 'web2' },
    { title: 'since', value: T0.toISOString() },
  ];
  if (endsAt) facts.push({ title: 'resolved', value: endsAt });
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.2',
          body: [
            {
              type: 'TextBlock',
              text: `${status === 'firing' ? 'FIRING' : 'RESOLVED'}: ChainwatchIssuerDivergence`,
              weight: 'Bolder',
              size: 'Medium',
              color: status === 'firing' ? 'Attention' : 'Good',
              wrap: true,
            },
            { type: 'TextBlock', text: SUMMARY, weight: 'Bolder', wrap: true },
            { type: 'TextBlock', text: DESCRIPTION, wrap: true },
            { type: 'FactSet', facts },
          ],
          actions: [{ type: 'Action.OpenUrl', title: 'Open in chainwatch', url: LINK }],
        },
      },
    ],
  };
}

describe('webhooks', () => {
  it('each format gets exactly one message per transition, with its exact body, none for an unchanged condition', async () => {
    const generic = await receiver('/generic');
    const slack = await receiver('/services/T000/B000/XXXX');
    const teams = await receiver('/webhookb2/abc/IncomingWebhook/def');
    const { d, counter, clock } = dispatcher([
      { url: generic.url, format: 'generic' },
      { url: slack.url, format: 'slack' },
      { url: teams.url, format: 'teams' },
    ]);
    const all = [generic, slack, teams];

    const first = d.onScan(pchatScan(T0));
    assert.equal(first.firing.length, 1);
    await eventually('firing delivered', async () => all.every((r) => r.requests.length === 1));

    clock.now = T1.getTime();
    for (let i = 0; i < 3; i++) {
      const again = d.onScan(pchatScan(T1));
      assert.deepEqual([again.firing.length, again.unchanged.length, again.resolved.length], [0, 1, 0]);
    }

    clock.now = T2.getTime();
    const fixed = d.onScan(pchatScan(T2, { fixed: true }));
    assert.equal(fixed.resolved.length, 1);
    await eventually('resolved delivered', async () => all.every((r) => r.requests.length >= 2));
    await sleep(300);
    for (const r of all) assert.equal(r.requests.length, 2, `${r.url}: firing and resolved, nothing for the unchanged scans`);

    for (const r of all) assert.equal(r.requests[0]!.headers['content-type'], 'application/json');
    const bodies = (r: LoopbackReceiver) => r.requests.map((q) => JSON.parse(q.body) as unknown);
    assert.deepEqual(bodies(generic), [expectedGeneric('firing', null), expectedGeneric('resolved', T2.toISOString())]);
    assert.deepEqual(bodies(slack), [expectedSlack('firing'), expectedSlack('resolved')]);
    assert.deepEqual(bodies(teams), [expectedTeams('firing', null), expectedTeams('resolved', T2.toISOString())]);

    const counts = await countsOf(counter);
    assert.deepEqual(counts, {
      [`webhook:generic:${generic.host} success`]: 2,
      [`webhook:slack:${slack.host} success`]: 2,
      [`webhook:teams:${teams.host} success`]: 2,
    });
  });

  it('a receiver that fails twice (500) gets the message exactly once after retries; the counter shows retry then success', async () => {
    const flaky = await receiver('/flaky', (_req, n) => (n <= 2 ? { status: 500, body: 'upstream broke' } : { status: 204 }));
    const { d, counter } = dispatcher([{ url: flaky.url, format: 'generic' }]);
    d.onScan(pchatScan(T0));
    await eventually('delivered after retries', async () => (await countsOf(counter))[`webhook:generic:${flaky.host} success`] === 1);
    await sleep(300);
    assert.equal(flaky.requests.length, 3);
    assert.equal(flaky.delivered().length, 1);
    assert.ok(
      flaky.requests.every((r) => r.body === flaky.requests[0]!.body),
      'every try sends the same message',
    );
    assert.ok(flaky.requests[2]!.at - flaky.requests[1]!.at >= flaky.requests[1]!.at - flaky.requests[0]!.at - 20, 'backoff does not shrink');
    assert.deepEqual(await countsOf(counter), { [`webhook:generic:${flaky.host} retry`]: 2, [`webhook:generic:${flaky.host} success`]: 1 });
  });

  it('honours Retry-After on 429, within the configured bound', async () => {
    const busy = await receiver('/busy', (_req, n) => (n === 1 ? { status: 429, headers: { 'retry-after': '3600' } } : { status: 200 }));
    const { d, counter } = dispatcher([{ url: busy.url, format: 'slack' }], { retry: { baseMs: 50, maxMs: 200, maxRetryAfterMs: 1000 } });
    d.onScan(pchatScan(T0));
    await eventually('delivered and counted', async () => (await countsOf(counter))[`webhook:slack:${busy.host} success`] === 1);
    const waited = busy.requests[1]!.at - busy.requests[0]!.at;
    assert.ok(waited >= 900, `waited for Retry-After rather than the 50 ms backoff (${waited} ms)`);
    assert.ok(waited < 3000, `but no longer than the 1 s bound (${waited} ms)`);
    assert.deepEqual(await countsOf(counter), { [`webhook:slack:${busy.host} retry`]: 1, [`webhook:slack:${busy.host} success`]: 1 });
  });

  it('a Teams connector that reports throttling inside a 200 is retried', async () => {
    const teams = await receiver('/teams', (_req, n) =>
      n === 1 ? { status: 200, body: 'Microsoft Teams endpoint returned HTTP error 429 with ContextId tcid=0' } : { status: 200, body: '1' },
    );
    const { d, counter } = dispatcher([{ url: teams.url, format: 'teams' }]);
    d.onScan(pchatScan(T0));
    await eventually('second try', async () => teams.requests.length === 2);
    await eventually('counted', async () => (await countsOf(counter))[`webhook:teams:${teams.host} success`] === 1);
    assert.equal((await countsOf(counter))[`webhook:teams:${teams.host} retry`], 1);
  });

  it('a refusal (4xx other than 408/429) is a failure at once, not retried', async () => {
    const strict = await receiver('/strict', () => ({ status: 400, body: 'invalid_payload' }));
    const { d, counter } = dispatcher([{ url: strict.url, format: 'slack' }]);
    d.onScan(pchatScan(T0));
    await eventually('failure counted', async () => (await countsOf(counter))[`webhook:slack:${strict.host} failure`] === 1);
    await sleep(300);
    assert.equal(strict.requests.length, 1);
    assert.deepEqual(await countsOf(counter), { [`webhook:slack:${strict.host} failure`]: 1 });
  });

  it('a receiver that never answers times out and never delays a scan', async () => {
    const dead = await receiver('/dead', () => 'hang');
    const { d, counter } = dispatcher([{ url: dead.url, format: 'generic' }], { requestTimeoutMs: 1000, retry: { attempts: 2, baseMs: 50, maxMs: 50 } });
    const durations: number[] = [];
    for (let i = 0; i < 5; i++) {
      const at = new Date(T0.getTime() + i * 60_000);
      const started = performance.now();
      const result = d.onScan(pchatScan(at, { fixed: i % 2 === 1 }));
      durations.push(performance.now() - started);
      assert.equal(typeof (result as unknown as { then?: unknown }).then, 'undefined', 'onScan does not hand back a promise to wait on');
    }
    // 5 transitions are queued behind a receiver that hangs for 1 s per try; the scans did not wait.
    assert.ok(Math.max(...durations) < 250, `onScan returned at once each time (${durations.map((x) => x.toFixed(1)).join(', ')} ms)`);
    await eventually(
      'first message timed out twice and was given up',
      async () => (await countsOf(counter))[`webhook:generic:${dead.host} failure`] === 1,
      10_000,
    );
    assert.equal((await countsOf(counter))[`webhook:generic:${dead.host} retry`], 1);
    assert.ok(dead.requests.length >= 2);
  });

  it('shutdown waits only a bounded time to flush, and counts what it drops', async () => {
    const dead = await receiver('/dead', () => 'hang');
    const slow = await receiver('/ok');
    const { d, counter } = dispatcher(
      [
        { url: dead.url, format: 'teams' },
        { url: slow.url, format: 'generic' },
      ],
      { requestTimeoutMs: 30_000 },
    );
    d.onScan(pchatScan(T0));
    await eventually('request in flight', async () => dead.requests.length === 1 && slow.delivered().length === 1);
    const started = Date.now();
    const { dropped } = await d.close(500);
    const took = Date.now() - started;
    assert.ok(took >= 400 && took < 3000, `close waited about its bound (${took} ms)`);
    assert.equal(dropped, 0, 'the in-flight message was aborted, counted in the loop');
    const counts = await countsOf(counter);
    assert.equal(counts[`webhook:teams:${dead.host} dropped`], 1);
    assert.equal(counts[`webhook:generic:${slow.host} success`], 1);
  });

  it('a full queue drops the oldest waiting messages and counts them', async () => {
    const dead = await receiver('/dead', () => 'hang');
    const { d, counter } = dispatcher([{ url: dead.url, format: 'generic' }], { maxQueue: 2, requestTimeoutMs: 30_000 });
    const web = ['a', 'b', 'c', 'd', 'e'].map((n, i) => endpoint(`web-${n}`, 'pchat-web', `10.1.3.${i + 1}`));
    const scan = scanOf(
      T0,
      web.map((ep) => okResult(ep, FABRIKAM, new Date(T0.getTime() + 300 * DAY), T0)),
      [
        verdict(
          'pchat-web-same-ca',
          CONTOSO,
          web.map((ep) => ({ ep, ca: FABRIKAM })),
        ),
      ],
    );
    assert.equal(d.onScan(scan).firing.length, 5);
    // One in flight, two waiting, two dropped.
    assert.equal((await countsOf(counter))[`webhook:generic:${dead.host} dropped`], 2);
    await d.close(200);
    assert.equal((await countsOf(counter))[`webhook:generic:${dead.host} dropped`], 5);
  });

  it('a certificate change is announced once; chat gets no "resolved" when its hold runs out, generic does', async () => {
    const generic = await receiver('/generic');
    const teams = await receiver('/teams');
    const { d, clock } = dispatcher(
      [
        { url: generic.url, format: 'generic' },
        { url: teams.url, format: 'teams' },
      ],
      { changeHoldMs: 10 * 60_000 },
    );
    const ep = endpoint('web1', 'pchat-web', '10.1.2.4');
    const ok = okResult(ep, CONTOSO, new Date(T0.getTime() + 300 * DAY), T0);
    d.onScan(scanOf(T0, [ok], [], [change(ep, 'renewal', CONTOSO, CONTOSO, T0)]));
    clock.now = T1.getTime();
    assert.equal(d.onScan(scanOf(T1, [ok])).unchanged.length, 1, 'held while within the hold');
    clock.now = T0.getTime() + 11 * 60_000;
    assert.equal(d.tick().resolved.length, 1);
    await eventually('generic got firing and resolved', async () => generic.requests.length === 2);
    await sleep(300);
    assert.equal(teams.requests.length, 1);
    const [firing, resolved] = generic.requests.map((r) => JSON.parse(r.body) as { status: string; alert: { labels: Record<string, string> } });
    assert.equal(firing!.status, 'firing');
    assert.equal(firing!.alert.labels.alertname, 'ChainwatchCertificateChanged');
    assert.equal(resolved!.status, 'resolved');
  });

  it('a config reload keeps the firing set and the receivers that stay; new ones join', async () => {
    const a = await receiver('/a');
    const b = await receiver('/b');
    const { d, counter } = dispatcher([{ url: a.url, format: 'generic' }]);
    d.onScan(pchatScan(T0));
    await eventually('a got firing', async () => a.requests.length === 1);
    d.reconfigure(
      {
        alertmanagerUrls: [],
        webhooks: [
          { url: a.url, format: 'generic' },
          { url: b.url, format: 'slack' },
        ],
        resendIntervalMs: 60_000,
      },
      EXTERNAL,
      30 * DAY,
    );
    assert.deepEqual(d.receivers(), [`webhook:generic:${a.host}`, `webhook:slack:${b.host}`]);
    assert.equal(d.onScan(pchatScan(T1)).unchanged.length, 1, 'still firing after the reload, not announced again');
    d.onScan(pchatScan(T2, { fixed: true }));
    await eventually('both got the resolution', async () => a.requests.length === 2 && b.requests.length === 1);
    await sleep(300);
    assert.deepEqual(
      a.requests.map((r) => (JSON.parse(r.body) as { status: string }).status),
      ['firing', 'resolved'],
    );
    assert.match(b.requests[0]!.body, /RESOLVED/);
    d.reconfigure({ alertmanagerUrls: [], webhooks: [], resendIntervalMs: 60_000 }, EXTERNAL, 30 * DAY);
    assert.deepEqual(d.receivers(), []);
    await eventually('counted', async () => (await countsOf(counter))[`webhook:slack:${b.host} success`] === 1);
  });

  it('names receivers by host only and keeps URL paths and credentials out of logs and metrics', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', format: 'json', sink: { write: (s: string) => lines.push(s) } });
    const hook = await receiver('/webhookb2/SECRET-TOKEN-123/IncomingWebhook/x', (_r, n) => (n === 1 ? { status: 503 } : { status: 200 }));
    const url = hook.url.replace('http://', 'http://bot:hunter2@');
    const { d, counter } = dispatcher([{ url, format: 'teams' }], { logger });
    assert.deepEqual(d.receivers(), [`webhook:teams:${hook.host}`]);
    d.onScan(pchatScan(T0));
    await eventually('delivered', async () => hook.delivered().length === 1);
    assert.equal(hook.requests[0]!.path, '/webhookb2/SECRET-TOKEN-123/IncomingWebhook/x');
    assert.equal(hook.requests[0]!.headers.authorization, `Basic ${Buffer.from('bot:hunter2').toString('base64')}`);
    const metrics = JSON.stringify(await counter.get());
    const logs = lines.join('');
    assert.match(logs, /alert delivery failed; retrying/);
    for (const text of [metrics, logs]) {
      assert.doesNotMatch(text, /SECRET-TOKEN|hunter2|webhookb2/);
      assert.match(text, new RegExp(`webhook:teams:${hook.host.replace(/\./g, '\\.')}`));
    }
  });
});
