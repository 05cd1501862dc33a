// The Prometheus side of deploy/: the alert rules pass promtool's checks and their own unit
// tests, the unit tests cover every rule both firing and silent, every name the rules and the
// dashboard use exists in the metric table, and the real Prometheus loads the example
// config with the rules, evaluates them healthily against a scraped sharded fleet, and
// accepts every dashboard query.

import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { createMetrics, FLEET_FAMILIES } from '../../src/output/metrics.js';
import { generateRuleFile } from '../../src/output/prometheus-rules.js';
import { freePort } from '../helpers/ports.js';
import { checkNames, deployPath, getJson, METRICS, PROMETHEUS, PROMTOOL, readDeploy, runTool, ServerProcess, tempDir, waitFor } from './support.js';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: { name: string; rules: Rule[] }[];
}
interface AlertTest {
  eval_time: string;
  alertname: string;
  exp_alerts: { exp_labels?: Record<string, string>; exp_annotations?: Record<string, string> }[] | null;
}
interface TestFile {
  rule_files: string[];
  tests: { name: string; alert_rule_test?: AlertTest[] }[];
}

const RULES = 'prometheus/chainwatch.rules.yml';
const rules = parse(readDeploy(RULES)) as RuleFile;
const allRules = rules.groups.flatMap((g) => g.rules);
const alertRules = allRules.filter((r) => r.alert !== undefined);
const unitTests = parse(readDeploy('prometheus/chainwatch.rules.test.yml')) as TestFile;
const alertTests = unitTests.tests.flatMap((t) => t.alert_rule_test ?? []);

interface Panel {
  type: string;
  title: string;
  panels?: Panel[];
  targets?: { expr?: string; refId: string }[];
}
interface Dashboard {
  panels: Panel[];
  templating: { list: { name: string; type: string; query?: unknown; definition?: string }[] };
  annotations: { list: { expr?: string; name: string }[] };
}
const dashboard = JSON.parse(readDeploy('grafana/chainwatch-dashboard.json')) as Dashboard;

/** Every PromQL expression of the dashboard, with where it comes from. */
function dashboardQueries(): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  const walk = (panels: Panel[]) => {
    for (const p of panels) {
      for (const t of p.targets ?? []) if (t.expr) out.push({ where: `panel "${p.title}" query ${t.refId}`, expr: t.expr });
      if (p.panels) walk(p.panels);
    }
  };
  walk(dashboard.panels);
  for (const a of dashboard.annotations.list) if (a.expr) out.push({ where: `annotation "${a.name}"`, expr: a.expr });
  return out;
}

/** Grafana's variables, replaced by what an "All" selection sends. */
function substituteVariables(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__interval', '30s')
    .replaceAll('$__range_s', '86400')
    .replaceAll('$__range', '1d')
    .replace(/\$\{?(group|policy|instance|job|site)\}?/g, '.*');
}

