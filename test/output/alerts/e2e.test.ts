// End to end, all real: `chainwatch run` (a child process) scans a loopback fleet with one
// Persistent Chat web server on the wrong CA; Debian's Prometheus scrapes it with the shipped
// rules from deploy/prometheus/, and the daemon pushes to Debian's Alertmanager. Then the server
// gets a certificate from the right CA and both paths see the divergence end.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ServedEndpoint, serveChain } from '../../../src/demo/servers.js';
import { type ChainwatchProcess, REPO, killAll, scrape, select, spawnChainwatch } from '../../helpers/daemon-process.js';
import { type StandardPki, chainPems, standardPki } from '../../helpers/fixtures.js';
import {
  type GettableAlert,
  type RunningAlertmanager,
  type RunningPrometheus,
  eventually,
  startAlertmanager,
  startPrometheus,
} from './processes.js';

const STATUS_PAGE = 'http://chainwatch.contoso.test:9862';
const RULES = join(REPO, 'deploy/prometheus/chainwatch.rules.yml');

describe('alerting end to end: daemon, Prometheus with the shipped rules, Alertmanager', () => {
  let pki: StandardPki;
  let dir: string;
  let am: RunningAlertmanager;
  let prom: RunningPrometheus;
  let cw: ChainwatchProcess;
  const servers: ServedEndpoint[] = [];
  let web2: ServedEndpoint;
  let daemonUrl: string;

  async function serve(host: string, issuer: 'contoso' | 'fabrikam', port = 0): Promise<ServedEndpoint> {
    const ca = issuer === 'contoso' ? pki.contosoIssuing01 : pki.fabrikamTlsCa;
    const leaf = await pki.leaf(ca, host);
    const s = await serveChain({ host: '127.0.0.1', port, key: leaf.keyPem, chain: chainPems(leaf, ca) });
    servers.push(s);
    return s;
  }

  before(async () => {
    pki = await standardPki();
    dir = mkdtempSync(join(tmpdir(), 'chainwatch-alerts-e2e-'));
    writeFileSync(join(dir, 'root.pem'), `${pki.contosoRoot.pem}\n${pki.fabrikamRoot.pem}`);
    const [feA, feB, web1] = await Promise.all([
      serve('pool01a.contoso.test', 'contoso'),
      serve('pool01b.contoso.test', 'contoso'),
      serve('web1.contoso.test', 'contoso'),
    ]);
    web2 = await serve('web2.contoso.test', 'fabrikam');
    am = await startAlertmanager();
    const target = (name: string, group: string, host: string, s: ServedEndpoint) =>
      `  - name: ${name}\n    group: ${group}\n    host: ${host}\n    port: ${s.port}\n    address: 127.0.0.1\n`;
    writeFileSync(
      join(dir, 'chainwatch.yaml'),
      `scan:
  schedule: "*/2 * * * * *"
  timeout: 5s
trust:
  ca_files: [root.pem]
  system_roots: false
state:
  path: ./state
server:
  listen: 127.0.0.1:0
  external_url: ${STATUS_PAGE}
alerting:
  alertmanager_url: ${am.url}
  resend_interval: 5s
targets:
${target('pool01-a', 'lync-internal', 'pool01a.contoso.test', feA)}${target('pool01-b', 'lync-internal', 'pool01b.contoso.test', feB)}${target('web1', 'pchat-web', 'web1.contoso.test', web1)}${target('web2', 'pchat-web', 'web2.contoso.test', web2)}policies:
  - name: pchat-web-same-ca
    reference: lync-internal
    members: [pchat-web]
`,
    );
    cw = spawnChainwatch(['run', '--config', join(dir, 'chainwatch.yaml')]);
    const started = await cw.waitForLog((r) => r.msg === 'chainwatch started', 'the daemon to start', 60_000);
    daemonUrl = String(started.listen);
    const listen = new URL(daemonUrl);
    prom = await startPrometheus(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - ${RULES}
scrape_configs:
  - job_name: chainwatch
    static_configs:
      - targets: ['${listen.host}']
`);
  });

  after(async () => {
    killAll();
    await Promise.all([prom?.stop(), am?.stop(), ...servers.map((s) => s.close())]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const divergenceIn = async (): Promise<GettableAlert | undefined> =>
    (await am.activeAlerts()).find((a) => a.labels.alertname === 'ChainwatchIssuerDivergence');

  it('Prometheus fires the divergence rule and the daemon makes the alert active in Alertmanager', async () => {
    const fired = await eventually(
      'ChainwatchIssuerDivergence firing in Prometheus',
      async () =>
        (await prom.alerts()).find(
          (a) => a.labels.alertname === 'ChainwatchIssuerDivergence' && a.labels.judged_by === 'daemon' && a.state === 'firing',
        ),
      60_000,
    );
    assert.equal(fired.labels.target, 'web2');
    assert.equal(fired.labels.policy, 'pchat-web-same-ca');
    assert.equal(fired.labels.group, 'pchat-web');
    assert.equal(fired.labels.severity, 'critical');
    // The PromQL form (across all instances, from chainwatch_chain_info) matches the same member;
    // it waits out its `for:` as pending, and names nobody else.
    const promql = (await prom.alerts()).filter((a) => a.labels.alertname === 'ChainwatchIssuerDivergence' && a.labels.judged_by === 'prometheus');
    assert.deepEqual(
      promql.map((a) => [a.labels.policy, a.labels.target]),
      [['pchat-web-same-ca', 'web2']],
    );

    const pushed = await eventually('ChainwatchIssuerDivergence active in Alertmanager', divergenceIn, 30_000);
    assert.deepEqual(pushed.labels, {
      alertname: 'ChainwatchIssuerDivergence',
      policy: 'pchat-web-same-ca',
      target: 'web2',
      address: '127.0.0.1',
      group: 'pchat-web',
      severity: 'critical',
    });
    const fab = pki.fabrikamTlsCa.keyId;
    const con = pki.contosoIssuing01.keyId;
    assert.equal(
      pushed.annotations.summary,
      `web2 (127.0.0.1) presents a certificate from Fabrikam TLS CA (key ${fab.slice(0, 8)}…); policy pchat-web-same-ca expects Contoso Issuing CA 01 (key ${con.slice(0, 8)}…)`,
    );
    assert.match(pushed.annotations.description ?? '', new RegExp(`key id ${fab}\\).*key id ${con}\\)`));
    assert.equal(pushed.generatorURL, `${STATUS_PAGE}/targets/web2`);
    assert.equal(pushed.status.state, 'active');
    const others = (await am.activeAlerts()).filter((a) => a.labels.alertname === 'ChainwatchIssuerDivergence' && a.labels.target !== 'web2');
    assert.deepEqual(others, [], 'only the divergent member is alerted');
    const metrics = await scrape(daemonUrl);
    const delivered = select(metrics, 'chainwatch_alert_deliveries_total', { receiver: `alertmanager:${new URL(am.url).host}`, result: 'success' });
    assert.ok((delivered[0]?.value ?? 0) >= 1, 'the daemon counts its deliveries in /metrics');
  });

  it('a certificate from the right CA on the same endpoint resolves it in Alertmanager and in Prometheus', async () => {
    const port = web2.port;
    await web2.close();
    web2 = await serve('web2.contoso.test', 'contoso', port);
    await eventually('divergence resolved in Alertmanager', async () => (await divergenceIn()) === undefined, 60_000);
    await eventually(
      'divergence no longer firing in Prometheus',
      async () => !(await prom.alerts()).some((a) => a.labels.alertname === 'ChainwatchIssuerDivergence' && a.labels.judged_by === 'daemon'),
      60_000,
    );
    // The swap itself is announced as an event: a new leaf from a different CA.
    const changed = await eventually('certificate change in Alertmanager', async () =>
      (await am.activeAlerts()).find((a) => a.labels.alertname === 'ChainwatchCertificateChanged' && a.labels.target === 'web2'),
    );
    assert.equal(changed.labels.change, 'issuer_change');
    assert.match(changed.annotations.summary ?? '', /^web2 \(127\.0\.0\.1\): new certificate from a different CA: Contoso Issuing CA 01 \(key [0-9a-f]{8}…\), previously Fabrikam TLS CA/);
  });
});
