// End to end, all real (see test/deploy/live-stack.ts): `chainwatch run` scans a loopback fleet
// and pushes to Alertmanager; Prometheus loads what `chainwatch rules` generates for the same
// config and alerts into the same Alertmanager. One server's CA then changes: the generated PromQL
// rule fires, Alertmanager shows one divergence alert for it (the daemon's; the PromQL one is
// inhibited), and the fix resolves it. The expiry threshold is the same number for the daemon,
// the rules and the dashboard.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DAY_S, EXPIRY_CRITICAL_DAYS, EXPIRY_WARNING_DAYS, type LiveStack, STATUS_PAGE, startLiveStack } from '../../deploy/live-stack.js';
import { REPO, scrape, select } from '../../helpers/daemon-process.js';
import { eventually, type GettableAlert } from './processes.js';

const divergence = (a: { labels: Record<string, string> }) => a.labels.alertname === 'ChainwatchIssuerDivergence';

describe('alerting end to end: daemon, Prometheus with the generated rules, Alertmanager', () => {
  let stack: LiveStack;

  before(async () => {
    stack = await startLiveStack();
    await eventually(
      'two scrapes of a completed scan',
      async () => {
        const r = await stack.query('count_over_time(chainwatch_scan_last_completed_timestamp_seconds[1m]) >= 2');
        return r.length > 0 && (await stack.query('chainwatch_scan_last_completed_timestamp_seconds > 0')).length > 0;
      },
      60_000,
    );
  });

  after(async () => {
    await stack?.close();
  });

  it('the generated rules hold the PromQL form of the policy and no relay of a verdict the daemon pushes', () => {
    assert.match(stack.rulesText, /policy: pchat-web-same-ca/);
    assert.match(stack.rulesText, /judged_by: prometheus/);
    assert.doesNotMatch(stack.rulesText, /judged_by: daemon/, 'the daemon pushes its own alert; Prometheus must not repeat it');
  });

  it('while every server holds the expected CA, nothing diverges anywhere', async () => {
    assert.deepEqual((await stack.prometheus.alerts()).filter(divergence), []);
    assert.deepEqual((await stack.alertmanager.unresolvedAlerts()).filter(divergence), []);
  });

  it("one server's CA changes: the generated rule fires, and Alertmanager shows one divergence alert, the daemon's", async () => {
    await stack.serveWeb2('fabrikam');
    const fired = await eventually(
      'the generated PromQL rule firing in Prometheus',
      async () => (await stack.prometheus.alerts()).find((a) => divergence(a) && a.labels.judged_by === 'prometheus' && a.state === 'firing'),
      60_000,
    );
    assert.equal(fired.labels.target, 'web2');
    assert.equal(fired.labels.policy, 'pchat-web-same-ca');
    assert.equal(fired.labels.issuer_key_id, stack.pki.fabrikamTlsCa.keyId);
    assert.equal(fired.labels.site, 'dublin', 'the policy is judged per site');
    assert.match(
      fired.annotations.description ?? '',
      new RegExp(`Issuing CAs of lync-internal in site dublin: CN=Contoso Issuing CA 01[^(]*\\(key ${stack.pki.contosoIssuing01.keyId}\\): 2 endpoint`),
    );
    assert.deepEqual(
      (await stack.prometheus.alerts()).filter(divergence).map((a) => a.labels.target),
      ['web2'],
      'nobody else diverges',
    );

    // Both paths reach Alertmanager; the shipped inhibit rule keeps the daemon's.
    const both = await eventually(
      'both divergence alerts in Alertmanager, the PromQL one inhibited',
      async () => {
        const all = (await stack.alertmanager.unresolvedAlerts()).filter(divergence);
        const promql = all.find((a) => a.labels.judged_by === 'prometheus');
        const pushed = all.find((a) => a.labels.judged_by === undefined);
        return promql && pushed && promql.status.inhibitedBy.length > 0 ? { promql, pushed, all } : undefined;
      },
      60_000,
    );
    assert.equal(both.promql.status.state, 'suppressed');
    assert.deepEqual(both.promql.status.inhibitedBy, [both.pushed.fingerprint]);
    assert.equal(both.all.length, 2, JSON.stringify(both.all.map((a) => a.labels)));
    const shown: GettableAlert[] = (await stack.alertmanager.activeAlerts()).filter(divergence);
    assert.equal(shown.length, 1, 'one alert per divergent endpoint');
    assert.deepEqual(shown[0]!.labels, {
      alertname: 'ChainwatchIssuerDivergence',
      policy: 'pchat-web-same-ca',
      target: 'web2',
      address: '127.0.0.1',
      group: 'pchat-web',
      severity: 'critical',
    });
    const fab = stack.pki.fabrikamTlsCa.keyId;
    const con = stack.pki.contosoIssuing01.keyId;
    assert.equal(
      shown[0]!.annotations.summary,
      `web2 (127.0.0.1) presents a certificate from Fabrikam TLS CA (key ${fab.slice(0, 8)}…); policy pchat-web-same-ca expects Contoso Issuing CA 01 (key ${con.slice(0, 8)}…) in site dublin`,
    );
    assert.match(shown[0]!.annotations.description ?? '', new RegExp(`key id ${fab}\\).*key id ${con}\\)`));
    assert.equal(shown[0]!.generatorURL, `${STATUS_PAGE}/targets/web2`);
    const delivered = select(await scrape(stack.daemonUrl), 'chainwatch_alert_deliveries_total', {
      receiver: `alertmanager:${new URL(stack.alertmanager.url).host}`,
      result: 'success',
    });
    assert.ok((delivered[0]?.value ?? 0) >= 1, 'the daemon counts its deliveries in /metrics');
  });

  it('the expiry thresholds are one number for the daemon, its metrics, the rules and the dashboard', async () => {
    const warningS = EXPIRY_WARNING_DAYS * DAY_S;
    const criticalS = EXPIRY_CRITICAL_DAYS * DAY_S;
    // The daemon's own alerts (no instance label): edge-soon (50 days) warning, edge-critical
    // (10 days) critical, no other.
    const expiring = (a: { labels: Record<string, string> }) => a.labels.alertname === 'ChainwatchCertificateExpiringSoon';
    const pushed = await eventually(
      'the daemon pushing both expiry alerts',
      async () => {
        const a = (await stack.alertmanager.activeAlerts()).filter((x) => expiring(x) && x.labels.instance === undefined);
        return a.length >= 2 ? a : undefined;
      },
      30_000,
    );
    assert.deepEqual(pushed.map((a) => [a.labels.target, a.labels.severity]).sort(), [
      ['edge-critical', 'critical'],
      ['edge-soon', 'warning'],
    ]);

    // The metrics say the same numbers the config does.
    assert.deepEqual(
      (await stack.query('chainwatch_expiry_warning_seconds')).map((s) => Number(s.value[1])),
      [warningS],
    );
    assert.deepEqual(
      (await stack.query('chainwatch_expiry_critical_seconds')).map((s) => Number(s.value[1])),
      [criticalS],
    );

    // The rules, reading those metrics, pick the same endpoints with the same severities.
    const ruled = await eventually(
      'the expiry rules firing in Prometheus',
      async () => {
        const a = (await stack.prometheus.alerts()).filter((x) => x.labels.alertname === 'ChainwatchCertificateExpiringSoon' && x.state === 'firing');
        return a.length >= 2 ? a : undefined;
      },
      30_000,
    );
    assert.deepEqual(ruled.map((a) => [a.labels.target, a.labels.severity]).sort(), [
      ['edge-critical', 'critical'],
      ['edge-soon', 'warning'],
    ]);
    // Both reach Alertmanager, which shows the daemon's and inhibits the rule's copies.
    await eventually(
      'the rule copies inhibited in Alertmanager',
      async () => {
        const copies = (await stack.alertmanager.unresolvedAlerts()).filter((x) => expiring(x) && x.labels.instance !== undefined);
        return copies.length === 2 && copies.every((c) => c.status.inhibitedBy.length === 1);
      },
      30_000,
    );
    assert.deepEqual(
      (await stack.alertmanager.activeAlerts())
        .filter(expiring)
        .map((a) => a.fingerprint)
        .sort(),
      pushed.map((a) => a.fingerprint).sort(),
    );

    // And the dashboard's expiring-leaves panel counts exactly those.
    const dashboard = JSON.parse(readFileSync(join(REPO, 'deploy/grafana/chainwatch-dashboard.json'), 'utf8')) as {
      panels: { title: string; targets?: { expr: string }[] }[];
    };
    const panel = dashboard.panels.find((p) => /within the warning threshold/.test(p.title));
    assert.ok(panel, 'a panel of leaves within the warning threshold');
    const expr = panel.targets![0]!.expr.replace(/\$\{?\w+\}?/g, '.*');
    assert.deepEqual(
      (await stack.query(expr)).map((s) => Number(s.value[1])),
      [2],
    );
  });

  it('a certificate from the right CA on the same endpoint resolves it, and the swap is announced as an issuer change', async () => {
    await stack.serveWeb2('contoso');
    await eventually('divergence resolved in Alertmanager', async () => (await stack.alertmanager.activeAlerts()).filter(divergence).length === 0, 60_000);
    await eventually('divergence no longer firing in Prometheus', async () => !(await stack.prometheus.alerts()).some(divergence), 60_000);
    const changed = await eventually('certificate change in Alertmanager', async () =>
      (await stack.alertmanager.activeAlerts()).find(
        (a) =>
          a.labels.alertname === 'ChainwatchCertificateChanged' &&
          a.labels.target === 'web2' &&
          a.labels.change === 'issuer_change' &&
          /now|Contoso Issuing CA 01 \(key/.test(a.annotations.summary ?? '') &&
          !/previously Contoso/.test(a.annotations.summary ?? ''),
      ),
    );
    assert.match(
      changed.annotations.summary ?? '',
      /^web2 \(127\.0\.0\.1\): new certificate from a different CA: Contoso Issuing CA 01 \(key [0-9a-f]{8}…\), previously Fabrikam TLS CA/,
    );
  });
});