describe('alert rules', () => {
  test('promtool check rules accepts the file and counts every rule', () => {
    const r = runTool(PROMTOOL, ['check', 'rules', RULES], deployPath());
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, new RegExp(`SUCCESS: ${allRules.length} rules found`));
  });

  test('promtool test rules passes every unit test', () => {
    const r = runTool(PROMTOOL, ['test', 'rules', 'chainwatch.rules.test.yml'], deployPath('prometheus'));
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /SUCCESS/);
    assert.doesNotMatch(r.output, /FAILED/);
  });

  test('the unit tests notice a broken rule', () => {
    // Judging expiry on the wrong certificate position must make the unit tests fail.
    const tmp = tempDir('chainwatch-rules-');
    try {
      const broken = readDeploy(RULES).replaceAll('position="0"', 'position="1"');
      writeFileSync(join(tmp.path, 'chainwatch.rules.yml'), broken);
      copyFileSync(deployPath('prometheus/chainwatch.rules.test.yml'), join(tmp.path, 'chainwatch.rules.test.yml'));
      const r = runTool(PROMTOOL, ['test', 'rules', 'chainwatch.rules.test.yml'], tmp.path);
      assert.notEqual(r.status, 0, 'promtool test rules passed against broken rules');
      assert.match(r.output, /ChainwatchCertificateExpiringSoon/);
    } finally {
      tmp.remove();
    }
  });

  test('the unit tests load the shipped rule file', () => {
    assert.deepEqual(unitTests.rule_files, ['chainwatch.rules.yml']);
  });

  test('every alert rule is tested firing, and every alert name silent too', () => {
    for (const rule of alertRules) {
      const fired = alertTests.some(
        (t) => t.alertname === rule.alert && (t.exp_alerts ?? []).some((a) => Object.entries(rule.labels ?? {}).every(([k, v]) => a.exp_labels?.[k] === v)),
      );
      assert.ok(fired, `no unit test expects ${rule.alert} with labels ${JSON.stringify(rule.labels)} to fire`);
      const silent = alertTests.some((t) => t.alertname === rule.alert && (t.exp_alerts ?? []).length === 0);
      assert.ok(silent, `no unit test expects ${rule.alert} to stay silent`);
    }
  });

  test('every expected alert spells out its annotations', () => {
    for (const t of alertTests) {
      for (const a of t.exp_alerts ?? []) {
        assert.ok(a.exp_annotations?.summary, `${t.alertname} at ${t.eval_time}: no expected summary`);
        assert.ok(a.exp_annotations?.description, `${t.alertname} at ${t.eval_time}: no expected description`);
      }
    }
  });

  test('the documented alerts are all there (divergence is generated per policy)', () => {
    const names = new Set(alertRules.map((r) => r.alert));
    for (const n of [
      'ChainwatchCertificateChanged',
      'ChainwatchCertificateExpiringSoon',
      'ChainwatchProbeFailing',
      'ChainwatchCertificateExpired',
      'ChainwatchChainUntrusted',
      'ChainwatchHostnameMismatch',
      'ChainwatchWeakCrypto',
      'ChainwatchIncompleteChain',
      'ChainwatchScansStale',
      'ChainwatchConfigReloadFailed',
      'ChainwatchAlertDeliveryFailing',
      'ChainwatchIntermediateExpiringSoon',
    ]) {
      assert.ok(names.has(n), `missing alert ${n}`);
    }
    assert.ok(!names.has('ChainwatchIssuerDivergence'), 'policy rules depend on the config: `chainwatch rules` generates them');
  });

  test('expiry rules compare with the thresholds the daemon exports, per instance, never a constant', () => {
    for (const r of alertRules.filter((x) => /Expiring/.test(x.alert ?? ''))) {
      assert.match(r.expr, /on\(instance, job\) group_left\(\) \(?(2 \* )?chainwatch_expiry_(warning|critical)_seconds/, r.alert);
      assert.doesNotMatch(r.expr, /\d+ \* 86400/, `${r.alert} uses a constant`);
    }
  });

  test('every rule has a severity and annotations a person can act on', () => {
    for (const r of alertRules) {
      assert.ok(['critical', 'warning', 'info'].includes(r.labels?.severity ?? ''), `${r.alert}: severity ${r.labels?.severity}`);
      assert.ok((r.annotations?.summary ?? '').length > 10, `${r.alert}: summary`);
      assert.ok((r.annotations?.description ?? '').length > 80, `${r.alert}: description too short to say what to do`);
      assert.match(r.annotations?.summary ?? '', /\{\{/, `${r.alert}: the summary should name what is affected`);
    }
  });
});

describe('names used by rules and dashboard', () => {
  test('the name check catches typos in metrics and labels', () => {
    assert.deepEqual(checkNames('chainwatch_chain_info{group="a"}', 'ok'), []);
    const problems = (text: string) => checkNames(text, 'x').map((p) => p.problem);
    assert.deepEqual(problems('chainwatch_chain_infos{group="a"}'), ['unknown metric chainwatch_chain_infos']);
    assert.deepEqual(problems('chainwatch_chain_info{issuer_keyid="a"}'), ['metric chainwatch_chain_info has no label issuer_keyid']);
    assert.deepEqual(problems('chainwatch_probe_success{kind="dns"}'), ['metric chainwatch_probe_success has no label kind']);
    assert.deepEqual(problems('count by (grup) (chainwatch_probe_success)'), ['unknown label grup in a grouping']);
    assert.deepEqual(problems('{{ $labels.tagret }}'), ['unknown label tagret in a template']);
    assert.deepEqual(problems('rate(chainwatch_scan_duration_seconds_bucket[5m])'), []);
  });

  test("the test's metric list is exactly what the daemon's exporter registers", () => {
    const registered: Record<string, string[]> = {};
    const metrics = createMetrics({ version: 'test', processMetrics: false });
    for (const f of Object.values(FLEET_FAMILIES)) registered[f.name] = [...f.labels];
    for (const m of metrics.registry.getMetricsAsArray() as unknown as { name: string; labelNames?: string[]; constructor: { name: string } }[]) {
      const labels = [...(m.labelNames ?? [])];
      if (m.constructor.name === 'Histogram') {
        registered[`${m.name}_bucket`] = [...labels, 'le'];
        registered[`${m.name}_sum`] = labels;
        registered[`${m.name}_count`] = labels;
      } else {
        registered[m.name] = labels;
      }
    }
    const sorted = (r: Readonly<Record<string, readonly string[]>>) =>
      Object.fromEntries(
        Object.entries(r)
          .map(([k, v]) => [k, [...v].sort()])
          .sort(([a], [b]) => String(a).localeCompare(String(b))),
      );
    assert.deepEqual(sorted(registered), sorted(METRICS));
  });

  test('every metric and label in the rules exists in the metric table', () => {
    const problems = allRules.flatMap((r) => [
      ...checkNames(r.expr, `${r.alert} expr`),
      ...Object.entries(r.annotations ?? {}).flatMap(([k, v]) => checkNames(v, `${r.alert} ${k}`)),
    ]);
    assert.deepEqual(problems, []);
  });

  test('every metric and label in the dashboard exists in the metric table', () => {
    const queries = dashboardQueries();
    assert.ok(queries.length >= 20, `only ${queries.length} dashboard queries found`);
    const vars = dashboard.templating.list.map((v) => ({ where: `variable ${v.name}`, expr: v.definition ?? '' }));
    const problems = [...queries, ...vars].flatMap((q) => checkNames(q.expr, q.where));
    assert.deepEqual(problems, []);
  });

  test('every exported metric is charted or alerted on somewhere', () => {
    const text = [...allRules.map((r) => r.expr), ...dashboardQueries().map((q) => q.expr)].join('\n');
    const unused = [
      'chainwatch_probe_success',
      'chainwatch_probe_error_info',
      'chainwatch_probe_duration_seconds',
      'chainwatch_cert_not_after_timestamp_seconds',
      'chainwatch_chain_info',
      'chainwatch_chain_trusted',
      'chainwatch_chain_hostname_match',
      'chainwatch_chain_problem',
      'chainwatch_tls_info',
      'chainwatch_cert_changes_total',
      'chainwatch_cert_last_change_timestamp_seconds',
      'chainwatch_policy_consistent',
      'chainwatch_policy_issuers',
      'chainwatch_policy_divergent_endpoints',
      'chainwatch_policy_member_divergent',
      'chainwatch_scans_total',
      'chainwatch_scan_duration_seconds_bucket',
      'chainwatch_scan_last_completed_timestamp_seconds',
      'chainwatch_config_last_reload_successful',
      'chainwatch_targets',
      'chainwatch_build_info',
      'chainwatch_scans_skipped_total',
      'chainwatch_alert_deliveries_total',
      'chainwatch_expiry_warning_seconds',
      'chainwatch_expiry_critical_seconds',
    ].filter((m) => !new RegExp(`\\b${m}\\b`).test(text));
    assert.deepEqual(unused, []);
  });
});

describe('example prometheus.yml', () => {
  const config = parse(readDeploy('prometheus/prometheus.yml')) as {
    rule_files: string[];
    alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
    scrape_configs: { job_name: string; metrics_path?: string; static_configs: { targets: string[] }[] }[];
  };

  test('promtool check config accepts it, with the rules it loads', () => {
    const r = runTool(PROMTOOL, ['check', 'config', 'prometheus.yml'], deployPath('prometheus'));
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /SUCCESS: 1 rule files found/);
  });

  test('scrapes job chainwatch on port 9862 at /metrics and alerts through Alertmanager', () => {
    assert.deepEqual(config.rule_files, ['chainwatch.rules.yml']);
    const job = config.scrape_configs.find((s) => s.job_name === 'chainwatch');
    assert.ok(job, 'a scrape job named chainwatch (the rules select job="chainwatch")');
    assert.equal(job.metrics_path ?? '/metrics', '/metrics');
    const targets = job.static_configs.flatMap((s) => s.targets);
    assert.ok(targets.length >= 2, 'the example shows sharded daemons');
    for (const t of targets) assert.match(t, /:9862$/);
    assert.ok(config.alerting.alertmanagers[0]?.static_configs[0]?.targets.every((t) => /:9093$/.test(t)));
  });
});

