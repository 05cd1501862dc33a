// The Grafana dashboard imports anywhere: its data source is a variable, every panel uses it,
// the layout fits the 24-column grid without overlaps, and the panels the operator needs are
// there. Every panel query, variables substituted, returns data from a real Prometheus scraping
// a real daemon whose loopback fleet shows each condition the panels are about.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually } from '../output/alerts/processes.js';
import { type LiveStack, startLiveStack } from './live-stack.js';
import { readDeploy } from './support.js';

interface Target {
  refId: string;
  expr?: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  repeat?: string;
  fieldConfig?: { overrides: { matcher: { id: string; options: string }; properties: { id: string; value: unknown }[] }[] };
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
  transformations?: { id: string; options: { renameByName?: Record<string, string> } }[];
}

const dashboard = JSON.parse(readDeploy('grafana/chainwatch-dashboard.json')) as {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown; definition?: string }[] };
  annotations: { list: { name: string; expr?: string }[] };
  links: { url: string }[];
};
const DS = '${datasource}';

test('the data source is a Prometheus variable that every panel and query uses', () => {
  const ds = dashboard.templating.list.find((v) => v.name === 'datasource');
  assert.equal(ds?.type, 'datasource');
  assert.equal(ds?.query, 'prometheus');
  for (const p of dashboard.panels.filter((x) => x.type !== 'row')) {
    assert.equal(p.datasource?.uid, DS, `panel "${p.title}"`);
    assert.ok((p.targets ?? []).length > 0, `panel "${p.title}" has no query`);
    for (const t of p.targets ?? []) assert.equal(t.datasource?.uid, DS, `panel "${p.title}" query ${t.refId}`);
  }
  assert.doesNotMatch(JSON.stringify(dashboard), /"uid":\s*"(?!\$\{datasource\}|-- Grafana --|chainwatch-fleet)[^"]*"/, 'no hard-wired data source uid');
});

test('panels fit the grid without overlapping and have unique ids', () => {
  const ids = dashboard.panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length);
  const cells = new Set<string>();
  for (const p of dashboard.panels) {
    const { x, y, w, h } = p.gridPos;
    assert.ok(x >= 0 && w > 0 && x + w <= 24 && h > 0, `panel "${p.title}" at ${JSON.stringify(p.gridPos)}`);
    for (let i = x; i < x + w; i++) {
      for (let j = y; j < y + h; j++) {
        const key = `${i},${j}`;
        assert.ok(!cells.has(key), `panel "${p.title}" overlaps another at ${key}`);
        cells.add(key);
      }
    }
  }
});

test('has the fleet status table: target, group, address, issuer, issuer key id, days to expiry, trusted', () => {
  const fleet = dashboard.panels.find((p) => p.title === 'Fleet status');
  assert.equal(fleet?.type, 'table');
  const exprs = (fleet?.targets ?? []).map((t) => t.expr ?? '').join('\n');
  for (const label of ['target', 'group', 'address', 'issuer_dn', 'issuer_key_id']) assert.match(exprs, new RegExp(`\\b${label}\\b`));
  const renamed = Object.values(fleet?.transformations?.find((t) => t.id === 'organize')?.options.renameByName ?? {});
  for (const column of ['Days to expiry', 'Trusted', 'Probe ok', 'Issuer key id']) assert.ok(renamed.includes(column), `no column ${column}`);
  assert.ok(
    fleet?.transformations?.some((t) => t.id === 'merge'),
    'the per-endpoint queries are merged into one row per endpoint',
  );
});

test('has policy consistency, divergent members, expiry, probe failure and change panels', () => {
  const titles = dashboard.panels.map((p) => p.title);
  for (const t of [
    'Policies',
    'Divergent members',
    'Issuing CAs per group (all instances)',
    'Days to leaf expiry (soonest 20)',
    'Probe failures by error kind',
    'Failing endpoints',
    'Certificate changes',
  ]) {
    assert.ok(titles.includes(t), `no panel "${t}"`);
  }
  assert.equal(dashboard.uid, 'chainwatch-fleet');
});

test('variables: data source, job, instance, group, policy, site from target labels, and the chainwatch URL', () => {
  const vars = new Map(dashboard.templating.list.map((v) => [v.name, v]));
  assert.deepEqual([...vars.keys()], ['datasource', 'job', 'instance', 'group', 'policy', 'site', 'chainwatch_url']);
  assert.equal(vars.get('job')?.definition, 'label_values(chainwatch_build_info, job)');
  assert.equal(vars.get('instance')?.definition, 'label_values(chainwatch_build_info{job=~"$job"}, instance)');
  assert.equal(vars.get('site')?.definition, 'label_values(chainwatch_chain_info, site)');
  assert.equal(vars.get('chainwatch_url')?.type, 'textbox');
});

test('every chainwatch series a panel reads is narrowed to the chosen instance and job', () => {
  for (const { where, expr } of queries()) {
    for (const m of expr.matchAll(/\b(chainwatch_[a-z0-9_]+)(\{[^}]*\})?/g)) {
      assert.match(m[2] ?? '', /instance=~"\$instance", job=~"\$job"/, `${where}: ${m[0]}`);
    }
  }
});

