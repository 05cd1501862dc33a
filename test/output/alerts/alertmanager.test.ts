// The dispatcher against Debian's real Alertmanager (0.25): what an operator sees in
// /api/v2/alerts after chainwatch pushed, re-sent and resolved.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AlertDispatcher } from '../../../src/output/alerts/dispatcher.js';
import { countsOf, newCounter } from './counters.js';
import { eventually, type RunningAlertmanager, startAlertmanager, startReceiver } from './processes.js';
import { CONTOSO, DAY, endpoint, okResult, pchatScan } from './scans.js';

const EXTERNAL = 'http://127.0.0.1:9862';

describe('Alertmanager push', () => {
  let am1: RunningAlertmanager;
  let am2: RunningAlertmanager;
  const dispatchers: AlertDispatcher[] = [];

  before(async () => {
    [am1, am2] = await Promise.all([startAlertmanager(), startAlertmanager()]);
  });
  after(async () => {
    await Promise.all(dispatchers.map((d) => d.close(1000)));
    await Promise.all([am1?.stop(), am2?.stop()]);
  });

  function dispatcher(urls: string[], resendIntervalMs = 60_000, extra: Partial<ConstructorParameters<typeof AlertDispatcher>[0]> = {}) {
    const d = new AlertDispatcher({
      alerting: { alertmanagerUrls: urls, webhooks: [], resendIntervalMs },
      externalUrl: EXTERNAL,
      expiryWarningMs: 30 * DAY,
      retry: { baseMs: 50, maxMs: 200 },
      requestTimeoutMs: 2000,
      ...extra,
    });
    dispatchers.push(d);
    return d;
  }

  it('divergence becomes active in both Alertmanagers of an HA pair with exact labels and annotations, and resolves when fixed', async () => {
    const counter = newCounter();
    const d = dispatcher([am1.url, am2.url], 60_000, { deliveries: counter });
    // A second condition on another endpoint that stays, so "resolved" is not just "Alertmanager is empty".
    const sip = endpoint('sip1', 'lync-internal', '10.1.1.10', 5061);
    const withExpiring = (scan: ReturnType<typeof pchatScan>, at: Date) => ({
      ...scan,
      endpoints: [...scan.endpoints, okResult(sip, CONTOSO, new Date(at.getTime() + 10 * DAY), at)],
    });

    const t0 = new Date();
    const first = d.onScan(withExpiring(pchatScan(t0), t0));
    assert.equal(first.firing.length, 2);

    for (const am of [am1, am2]) {
      const alerts = await eventually('divergence active in Alertmanager', async () => {
        const list = await am.activeAlerts();
        return list.length === 2 ? list : null;
      });
      const div = alerts.find((a) => a.labels.alertname === 'ChainwatchIssuerDivergence');
      assert.ok(div, `divergence in ${am.url}`);
      assert.deepEqual(div.labels, {
        alertname: 'ChainwatchIssuerDivergence',
        policy: 'pchat-web-same-ca',
        target: 'web2',
        address: '10.1.2.5',
        group: 'pchat-web',
        severity: 'critical',
      });
      assert.equal(
        div.annotations.summary,
        'web2 (10.1.2.5) presents a certificate from Fabrikam TLS CA (key 3f2a8877…); policy pchat-web-same-ca expects Contoso Issuing CA 01 (key 42d1a9c0…)',
      );
      assert.deepEqual(Object.keys(div.annotations).sort(), ['description', 'summary']);
      assert.match(
        div.annotations.description ?? '',
        /Policy pchat-web-same-ca \(match: issuer\) requires the most common CA of reference group lync-internal/,
      );
      assert.equal(div.generatorURL, `${EXTERNAL}/targets/web2`);
      assert.equal(div.status.state, 'active');
      assert.equal(Date.parse(div.startsAt), t0.getTime(), 'startsAt is when chainwatch first saw it');
      const validity = Date.parse(div.endsAt) - t0.getTime();
      assert.ok(validity >= 4 * 60_000 - 5000 && validity <= 4 * 60_000 + 5000, `endsAt a few resend intervals ahead (${validity} ms)`);
      const exp = alerts.find((a) => a.labels.alertname === 'ChainwatchCertificateExpiringSoon');
      assert.equal(exp?.annotations.days_left, '10');
    }

    const t1 = new Date(t0.getTime() + 1000);
    const second = d.onScan(withExpiring(pchatScan(t1, { fixed: true }), t1));
    assert.deepEqual(
      second.resolved.map((a) => a.labels.alertname),
      ['ChainwatchIssuerDivergence'],
    );
    for (const am of [am1, am2]) {
      const alerts = await eventually('divergence resolved in Alertmanager', async () => {
        const list = await am.activeAlerts();
        return list.some((a) => a.labels.alertname === 'ChainwatchIssuerDivergence') ? null : list;
      });
      assert.deepEqual(
        alerts.map((a) => a.labels.alertname),
        ['ChainwatchCertificateExpiringSoon'],
        'the other condition is still active',
      );
    }
    for (const am of [am1, am2]) {
      const name = `alertmanager:${new URL(am.url).host}`;
      // Alertmanager may show the alert a moment before chainwatch has read its answer.
      await eventually(`${name} counted both pushes`, async () => ((await countsOf(counter))[`${name} success`] ?? 0) >= 2);
    }
    await d.close(2000);
  });

  it('re-sends firing alerts between scans so Alertmanager never times them out', async () => {
    // validity = 4 × 400 ms: without re-sends the alert would expire after 1.6 s.
    const d = dispatcher([am1.url], 400);
    const t0 = new Date();
    d.onScan(pchatScan(t0));
    const firstEnd = await eventually('alert pushed', async () => {
      const div = (await am1.activeAlerts()).find((a) => a.labels.target === 'web2');
      return div ? Date.parse(div.endsAt) : null;
    });
    await new Promise((r) => setTimeout(r, 3000));
    const div = (await am1.activeAlerts()).find((a) => a.labels.target === 'web2');
    assert.ok(div, 'still active 3 s later with no further scan');
    assert.ok(Date.parse(div.endsAt) > firstEnd + 1000, 'endsAt was pushed forward by re-sends');
    assert.equal(Date.parse(div.startsAt), t0.getTime(), 're-sends keep the original startsAt');
    // Clean up: resolve it so the next test starts from an empty Alertmanager.
    d.onScan(pchatScan(new Date(), { fixed: true }));
    await eventually('resolved', async () => !(await am1.activeAlerts()).some((a) => a.labels.target === 'web2'));
    await d.close(2000);
  });

  it('one dead Alertmanager of the pair does not hold up the other', async () => {
    // Accepts the connection and never answers: the worst kind of dead.
    const dead = await startReceiver('/', () => 'hang');
    try {
      const counter = newCounter();
      const d = dispatcher([`http://${dead.host}`, am2.url], 60_000, { deliveries: counter, requestTimeoutMs: 5000 });
      const t0 = new Date();
      const started = Date.now();
      d.onScan(pchatScan(t0));
      await eventually('alert in the live Alertmanager', async () =>
        (await am2.activeAlerts()).some((a) => a.labels.alertname === 'ChainwatchIssuerDivergence'),
      );
      assert.ok(Date.now() - started < 5000, 'the live one got it before the dead one even timed out');
      // Both were sent at once; the hung one may record its request a moment after the live one answered.
      assert.equal(await eventually('request reached the dead one', async () => dead.requests[0]?.path ?? null), '/api/v2/alerts');
      await eventually('success counted', async () => (await countsOf(counter))[`alertmanager:${new URL(am2.url).host} success`] === 1);
      assert.equal((await countsOf(counter))[`alertmanager:${dead.host} success`] ?? 0, 0);
      d.onScan(pchatScan(new Date(), { fixed: true }));
      await eventually('resolved', async () => !(await am2.activeAlerts()).some((a) => a.labels.target === 'web2'));
      const closing = Date.now();
      await d.close(500);
      assert.ok(Date.now() - closing < 3000, 'shutdown does not wait for the dead receiver');
    } finally {
      await dead.close();
    }
  });
});
