// The rule generator: its PromQL judges a policy as the daemon does (majority, tie, reference,
// match root, pins, scope), checked by Debian's promtool evaluating the expressions over series
// shaped like chainwatch_chain_info; the generated file passes `promtool check rules`.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import {
  divergenceExpr,
  generateRuleFile,
  POLICY_GROUP,
  policyRules,
  promqlSkipReason,
  type RuleConfig,
  type RulePolicy,
} from '../../src/output/prometheus-rules.js';
import { checkNames, deployPath, PROMTOOL, runTool, tempDir } from '../deploy/support.js';

const GENERIC = readFileSync(deployPath('prometheus/chainwatch.rules.yml'), 'utf8');
const A = { key: 'aa'.repeat(20), dn: 'CN=Dublin Issuing CA', root: 'CN=Contoso Root' };
const B = { key: 'bb'.repeat(20), dn: 'CN=London Issuing CA', root: 'CN=Contoso Root' };
const X = { key: 'cc'.repeat(20), dn: 'CN=Rogue CA', root: 'CN=Rogue Root' };

interface Ep {
  target: string;
  group: string;
  ca: typeof A | null;
  site?: string;
}

function policy(p: Partial<RulePolicy> & Pick<RulePolicy, 'members'>): RulePolicy {
  return { name: 'p', reference: null, match: 'issuer', allowedIssuers: [], ...p };
}

function seriesLabels(e: Ep): Record<string, string> {
  return {
    __name__: 'chainwatch_chain_info',
    target: e.target,
    group: e.group,
    address: '',
    issuer_dn: e.ca?.dn ?? '',
    issuer_key_id: e.ca?.key ?? '',
    leaf_sha256: `leaf-${e.target}`,
    root_dn: e.ca?.root ?? '',
    instance: e.group.startsWith('ref') ? 'shard-a:9862' : 'shard-b:9862',
    job: 'chainwatch',
    ...(e.site ? { site: e.site } : {}),
  };
}

function seriesText(l: Record<string, string>): string {
  const { __name__, ...rest } = l;
  return `${__name__}{${Object.entries(rest)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ')}}`;
}

/** Asserts through promtool that exactly `expect` are divergent (order-free). */
function assertDivergent(p: RulePolicy, fleet: Ep[], expect: string[]): void {
  const tmp = tempDir('chainwatch-promql-');
  try {
    const test = {
      interval: '1m',
      input_series: fleet.map((e) => ({ series: seriesText(seriesLabels(e)), values: '1x5' })),
      promql_expr_test: [
        {
          expr: divergenceExpr(p),
          eval_time: '2m',
          exp_samples: expect.map((t) => ({ labels: seriesText(seriesLabels(fleet.find((e) => e.target === t)!)), value: 1 })),
        },
      ],
    };
    writeFileSync(join(tmp.path, 'empty.yml'), 'groups: []\n');
    writeFileSync(join(tmp.path, 'case.test.yml'), stringify({ rule_files: ['empty.yml'], tests: [test] }));
    const r = runTool(PROMTOOL, ['test', 'rules', 'case.test.yml'], tmp.path);
    assert.equal(r.status, 0, `expected divergent: ${JSON.stringify(expect)}\n${r.output}`);
  } finally {
    tmp.remove();
  }
}

const ep = (target: string, group: string, ca: Ep['ca'], site?: string): Ep => ({ target, group, ca, site });

