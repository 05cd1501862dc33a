import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildReport } from '../../src/output/report.js';
import { summarizeScan } from '../../src/output/summary.js';
import { CONTOSO, DAY, endpoint, FABRIKAM, failedResult, okResult, scanOf, verdict } from './alerts/scans.js';

test('an endpoint divergent in two policies counts once; failures, problems and policies are counted', () => {
  const at = new Date('2026-01-01T00:00:00Z');
  const web1 = endpoint('web1', 'web', '10.0.0.1');
  const web2 = endpoint('web2', 'web', '10.0.0.2');
  const down = endpoint('down', 'web', '10.0.0.3');
  const scan = scanOf(
    at,
    [
      okResult(web1, CONTOSO, new Date(at.getTime() + 90 * DAY), at),
      okResult(web2, FABRIKAM, new Date(at.getTime() + 90 * DAY), at),
      failedResult(down, 'refused', 'refused', at),
    ],
    [
      verdict('one', CONTOSO, [
        { ep: web1, ca: CONTOSO },
        { ep: web2, ca: FABRIKAM },
      ]),
      verdict(
        'two',
        CONTOSO,
        [
          { ep: web1, ca: CONTOSO },
          { ep: web2, ca: FABRIKAM },
        ],
        null,
      ),
      verdict('three', CONTOSO, [{ ep: web1, ca: CONTOSO }]),
    ],
  );
  const s = summarizeScan(scan);
  assert.deepEqual(s, { endpoints: 3, failed: 1, withProblems: 0, policies: 3, inconsistentPolicies: 2, divergent: 1, changes: 0 });
  assert.deepEqual(buildReport(scan).summary, s, 'the report carries the same summary');
});