test('tables of endpoints link each target to its page on the status page', () => {
  const linked = (p: Panel) =>
    (p.fieldConfig?.overrides ?? []).some(
      (o) =>
        /^(target|Target)$/.test(o.matcher.options) &&
        o.properties.some((x) => x.id === 'links' && JSON.stringify(x.value).includes('${chainwatch_url}/targets/${__value.text:percentencode}')),
    );
  for (const title of ['Fleet status', 'Divergent members', 'Failing endpoints', 'Members and the CA each holds']) {
    const p = dashboard.panels.find((x) => x.title === title);
    assert.ok(p && linked(p), `panel "${title}" links its targets`);
  }
  assert.ok(
    dashboard.links.some((l) => l.url === '${chainwatch_url}/'),
    'a dashboard link to the status page',
  );
});

test('expiry panels read the thresholds the daemon exports, not constants', () => {
  const text = queries()
    .map((q) => q.expr)
    .join('\n');
  assert.match(text, /chainwatch_expiry_warning_seconds/);
  assert.match(text, /chainwatch_expiry_critical_seconds/);
  assert.doesNotMatch(text, /\d+ \* 86400/);
});

test('a row per policy shows, per site, which members hold which CA against the expected one', () => {
  const row = dashboard.panels.find((p) => p.type === 'row' && p.repeat === 'policy');
  assert.ok(row, 'a row repeated per policy');
  const after = dashboard.panels.slice(dashboard.panels.indexOf(row) + 1);
  const members = after.find((p) => p.title === 'Members and the CA each holds');
  const expected = after.find((p) => p.title.startsWith('Expected CA per site'));
  assert.match(members?.targets?.map((t) => t.expr).join('\n') ?? '', /by \(policy, site, target, address, group\)/);
  assert.match(expected?.targets?.[0]?.expr ?? '', /count by \(site, issuer_dn, issuer_key_id\)/);
});

/** Every query of the dashboard: panels (rows included) and annotations. */
function queries(): { where: string; expr: string }[] {
  return [
    ...dashboard.panels.flatMap((p) => (p.targets ?? []).filter((t) => t.expr).map((t) => ({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr! }))),
    ...dashboard.annotations.list.filter((a) => a.expr).map((a) => ({ where: `annotation "${a.name}"`, expr: a.expr! })),
  ];
}

/** What Grafana sends with every variable on "All" and a one-day range. */
function substitute(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__interval', '30s')
    .replaceAll('$__range_s', '86400')
    .replaceAll('$__range', '1d')
    .replace(/\$\{?(group|policy|instance|job|site)\}?/g, '.*');
}

describe('every panel shows data from a real daemon scanning a fleet with every condition', () => {
  let stack: LiveStack;

  before(async () => {
    stack = await startLiveStack();
    // A divergence and with it a change; the fleet already has a failing probe and expiring leaves.
    await eventually('the first scan scraped', async () => (await stack.query('chainwatch_scan_last_completed_timestamp_seconds > 0')).length > 0, 60_000);
    await stack.serveWeb2('fabrikam');
    await eventually(
      'divergence, change, alert delivery, revocation and the PromQL rule, all in Prometheus',
      async () => {
        const checks = await Promise.all([
          stack.query('chainwatch_policy_member_divergent == 1'),
          stack.query('increase(chainwatch_cert_changes_total[1h]) > 0'),
          stack.query('increase(chainwatch_alert_deliveries_total{result="success"}[1m]) > 0'),
          stack.query('ALERTS{alertname="ChainwatchIssuerDivergence", alertstate="firing"}'),
          stack.query('rate(chainwatch_scan_duration_seconds_bucket[1m]) > 0'),
          stack.query('chainwatch_cert_revoked == 1'),
          stack.query('chainwatch_crl_next_update_timestamp_seconds'),
        ]);
        return checks.every((r) => r.length > 0);
      },
      90_000,
    );
  });

  after(async () => {
    await stack?.close();
  });

  test('each query returns at least one series', async () => {
    const empty: string[] = [];
    for (const q of queries()) {
      const expr = substitute(q.expr);
      assert.doesNotMatch(expr, /\$/, `${q.where}: a variable left unsubstituted`);
      if ((await stack.query(expr)).length === 0) empty.push(`${q.where}: ${expr}`);
    }
    assert.deepEqual(empty, []);
  });

  test('the variables find their values', async () => {
    for (const v of dashboard.templating.list.filter((x) => x.type === 'query')) {
      const m = /^label_values\((.+),\s*(\w+)\)$/.exec(v.definition ?? '')!;
      const res = await fetch(`${stack.prometheus.url}/api/v1/label/${m[2]}/values?match[]=${encodeURIComponent(substitute(m[1]!))}`);
      const body = (await res.json()) as { data: string[] };
      assert.ok(body.data.length > 0, `variable ${v.name} finds no values`);
    }
  });

  test('the divergent member shows with the CA it holds, and the expected CA beside it', async () => {
    const panel = (title: string) => dashboard.panels.find((p) => p.title === title)!;
    const divergent = await stack.query(substitute(panel('Divergent members').targets![0]!.expr!));
    assert.deepEqual(
      divergent.map((s) => [s.metric.target, s.metric.issuer_key_id]),
      [['web2', stack.pki.fabrikamTlsCa.keyId]],
    );
    const expected = await stack.query(substitute(panel('Expected CA per site (held by the matching members)').targets![0]!.expr!));
    assert.deepEqual(
      expected.map((s) => s.metric.issuer_key_id),
      [stack.pki.contosoIssuing01.keyId],
    );
  });
});