describe('the PromQL divergence form judges like the daemon', () => {
  test('no reference: the most common CA is the baseline, the others diverge', () => {
    assertDivergent(policy({ members: ['m'] }), [ep('m1', 'm', A), ep('m2', 'm', A), ep('m3', 'm', B)], ['m3']);
  });

  test('no reference: members of several groups are judged together', () => {
    assertDivergent(policy({ members: ['m', 'n'] }), [ep('m1', 'm', A), ep('n1', 'n', A), ep('n2', 'n', B)], ['n2']);
  });

  test('no reference: a tie leaves no baseline, so every member diverges', () => {
    assertDivergent(policy({ members: ['m'] }), [ep('m1', 'm', A), ep('m2', 'm', B)], ['m1', 'm2']);
  });

  test('one CA everywhere: nothing diverges; unidentified CAs are not judged', () => {
    assertDivergent(policy({ members: ['m'] }), [ep('m1', 'm', A), ep('m2', 'm', A), ep('m3', 'm', null)], []);
  });

  test('reference: its most common CA is expected; reference endpoints on another CA diverge too', () => {
    const fleet = [ep('r1', 'ref', A), ep('r2', 'ref', A), ep('r3', 'ref', B), ep('m1', 'm', A), ep('m2', 'm', B)];
    assertDivergent(policy({ members: ['m'], reference: 'ref' }), fleet, ['r3', 'm2']);
  });

  test('reference: a mixed reference never makes a member consistent; a tie makes all diverge', () => {
    const fleet = [ep('r1', 'ref', A), ep('r2', 'ref', B), ep('m1', 'm', A)];
    assertDivergent(policy({ members: ['m'], reference: 'ref' }), fleet, ['r1', 'r2', 'm1']);
  });

  test('reference: members agreeing among themselves on another CA still diverge', () => {
    const fleet = [ep('r1', 'ref', A), ep('m1', 'm', B), ep('m2', 'm', B), ep('m3', 'm', B)];
    assertDivergent(policy({ members: ['m'], reference: 'ref' }), fleet, ['m1', 'm2', 'm3']);
  });

  test('reference with no readable chain: silent (the probe alerts say why)', () => {
    assertDivergent(policy({ members: ['m'], reference: 'ref' }), [ep('r1', 'ref', null), ep('m1', 'm', B)], []);
  });

  test('match: root compares roots, so two issuing CAs under one root agree', () => {
    const fleet = [ep('m1', 'm', A), ep('m2', 'm', B), ep('m3', 'm', A), ep('m4', 'm', X)];
    assertDivergent(policy({ members: ['m'], match: 'root' }), fleet, ['m4']);
    assertDivergent(policy({ members: ['m'] }), fleet, ['m2', 'm4']);
  });

  test('pinned key ids: without a reference, anything unpinned diverges, majority or not', () => {
    const fleet = [ep('m1', 'm', B), ep('m2', 'm', B), ep('m3', 'm', A)];
    assertDivergent(policy({ members: ['m'], allowedIssuers: [A.key] }), fleet, ['m1', 'm2']);
  });

  test('pinned key ids with a reference: the expected CA must also be pinned', () => {
    const fleet = [ep('r1', 'ref', B), ep('m1', 'm', B), ep('m2', 'm', A)];
    assertDivergent(policy({ members: ['m'], reference: 'ref', allowedIssuers: [A.key] }), fleet, ['r1', 'm1', 'm2']);
  });

  test('scope: each site is judged on its own, against its own reference', () => {
    // Dublin on CA A, London legitimately on CA B; Dublin's web server mis-issued from B.
    const fleet = [
      ep('dub-fe1', 'ref', A, 'dublin'),
      ep('dub-fe2', 'ref', A, 'dublin'),
      ep('dub-web', 'm', B, 'dublin'),
      ep('lon-fe1', 'ref', B, 'london'),
      ep('lon-web', 'm', B, 'london'),
    ];
    assertDivergent(policy({ members: ['m'], reference: 'ref', scope: 'site' }), fleet, ['dub-web']);
    // Unscoped, the fleet-wide majority (A) would wrongly flag all of London.
    assertDivergent(policy({ members: ['m'], reference: 'ref' }), fleet, ['dub-web', 'lon-fe1', 'lon-web']);
  });

  test('scope without reference: majority per site', () => {
    const fleet = [ep('d1', 'm', A, 'dublin'), ep('d2', 'm', A, 'dublin'), ep('d3', 'm', B, 'dublin'), ep('l1', 'm', B, 'london')];
    assertDivergent(policy({ members: ['m'], scope: 'site' }), fleet, ['d3']);
  });

  test('group names with regex characters match only themselves', () => {
    const fleet = [ep('a1', 'web.1', A), ep('a2', 'webx1', B), ep('a3', 'web.1', A), ep('a4', 'edge', B)];
    assertDivergent(policy({ members: ['web.1', 'edge'] }), fleet, ['a4']);
  });
});

