import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judgePolicy } from '../../src/fleet/policy.js';
import { buildReport } from '../../src/output/report.js';
import { formatTable } from '../../src/output/table.js';
import { CA01, CA02, result } from '../fleet/results.js';

test('a scoped policy shows each scope with its expected CA, and each divergent endpoint with its own', () => {
  const at = (site: string) => ({ labels: { site } });
  const endpoints = [
    result({ target: 'dub-fe', group: 'lync-default', issuer: CA01, ...at('Dublin') }),
    result({ target: 'dub-web', group: 'pchat-web', issuer: CA02, ...at('Dublin') }),
    result({ target: 'lon-fe', group: 'lync-default', issuer: CA02, ...at('London') }),
    result({ target: 'lon-web', group: 'pchat-web', issuer: CA02, ...at('London') }),
  ];
  const verdict = judgePolicy(
    { name: 'pchat-web-same-ca', reference: 'lync-default', members: ['pchat-web'], match: 'issuer', scope: 'site', allowedIssuers: [] },
    endpoints,
  );
  const report = buildReport({ startedAt: new Date(0), finishedAt: new Date(0), endpoints, policies: [verdict], changes: [] });
  assert.deepEqual(
    report.targets.map((t) => t.labels),
    [{ site: 'Dublin' }, { site: 'Dublin' }, { site: 'London' }, { site: 'London' }],
  );
  const lines = formatTable(report).split('\n');
  const from = lines.indexOf('POLICIES');
  assert.deepEqual(lines.slice(from + 1, from + 5), [
    '  pchat-web-same-ca [match issuer, reference lync-default, per site]: DIVERGENT (1)',
    '    site=Dublin: expected Contoso Issuing CA 01 (key aa01) (1 matching, 1 divergent)',
    '    site=London: expected Contoso Issuing CA 02 (key aa02) (2 matching, 0 divergent)',
    '    ✗ dub-web [site=Dublin] has Contoso Issuing CA 02 (key aa02), expected Contoso Issuing CA 01 (key aa01)',
  ]);
});
