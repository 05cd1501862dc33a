// not_before carries no certificate identity; docs/metrics.md shows the PromQL that takes it from
// not_after. Debian's promtool evaluates that very expression over the daemon's own exposition.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { createMetrics } from '../../src/output/metrics.js';
import { PROMTOOL, runTool, tempDir } from '../deploy/support.js';
import { syntheticScan } from './synthetic-fleet.js';

const SCRAPE = 'instance="chainwatch:9862",job="chainwatch"';

test('the join in docs/metrics.md gives every not_before series the identity of its certificate', async () => {
  const doc = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
  const expr = /```promql\n([\s\S]*?)```/.exec(doc)?.[1]?.trim();
  assert.ok(expr, 'docs/metrics.md has a promql block');

  const m = createMetrics({ version: 'test', processMetrics: false });
  const { scan, baseline } = syntheticScan(40);
  await m.updateFromScan(scan, baseline);
  const text = await m.render();
  const series = (name: string) =>
    text
      .split('\n')
      .filter((l) => l.startsWith(`${name}{`))
      .map((l) => {
        const close = l.lastIndexOf('} ');
        return { name, labels: l.slice(name.length + 1, close), value: l.slice(close + 2) };
      });
  const notAfter = series('chainwatch_cert_not_after_timestamp_seconds');
  const notBefore = series('chainwatch_cert_not_before_timestamp_seconds');
  assert.equal(notBefore.length, 38 * 2, 'two certificates for each of the 38 healthy endpoints');

  // not_after's labels start with those of not_before (endpoint and position), then the identity.
  const expected = notBefore.map((b) => {
    const a = notAfter.find((x) => x.labels.startsWith(`${b.labels},`));
    assert.ok(a, b.labels);
    return { labels: `{${a.labels},${SCRAPE}}`, value: Number(b.value) };
  });
  const tmp = tempDir('chainwatch-join-');
  try {
    const input = [...notAfter, ...notBefore].map((s) => ({ series: `${s.name}{${s.labels},${SCRAPE}}`, values: s.value }));
    writeFileSync(
      join(tmp.path, 'join.test.yml'),
      stringify({ tests: [{ interval: '1m', input_series: input, promql_expr_test: [{ expr, eval_time: '0m', exp_samples: expected }] }] }),
    );
    const r = runTool(PROMTOOL, ['test', 'rules', 'join.test.yml'], tmp.path);
    assert.equal(r.status, 0, r.output);
  } finally {
    tmp.remove();
  }
});
