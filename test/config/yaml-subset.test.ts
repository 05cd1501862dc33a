// The quick YAML reader against the `yaml` package: on every text it accepts, both must give the
// same tree (kinds, values, and the offsets messages point at); what it does not know it must
// leave to the full parser. Generated texts cover config shapes written in every style, YAML
// punctuation soup, and configs with a token spliced in.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { ConfigNode } from '../../src/config/tree.js';
import { readYamlFull } from '../../src/config/yaml-full.js';
import { readYamlSubset } from '../../src/config/yaml-subset.js';
import { FUZZ } from '../support/fuzz.js';

// Each case takes well under a millisecond: ten times the usual runs.
const RUNS = { ...FUZZ, numRuns: FUZZ.numRuns * 10 };

/** Where two trees differ, or null when they are the same. */
function difference(a: ConfigNode | null, b: ConfigNode | null, path = '$'): string | null {
  if (a === null || b === null) return a === b ? null : `${path}: ${a === null ? 'null' : a.kind} vs ${b === null ? 'null' : b.kind}`;
  if (a.kind !== b.kind) return `${path}: ${a.kind} vs ${b.kind}`;
  if (a.start !== b.start) return `${path}: starts at ${a.start} vs ${b.start}`;
  if (a.kind === 'scalar' && b.kind === 'scalar') {
    if (!Object.is(a.value, b.value)) return `${path}: ${JSON.stringify(a.value)} vs ${JSON.stringify(b.value)}`;
    return a.end === b.end ? null : `${path}: ends at ${a.end} vs ${b.end}`;
  }
  if (a.kind === 'seq' && b.kind === 'seq') {
    if (a.items.length !== b.items.length) return `${path}: ${a.items.length} vs ${b.items.length} items`;
    for (const [i, item] of a.items.entries()) {
      const d = difference(item, b.items[i]!, `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (a.kind === 'map' && b.kind === 'map') {
    if (a.items.length !== b.items.length) return `${path}: ${a.items.length} vs ${b.items.length} keys`;
    for (const [i, pair] of a.items.entries()) {
      const d = difference(pair.key, b.items[i]!.key, `${path}.key${i}`) ?? difference(pair.value, b.items[i]!.value, `${path}.value${i}`);
      if (d) return d;
    }
    return null;
  }
  return `${path}: different kinds`;
}

/** Asserts that the quick reader either leaves `text` alone or reads it as the full parser does; true when it read it. */
function agrees(text: string): boolean {
  const quick = readYamlSubset(text);
  if (quick === undefined) return false;
  const full = readYamlFull(text);
  assert.ok(!('problems' in full), `the quick reader accepted text the full parser refuses: ${JSON.stringify(text)}: ${JSON.stringify(full)}`);
  const d = difference(quick.root, full.root);
  assert.equal(d, null, `${d} in ${JSON.stringify(text)}`);
  return true;
}

// Scalars as they are written: words the core schema reads as null, booleans and numbers, text
// that only looks like them, and text with YAML punctuation inside.
const SCALARS = [
  'web1',
  'fleet.contoso.test',
  '127.0.0.1',
  '::1',
  '[::1]:443',
  '443',
  '0',
  '012',
  '1.5',
  '1.',
  '.5',
  '1e3',
  '0x1f',
  '0o17',
  '-1',
  '+1',
  '.inf',
  '-.inf',
  '.nan',
  '.NaN',
  '~',
  'null',
  'Null',
  'NULL',
  'nUll',
  'true',
  'True',
  'TRUE',
  'tRue',
  'false',
  'no',
  'yes',
  'on',
  '10s',
  '1.5m',
  '30d',
  './state',
  '../ca/root.pem',
  'https://alertmanager:9093/api',
  'tls://sip.contoso.test:5061',
  'a:b',
  'a#b',
  'a b',
  'a, b',
  'x]',
  '{x',
  '"*/5 * * * *"',
  "'it''s'",
  "''",
  '""',
  '"a\\"b"',
  '"tab\\there"',
  "'a # b'",
  '"a: b"',
  '-x',
  '?x',
  '*a',
  '&a x',
  '!!str 1',
  '@x',
  '%x',
  '|',
  'München',
];
const KEYS = ['targets', 'name', 'group', 'host', 'port', 'labels', 'site', 'a', 'b', '"quoted"', "'single'", 'with space', '1', 'true', '~'];

type Tree = string | { map: [string, Tree][] } | { seq: Tree[] };

const tree: fc.Arbitrary<Tree> = fc.letrec<{ node: Tree }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...SCALARS),
    fc.record({ map: fc.array(fc.tuple(fc.constantFrom(...KEYS), tie('node')), { minLength: 1, maxLength: 4 }) }),
    fc.record({ seq: fc.array(tie('node'), { minLength: 1, maxLength: 4 }) }),
  ),
})).node;

interface Style {
  flow: boolean[];
  spaces: number[];
  comments: boolean[];
  seqAtKeyIndent: boolean;
}

const style: fc.Arbitrary<Style> = fc.record({
  flow: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
  spaces: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 8, maxLength: 8 }),
  comments: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
  seqAtKeyIndent: fc.boolean(),
});

/** YAML text for a tree, in a mix of block and flow style chosen by `s`. */
function render(t: Tree, s: Style): string {
  let n = 0;
  const pick = <T>(xs: T[]): T => xs[n++ % xs.length]!;
  const flow = (x: Tree): string => {
    if (typeof x === 'string') return x;
    const sp = ' '.repeat(pick(s.spaces));
    if ('seq' in x) return `[${sp}${x.seq.map(flow).join(`,${sp || ' '}`)}${sp}]`;
    return `{${sp}${x.map.map(([k, v]) => `${k}: ${flow(v)}`).join(', ')}${sp}}`;
  };
  const comment = (): string => (pick(s.comments) ? '  # note' : '');
  const block = (x: Tree, indent: number): string[] => {
    const pad = ' '.repeat(indent);
    if (typeof x === 'string' || pick(s.flow)) return [`${pad}${flow(x)}${comment()}`];
    if ('seq' in x) {
      return x.seq.flatMap((item) => {
        const inner = block(item, indent + 2);
        return [`${pad}- ${inner[0]!.slice(indent + 2)}`, ...inner.slice(1)];
      });
    }
    return x.map.flatMap(([k, v]) => {
      if (typeof v === 'string' || pick(s.flow)) return [`${pad}${k}:${' '.repeat(1 + pick(s.spaces))}${flow(v)}${comment()}`];
      const childIndent = 'seq' in v && s.seqAtKeyIndent ? indent : indent + 2 + pick(s.spaces);
      return [`${pad}${k}:${comment()}`, ...(pick(s.comments) ? [''] : []), ...block(v, childIndent)];
    });
  };
  return `${block(t, 0).join('\n')}\n`;
}

const FLEET = Array.from({ length: 50 }, (_, i) => `  - {name: e${i}, group: fleet, host: fleet.contoso.test, address: 127.0.0.1, port: ${30000 + i}}`).join(
  '\n',
);

describe('the quick YAML reader', () => {
  test('reads the shipped example, a fleet of flow mappings and one of block mappings as the full parser does', () => {
    assert.ok(agrees(readFileSync('config/example.yaml', 'utf8')));
    assert.ok(agrees(`targets:\n${FLEET}\n`));
    assert.ok(agrees(`targets:\n${FLEET.replace(/\{(.*)\}/g, (_, body: string) => body.split(', ').join('\n    ')).replace(/- {3}/g, '- ')}\n`));
    assert.ok(
      agrees('scan:\n  schedule: "*/5 * * * *"\n  timeout: 10s\ntargets:\n- name: a   # first\n  group: g\n  host: a.test\n  labels:\n    site: dublin\n'),
    );
    assert.ok(agrees('# only a comment\n\n'));
  });

  test('leaves anchors, tags, block text, escapes, tabs, CR, documents, duplicates and syntax errors to the full parser', () => {
    for (const text of [
      'a: &x 1\nb: *x\n',
      'a: !!str 1\n',
      'a: |\n  text\n',
      'a: >\n  text\n',
      'a: "tab\\there"\n',
      'a:\n\tb: 1\n',
      'a: 1\r\nb: 2\r\n',
      '---\na: 1\n',
      'a: 1\na: 2\n',
      'targets: [a,\n  b]\n',
      'a: plain\n  continued\n',
      'a: b: c\n',
      'a: [1, 2,]\n',
      '? a\n: b\n',
      'a: 1.5\n',
      'a: 0x10\n',
      '- \n- a\n',
    ]) {
      assert.equal(readYamlSubset(text), undefined, JSON.stringify(text));
    }
  });

  test('generated configs in any mix of block and flow style read the same as with the full parser', () => {
    let read = 0;
    fc.assert(
      fc.property(tree, style, (t, s) => {
        if (agrees(render(t, s))) read++;
      }),
      RUNS,
    );
    // The generated texts are mostly within the subset: the comparison is not vacuous.
    assert.ok(read > RUNS.numRuns / 4, `only ${read} of ${RUNS.numRuns} generated configs were read by the quick reader`);
  });

  test('configs with a YAML token spliced in are refused or read the same as with the full parser', () => {
    const tokens = [
      '\n',
      ' ',
      '  ',
      '- ',
      ': ',
      ':',
      '[',
      ']',
      '{',
      '}',
      ',',
      '"',
      "'",
      '#',
      ' #',
      '&a ',
      '*a',
      '|',
      '>',
      '? ',
      '!',
      '---\n',
      '\t',
      '~',
      '1',
      '.',
    ];
    fc.assert(
      fc.property(tree, style, fc.nat(), fc.constantFrom(...tokens), (t, s, at, token) => {
        const text = render(t, s);
        const i = at % (text.length + 1);
        agrees(text.slice(0, i) + token + text.slice(i));
      }),
      RUNS,
    );
  });
});