// --- The real Prometheus ------------------------------------------------------------------

const CONTOSO = { dn: 'CN=Contoso Issuing CA 01,DC=contoso,DC=local', key: '42d1a6f3c9e0b7d2815f4a6c3e9b0d7f2a1c5e88' };
const FABRIKAM = { dn: 'CN=Fabrikam TLS CA,O=Fabrikam Inc,C=US', key: '3f2a9c1d7e5b8a0f6c4d2e1b9a8f7c6d5e4b3a21' };

interface FixtureEndpoint {
  target: string;
  group: string;
  address: string;
  ca: typeof CONTOSO | null;
  error?: string;
}

const esc = (v: string) => v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
const labels = (l: Record<string, string>) =>
  `{${Object.entries(l)
    .map(([k, v]) => `${k}="${esc(v)}"`)
    .join(',')}}`;

/**
 * The exposition a chainwatch shard serves, shaped like the daemon's (every metric family of the
 * metric table), so the rules and the dashboard run against realistic data.
 */
function exposition(endpoints: FixtureEndpoint[], policies: { name: string; member: string; divergent: string[] }[]): string {
  const now = Date.now() / 1000;
  const lines: string[] = [];
  const family = (name: string, type: string, samples: [Record<string, string>, number][]) => {
    lines.push(`# HELP ${name} fixture`, `# TYPE ${name} ${type}`);
    for (const [l, v] of samples) lines.push(`${name}${Object.keys(l).length ? labels(l) : ''} ${v}`);
  };
  const ep = (e: FixtureEndpoint) => ({ target: e.target, group: e.group, address: e.address });
  const ok = endpoints.filter((e) => e.ca !== null);
  family(
    'chainwatch_probe_success',
    'gauge',
    endpoints.map((e) => [ep(e), e.ca ? 1 : 0]),
  );
  family(
    'chainwatch_probe_duration_seconds',
    'gauge',
    endpoints.map((e) => [ep(e), 0.042]),
  );
  family(
    'chainwatch_probe_error_info',
    'gauge',
    endpoints.filter((e) => e.error).map((e) => [{ ...ep(e), kind: e.error! }, 1]),
  );
  const certs = (field: 'after' | 'before') =>
    ok.flatMap((e, i): [Record<string, string>, number][] => [
      [
        { ...ep(e), position: '0', subject: `CN=${e.target}.contoso.local`, issuer: e.ca!.dn, serial: `1a${i}`, sha256: `f0${i}` },
        field === 'after' ? now + (10 + i * 20) * 86400 : now - 300 * 86400,
      ],
      [
        { ...ep(e), position: '1', subject: e.ca!.dn, issuer: 'CN=Contoso Root CA,DC=contoso,DC=local', serial: '61aa', sha256: 'c001' },
        field === 'after' ? now + 900 * 86400 : now - 900 * 86400,
      ],
    ]);
  family('chainwatch_cert_not_after_timestamp_seconds', 'gauge', certs('after'));
  family(
    'chainwatch_cert_not_before_timestamp_seconds',
    'gauge',
    certs('before').map(([{ target, group, address, position }, v]) => [{ target: target!, group: group!, address: address!, position: position! }, v]),
  );
  family(
    'chainwatch_chain_info',
    'gauge',
    ok.map((e, i) => [
      {
        ...ep(e),
        site: e.address.startsWith('10.1.3.') ? 'london' : 'dublin',
        leaf_sha256: `f0${i}`,
        issuer_dn: e.ca!.dn,
        issuer_key_id: e.ca!.key,
        root_dn: 'CN=Contoso Root CA,DC=contoso,DC=local',
      },
      1,
    ]),
  );
  family(
    'chainwatch_chain_trusted',
    'gauge',
    ok.map((e) => [ep(e), e.ca === FABRIKAM ? 0 : 1]),
  );
  family(
    'chainwatch_chain_hostname_match',
    'gauge',
    ok.map((e) => [ep(e), 1]),
  );
  family(
    'chainwatch_chain_problem',
    'gauge',
    ok.filter((e) => e.ca === FABRIKAM).map((e) => [{ ...ep(e), problem: 'untrusted' }, 1]),
  );
  family(
    'chainwatch_tls_info',
    'gauge',
    ok.map((e) => [{ ...ep(e), version: 'TLSv1.2', cipher: 'ECDHE-RSA-AES256-GCM-SHA384' }, 1]),
  );
  family(
    'chainwatch_cert_changes_total',
    'counter',
    ok.map((e) => [ep(e), 1]),
  );
  family(
    'chainwatch_cert_last_change_timestamp_seconds',
    'gauge',
    ok.map((e, i) => [ep(e), i === 0 ? now - 3000 : 0]),
  );
  family(
    'chainwatch_policy_consistent',
    'gauge',
    policies.map((p) => [{ policy: p.name }, p.divergent.length ? 0 : 1]),
  );
  family(
    'chainwatch_policy_issuers',
    'gauge',
    policies.map((p) => [{ policy: p.name }, p.divergent.length ? 2 : 1]),
  );
  family(
    'chainwatch_policy_divergent_endpoints',
    'gauge',
    policies.map((p) => [{ policy: p.name }, p.divergent.length]),
  );
  family(
    'chainwatch_policy_member_divergent',
    'gauge',
    policies.flatMap((p) =>
      ok
        .filter((e) => e.group === p.member)
        .map((e): [Record<string, string>, number] => [{ policy: p.name, ...ep(e) }, p.divergent.includes(e.target) ? 1 : 0]),
    ),
  );
  family('chainwatch_scans_total', 'counter', [[{}, 12]]);
  family('chainwatch_scans_skipped_total', 'counter', [[{}, 0]]);
  lines.push('# HELP chainwatch_scan_duration_seconds fixture', '# TYPE chainwatch_scan_duration_seconds histogram');
  for (const [le, n] of [
    ['1', 2],
    ['5', 12],
    ['+Inf', 12],
  ] as const)
    lines.push(`chainwatch_scan_duration_seconds_bucket{le="${le}"} ${n}`);
  lines.push('chainwatch_scan_duration_seconds_sum 21.5', 'chainwatch_scan_duration_seconds_count 12');
  family('chainwatch_scan_last_completed_timestamp_seconds', 'gauge', [[{}, now - 20]]);
  family('chainwatch_config_last_reload_successful', 'gauge', [[{}, 1]]);
  family('chainwatch_targets', 'gauge', [[{}, endpoints.length]]);
  family('chainwatch_build_info', 'gauge', [[{ version: '0.1.0' }, 1]]);
  family('chainwatch_alert_deliveries_total', 'counter', [[{ receiver: 'alertmanager:127.0.0.1:9093', result: 'success' }, 3]]);
  family('chainwatch_expiry_warning_seconds', 'gauge', [[{}, 30 * 86400]]);
  family('chainwatch_expiry_critical_seconds', 'gauge', [[{}, 7 * 86400]]);
  return `${lines.join('\n')}\n`;
}

