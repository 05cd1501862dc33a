// The reference pages in docs/ list exactly what the code produces, so they cannot fall behind.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { PROBLEM_ORDER } from '../../src/chain/types.js';
import { FLEET_FAMILIES } from '../../src/output/exposition.js';
import { METRICS } from '../deploy/support.js';

const doc = (name: string): string => readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8');

/** The backquoted names at the start of the table rows of a Markdown page. */
function rowNames(text: string): string[] {
  return [...text.matchAll(/^\| `([a-z_]+)`/gm)].map((m) => m[1]!);
}

test('docs/problems.md lists every problem code, in report order', () => {
  assert.deepEqual(rowNames(doc('problems.md')), [...PROBLEM_ORDER]);
});

test('docs/metrics.md lists every metric the daemon exports', () => {
  const page = doc('metrics.md');
  const exported = new Set(Object.keys(METRICS).map((m) => m.replace(/_(bucket|sum|count)$/, '')));
  for (const metric of exported) assert.ok(page.includes(`\`${metric}\``), `${metric} is not in docs/metrics.md`);
  const documented = new Set([...page.matchAll(/`(chainwatch_[a-z_]+)`/g)].map((m) => m[1]!));
  assert.deepEqual(
    [...documented].filter((m) => !exported.has(m)),
    [],
    'documented but not exported',
  );
});

test("docs/metrics.md names each fleet series' labels as the exporter writes them", () => {
  const rows = new Map([...doc('metrics.md').matchAll(/^\| `(chainwatch_[a-z_]+)` \|[^|]*\|([^|]*)\|/gm)].map((m) => [m[1]!, m[2]!]));
  const endpoint = ['target', 'group', 'address'];
  for (const f of Object.values(FLEET_FAMILIES)) {
    // The per-endpoint table lists the labels beyond target, group and address.
    const documented = [...rows.get(f.name)!.matchAll(/`([a-z_0-9]+)`/g)].map((m) => m[1]!);
    assert.deepEqual(
      documented,
      f.labels.filter((l) => !endpoint.includes(l)),
      f.name,
    );
  }
});

test('the repository documents itself: no file points at an outside specification', () => {
  const root = new URL('../../', import.meta.url);
  // Spelled in pieces so that this file does not match itself.
  const words = new RegExp(`\\b${['SP', 'EC'].join('')}\\b|\\b[Cc]on${'tract'}\\b`);
  const walk = (dir: string): string[] =>
    readdirSync(new URL(dir, root), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(`${dir}${e.name}/`) : /\.(ts|mjs|md|ya?ml|json|html|css)$/.test(e.name) ? [`${dir}${e.name}`] : [],
    );
  const files = ['README.md', 'ARCHITECTURE.md', ...['src/', 'test/', 'docs/', 'deploy/', 'config/'].flatMap(walk)];
  const hits = files.filter((f) => words.test(readFileSync(new URL(f, root), 'utf8')));
  assert.deepEqual(hits, []);
});
