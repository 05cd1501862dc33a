// The Grafana dashboard imports anywhere: its data source is a variable, every panel uses it,
// the layout fits the 24-column grid without overlaps, and the panels the operator needs are
// there. (Its queries run against the real Prometheus in prometheus-rules.test.ts.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
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
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
  transformations?: { id: string; options: { renameByName?: Record<string, string> } }[];
}

const dashboard = JSON.parse(readDeploy('grafana/chainwatch-dashboard.json')) as {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown }[] };
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
  assert.ok(fleet?.transformations?.some((t) => t.id === 'merge'), 'the per-endpoint queries are merged into one row per endpoint');
});

test('has policy consistency, divergent members, expiry, probe failure and change panels', () => {
  const titles = dashboard.panels.map((p) => p.title);
  for (const t of [
    'Policies', 'Divergent members', 'Issuing CAs per group (all instances)', 'Days to leaf expiry (soonest 20)',
    'Probe failures by error kind', 'Failing endpoints', 'Certificate changes',
  ]) {
    assert.ok(titles.includes(t), `no panel "${t}"`);
  }
  assert.equal(dashboard.uid, 'chainwatch-fleet');
});