describe('the generated rule file', () => {
  const config = (policies: RulePolicy[], alertmanagerUrls: string[] = ['http://am:9093']): RuleConfig => ({
    source: '/etc/chainwatch/chainwatch.yaml',
    policies,
    alerting: { alertmanagerUrls },
  });
  const policies = [
    policy({ name: 'pchat-web-same-ca', members: ['pchat-web'], reference: 'lync-internal', scope: 'site' }),
    policy({ name: 'internal-one-root', members: ['lync-internal', 'edge-internal'], match: 'root' }),
    policy({ name: 'pinned-by-spki', members: ['m'], allowedIssuers: ['ab'.repeat(32)] }),
  ];

  test('promtool accepts it: the generic rules plus one rule per policy PromQL can judge', () => {
    const text = generateRuleFile(config(policies), GENERIC);
    const file = parse(text) as { groups: { name: string; rules: { alert: string; labels: Record<string, string> }[] }[] };
    const generic = parse(GENERIC) as { groups: { name: string; rules: unknown[] }[] };
    assert.deepEqual(file.groups.slice(0, -1), generic.groups, 'the generic rules come through unchanged');
    const generated = file.groups.at(-1)!;
    assert.equal(generated.name, POLICY_GROUP);
    assert.deepEqual(
      generated.rules.map((r) => r.labels.policy),
      ['pchat-web-same-ca', 'internal-one-root'],
    );
    assert.match(text, /# Policy pinned-by-spki has no PromQL form: allowed_issuers .* are SPKI hashes/);
    const tmp = tempDir('chainwatch-gen-');
    try {
      writeFileSync(join(tmp.path, 'rules.yml'), text);
      const r = runTool(PROMTOOL, ['check', 'rules', 'rules.yml'], tmp.path);
      assert.equal(r.status, 0, r.output);
    } finally {
      tmp.remove();
    }
    assert.deepEqual(
      generated.rules.flatMap((r) => checkNames(JSON.stringify(r), r.labels.policy!)).filter((p) => !/label site/.test(p.problem)),
      [],
    );
  });

  test('a scoped policy groups by its scope label', () => {
    const expr = divergenceExpr(policies[0]!);
    assert.match(expr, /count by \(site, issuer_key_id\)/);
    assert.match(expr, /and on\(site\)/);
    assert.doesNotMatch(divergenceExpr(policies[1]!), /site/);
  });

  test("the daemon's verdict is relayed by Prometheus only when the daemon does not push it", () => {
    const relay = (urls: string[]) => policyRules(config(policies, urls)).filter((r) => r.labels.judged_by === 'daemon');
    assert.equal(relay(['http://am:9093']).length, 0);
    assert.equal(relay([]).length, 1);
    assert.equal(relay([])[0]!.expr.trim(), 'chainwatch_policy_member_divergent == 1');
  });

  test('no policies: the generic rules alone', () => {
    const text = generateRuleFile(config([], []), GENERIC);
    assert.deepEqual(parse(text), parse(GENERIC));
  });

  test('a policy PromQL cannot judge is named even when no rule is generated', () => {
    const text = generateRuleFile(config([policy({ name: 'spki-only', members: ['m'], allowedIssuers: ['ab'.repeat(32)] })]), GENERIC);
    assert.deepEqual(parse(text), parse(GENERIC));
    assert.match(text, /# Policy spki-only has no PromQL form/);
  });

  test('pins the PromQL cannot see are named, not silently ignored', () => {
    assert.equal(promqlSkipReason(policy({ members: ['m'] })), null);
    assert.equal(promqlSkipReason(policy({ members: ['m'], allowedIssuers: [A.key] })), null);
    assert.match(promqlSkipReason(policy({ members: ['m'], match: 'root', allowedIssuers: [A.key] }))!, /root/);
  });
});