/** Shard a watches the Lync pool, shard b the Persistent Chat web services and the Edge. */
const SHARDS: { endpoints: FixtureEndpoint[]; policies: { name: string; member: string; divergent: string[] }[] }[] = [
  {
    endpoints: [
      { target: 'pool01-fe01', group: 'lync-internal', address: '10.1.2.11', ca: CONTOSO },
      { target: 'pool01-fe02', group: 'lync-internal', address: '10.1.2.12', ca: CONTOSO },
    ],
    policies: [],
  },
  {
    endpoints: [
      { target: 'pchat-web1', group: 'pchat-web', address: '10.1.2.21', ca: CONTOSO },
      { target: 'pchat-web2', group: 'pchat-web', address: '10.1.2.22', ca: FABRIKAM },
      { target: 'edge01-internal', group: 'edge-internal', address: '10.1.3.5', ca: null, error: 'timeout' },
    ],
    // Shard b judges the policy among the members it sees, as a daemon with only this shard would.
    policies: [{ name: 'pchat-web-consistent', member: 'pchat-web', divergent: ['pchat-web2'] }],
  },
];

const POLICY_CONFIG = {
  source: 'chainwatch.yaml',
  policies: [{ name: 'pchat-web-same-ca', members: ['pchat-web'], reference: 'lync-internal', match: 'issuer' as const, allowedIssuers: [] }],
  alerting: { alertmanagerUrls: [] },
};
const generated = parse(generateRuleFile(POLICY_CONFIG, readDeploy(RULES))) as RuleFile;

describe('the real Prometheus with the shipped config and generated rules', () => {
  const tmp = tempDir('chainwatch-prometheus-');
  const exporters: Server[] = [];
  let prometheus: ServerProcess | undefined;
  let base = '';

  before(async () => {
    const shardTargets: string[] = [];
    for (const shard of SHARDS) {
      const srv = createServer((req, res) => {
        if (req.url !== '/metrics') {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(exposition(shard.endpoints, shard.policies));
      });
      await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
      exporters.push(srv);
      shardTargets.push(`127.0.0.1:${(srv.address() as AddressInfo).port}`);
    }

    // The shipped config, pointed at loopback and sped up; everything else stays as shipped.
    const config = parse(readDeploy('prometheus/prometheus.yml'));
    config.global = { ...config.global, scrape_interval: '1s', evaluation_interval: '1s' };
    // The rules `chainwatch rules` writes for a config with the Lync policy and no push to
    // Alertmanager: the generic rules, the daemon's verdict relayed, and the PromQL form.
    writeFileSync(join(tmp.path, 'chainwatch.rules.yml'), generateRuleFile(POLICY_CONFIG, readDeploy(RULES)));
    config.rule_files = (config.rule_files as string[]).map((f) => join(tmp.path, f));
    config.alerting.alertmanagers[0].static_configs = [{ targets: [`127.0.0.1:${await freePort()}`] }];
    const job = config.scrape_configs.find((s: { job_name: string }) => s.job_name === 'chainwatch');
    job.scrape_timeout = '1s';
    job.static_configs = [{ targets: shardTargets, labels: job.static_configs[0].labels }];
    const configPath = join(tmp.path, 'prometheus.yml');
    writeFileSync(configPath, stringify(config));

    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    prometheus = new ServerProcess(
      PROMETHEUS,
      [`--config.file=${configPath}`, `--storage.tsdb.path=${join(tmp.path, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
      tmp.path,
    );
    await waitFor(
      'Prometheus to be ready',
      async () => {
        if (!prometheus!.running) throw new Error(`prometheus exited:\n${prometheus!.output}`);
        const res = await fetch(`${base}/-/ready`, { signal: AbortSignal.timeout(2_000) });
        return res.status === 200 ? true : undefined;
      },
      20_000,
      () => prometheus!.output,
    );
  });

  after(async () => {
    await prometheus?.stop();
    await Promise.all(exporters.map((s) => new Promise((r) => s.close(r))));
    tmp.remove();
  });

  test('loads every rule group and evaluates every rule with health ok', async () => {
    const groups = await waitFor(
      'every rule evaluated at least once',
      async () => {
        const { body } = await getJson(`${base}/api/v1/rules`);
        const gs = body.data.groups as { name: string; rules: { name: string; health: string; lastEvaluation: string; lastError?: string }[] }[];
        const evaluated = gs.every((g) => g.rules.every((r) => !r.lastEvaluation.startsWith('0001')));
        return gs.length > 0 && evaluated ? gs : undefined;
      },
      20_000,
      () => prometheus!.output,
    );
    assert.deepEqual(groups.map((g) => g.name).sort(), generated.groups.map((g) => g.name).sort());
    assert.equal(groups.flatMap((g) => g.rules).length, generated.groups.flatMap((g) => g.rules).length);
    for (const r of groups.flatMap((g) => g.rules)) {
      assert.equal(r.health, 'ok', `rule ${r.name}: ${r.lastError ?? ''}`);
    }
  });

  test('judges the sharded fleet: PromQL divergence across shards and the daemon verdict', async () => {
    type Alert = { labels: Record<string, string>; annotations: Record<string, string>; state: string };
    const alerts = await waitFor(
      'divergence alerts from both forms',
      async () => {
        const { body } = await getJson(`${base}/api/v1/alerts`);
        const div = (body.data.alerts as Alert[]).filter((a) => a.labels.alertname === 'ChainwatchIssuerDivergence');
        return div.length >= 2 ? div : undefined;
      },
      20_000,
    );
    // pchat-web2 sits on shard b, the reference group lync-internal on shard a: only a judgement
    // over both instances can see that they differ.
    const promql = alerts.find((a) => a.labels.judged_by === 'prometheus');
    assert.ok(promql, JSON.stringify(alerts));
    assert.equal(promql.labels.target, 'pchat-web2');
    assert.equal(promql.labels.policy, 'pchat-web-same-ca');
    assert.equal(promql.labels.issuer_key_id, FABRIKAM.key);
    assert.equal(promql.state, 'pending', 'the PromQL form waits 10 minutes before firing');
    assert.match(promql.annotations.description!, new RegExp(`Issuing CAs of lync-internal: ${CONTOSO.dn} \\(key ${CONTOSO.key}\\): 2 endpoint\\(s\\)`));
    const daemon = alerts.find((a) => a.labels.judged_by === 'daemon');
    assert.ok(daemon, JSON.stringify(alerts));
    assert.equal(daemon.state, 'firing');
    assert.equal(daemon.labels.target, 'pchat-web2');
    assert.match(daemon.annotations.description!, new RegExp(`issued by ${FABRIKAM.dn} \\(issuing-CA key ${FABRIKAM.key}\\)`));
    // Nobody else on either shard is divergent.
    assert.equal(alerts.length, 2, JSON.stringify(alerts.map((a) => a.labels)));
  });

  test('accepts every dashboard query, and the fleet table covers every endpoint', async () => {
    await waitFor(
      'two scrapes of both shards',
      async () => {
        const { body } = await getJson(`${base}/api/v1/query?query=${encodeURIComponent('count_over_time(chainwatch_targets[1m])')}`);
        const r = body.data.result as { value: [number, string] }[];
        return r.length === 2 && r.every((s) => Number(s.value[1]) >= 2) ? true : undefined;
      },
      15_000,
    );
    const failures: string[] = [];
    const results = new Map<string, unknown[]>();
    for (const q of dashboardQueries()) {
      const expr = substituteVariables(q.expr);
      if (expr.includes('$')) {
        failures.push(`${q.where}: unknown dashboard variable in ${expr}`);
        continue;
      }
      const { status, body } = await getJson(`${base}/api/v1/query?query=${encodeURIComponent(expr)}`);
      if (status !== 200 || body.status !== 'success') failures.push(`${q.where}: ${body.error ?? status} in ${expr}`);
      else results.set(q.where, body.data.result);
    }
    assert.deepEqual(failures, []);

    const fleet = (ref: string) => results.get(`panel "Fleet status" query ${ref}`) as { metric: Record<string, string>; value: [number, string] }[];
    const all = SHARDS.flatMap((s) => s.endpoints);
    assert.deepEqual(
      fleet('A')
        .map((s) => s.metric.target)
        .sort(),
      all.map((e) => e.target).sort(),
    );
    const days = fleet('C').find((s) => s.metric.target === 'pool01-fe01');
    assert.ok(days && Math.abs(Number(days.value[1]) - 10) < 0.1, `days to expiry of pool01-fe01: ${JSON.stringify(days)}`);
    const chain = fleet('B').find((s) => s.metric.target === 'pchat-web2');
    assert.equal(chain?.metric.issuer_key_id, FABRIKAM.key);

    const divergent = results.get('panel "Divergent members" query A') as { metric: Record<string, string> }[];
    assert.deepEqual(
      divergent.map((s) => [s.metric.target, s.metric.issuer_key_id]),
      [['pchat-web2', FABRIKAM.key]],
    );
    const perGroup = results.get('panel "Issuing CAs per group (all instances)" query A') as { metric: Record<string, string> }[];
    assert.equal(perGroup.filter((s) => s.metric.group === 'pchat-web').length, 2, 'pchat-web shows both CAs');
  });

  test('the dashboard variables find their values', async () => {
    for (const v of dashboard.templating.list.filter((x) => x.type === 'query')) {
      const m = /^label_values\((\w+(?:\{[^}]*\})?),\s*(\w+)\)$/.exec(v.definition ?? '');
      assert.ok(m, `variable ${v.name}: unexpected query ${v.definition}`);
      const match = substituteVariables(m[1]!);
      const { body } = await getJson(`${base}/api/v1/label/${m[2]}/values?match[]=${encodeURIComponent(match)}`);
      assert.ok((body.data as string[]).length > 0, `variable ${v.name} finds no values`);
    }
  });
});
