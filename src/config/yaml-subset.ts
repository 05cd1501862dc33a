// A quick reader for the YAML configs are written in: block mappings and lists, one-line flow
// mappings and lists, plain and simply quoted one-line scalars, comments. A 10,000-target fleet
// is read in a few tens of milliseconds, where the full parser (which keeps a concrete syntax
// tree) takes over a second. Anything else — anchors, tags, block or multi-line scalars,
// escapes, documents, tabs, duplicate keys, any syntax error — gives up, and the full parser
// reads the file instead, so every file reads (and every mistake is reported) as the full
// parser says; the tests check that both agree on every file this one accepts.
import type { ConfigNode, MapNode, MapPair, ScalarNode, SeqNode } from './tree.js';

/** Thrown (once, never caught outside) when the text is not in the subset. */
const UNUSUAL: unique symbol = Symbol('not in the YAML subset');

/** Deeper than any config; deeper files go to the full parser, which refuses them with a position. */
const MAX_DEPTH = 32;

/** Characters outside printable text (and the line separators some tools treat as breaks), CR, tabs, document markers, directives. */
const UNUSUAL_TEXT = /[^\n\x20-\x7e\u00a1-\u2027\u202a-\ufefe\uff00-\ufffd]|^(?:---|\.\.\.|%)/m;

/** Characters that cannot start a plain scalar here (indicators, quotes and anything with special meaning). */
const NOT_PLAIN_START = new Set([...'-?:,[]{}#&*!|>\'"%@`']);
const LF = 0x0a;
const SPACE = 0x20;
const COLON = 0x3a;
const HASH = 0x23;
const BLOCK_PLAIN_RUN = /[^\n:#]*/y;
const FLOW_PLAIN_RUN = /[^\n:#,[\]{}]*/y;
const isFlowEnd = (c: number): boolean => c === 0x2c || c === 0x5b || c === 0x5d || c === 0x7b || c === 0x7d; // , [ ] { }

// YAML 1.2 core schema words and numbers. Only decimal integers are read here: any other number
// form goes to the full parser.
const NULL_WORD = /^(?:~|[Nn]ull|NULL)$/;
const TRUE_WORD = /^(?:[Tt]rue|TRUE)$/;
const FALSE_WORD = /^(?:[Ff]alse|FALSE)$/;
const DECIMAL = /^[0-9]{1,15}$/;
const OTHER_NUMBER = /^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;

/** Plain text that could be a word or a number starts with one of these: the rest is text. */
const MAYBE_NOT_TEXT = /^[-+.0-9~nNtTfF]/;

function plainValue(text: string): unknown {
  if (!MAYBE_NOT_TEXT.test(text)) return text;
  if (DECIMAL.test(text)) return Number(text);
  if (OTHER_NUMBER.test(text)) throw UNUSUAL;
  if (NULL_WORD.test(text)) return null;
  if (TRUE_WORD.test(text)) return true;
  if (FALSE_WORD.test(text)) return false;
  return text;
}

/** Mappings this large are not a config's (a sequential duplicate check would get slow). */
const MAX_KEYS = 256;

/** A key must be text and new to its mapping; duplicates are for the full parser to report. */
function checkNewKey(items: MapPair[], key: ConfigNode): void {
  if (key.kind !== 'scalar' || typeof key.value !== 'string' || items.length >= MAX_KEYS) throw UNUSUAL;
  for (const pair of items) if ((pair.key as ScalarNode).value === key.value) throw UNUSUAL;
}

const isBlank = (c: string | undefined): boolean => c === ' ' || c === '\n' || c === undefined;

class SubsetReader {
  /** Offset of the start of the line being read. */
  private line = 0;

  constructor(private readonly text: string) {}

  read(): ConfigNode | null {
    const first = this.nextLine();
    if (first === null) return null;
    const root = this.node(first.at, first.indent, 0);
    if (this.nextLine() !== null) throw UNUSUAL;
    return root;
  }

  /** The next line with content (blank and comment-only lines skipped): its indentation and first character. */
  private nextLine(): { indent: number; at: number } | null {
    const t = this.text;
    while (this.line < t.length) {
      let at = this.line;
      while (t[at] === ' ') at++;
      if (at < t.length && t[at] !== '\n' && t[at] !== '#') return { indent: at - this.line, at };
      const end = t.indexOf('\n', at);
      this.line = end === -1 ? t.length : end + 1;
    }
    return null;
  }

  /** After a value: spaces, perhaps a comment, then the end of the line; moves to the next line. */
  private endLine(at: number): void {
    const t = this.text;
    let i = at;
    while (t[i] === ' ') i++;
    if (t[i] === '#' && i > at) i = t.indexOf('\n', i) === -1 ? t.length : t.indexOf('\n', i);
    if (i < t.length && t[i] !== '\n') throw UNUSUAL;
    this.line = i + 1;
  }

  /** A block node whose first character is at `at`, indented `indent` columns; reads up to the end of its last line. */
  private node(at: number, indent: number, depth: number): ConfigNode {
    if (depth > MAX_DEPTH) throw UNUSUAL;
    const t = this.text;
    const c = t[at];
    if (c === '-' && isBlank(t[at + 1])) return this.seq(at, indent, depth);
    if (c === '{' || c === '[') {
      const node = this.flow(at, depth);
      this.endLine(node.end);
      return node;
    }
    const scalar = this.scalar(at, false);
    if (this.colonAfter(scalar) !== -1) return this.map(scalar, indent, depth);
    this.endLine(scalar.end);
    return scalar;
  }

  private seq(at: number, indent: number, depth: number): SeqNode {
    const t = this.text;
    const items: ConfigNode[] = [];
    let dash = at;
    for (;;) {
      let i = dash + 1;
      while (t[i] === ' ') i++;
      let item: ConfigNode;
      if (i >= t.length || t[i] === '\n' || t[i] === '#') {
        this.endLine(dash + 1);
        const next = this.nextLine();
        if (next === null || next.indent <= indent) throw UNUSUAL; // an empty entry
        item = this.node(next.at, next.indent, depth + 1);
      } else {
        item = this.node(i, i - this.line, depth + 1);
      }
      items.push(item);
      const next = this.nextLine();
      if (next === null || next.indent < indent) break;
      if (next.indent > indent) throw UNUSUAL;
      if (!(t[next.at] === '-' && isBlank(t[next.at + 1]))) break; // the parent mapping's next key
      dash = next.at;
    }
    return { kind: 'seq', items, start: at, end: items.at(-1)!.end };
  }

  /** Where the `:` of a mapping key is, when `key` is followed by one; -1 when it is not a key. */
  private colonAfter(key: ScalarNode): number {
    const t = this.text;
    let i = key.end;
    while (t[i] === ' ') i++;
    return t[i] === ':' && isBlank(t[i + 1]) ? i : -1;
  }

  /** A block mapping whose first key has been read. */
  private map(firstKey: ScalarNode, indent: number, depth: number): MapNode {
    const t = this.text;
    const items: MapPair[] = [];
    let key = firstKey;
    for (;;) {
      checkNewKey(items, key);
      const colon = this.colonAfter(key);
      let i = colon + 1;
      while (t[i] === ' ') i++;
      let value: ConfigNode;
      if (i >= t.length || t[i] === '\n' || t[i] === '#') {
        this.endLine(colon + 1);
        const next = this.nextLine();
        if (next !== null && next.indent > indent) {
          value = this.node(next.at, next.indent, depth + 1);
        } else if (next !== null && next.indent === indent && t[next.at] === '-' && isBlank(t[next.at + 1])) {
          value = this.seq(next.at, indent, depth + 1);
        } else {
          value = { kind: 'scalar', value: null, start: i, end: i };
        }
      } else if (t[i] === '{' || t[i] === '[') {
        value = this.flow(i, depth + 1);
        this.endLine(value.end);
      } else {
        value = this.scalar(i, false);
        this.endLine(value.end);
      }
      items.push({ key, value });
      const next = this.nextLine();
      if (next === null || next.indent < indent) return { kind: 'map', items, start: firstKey.start, end: value.end };
      // Deeper lines, or a list item where the next key belongs, are not this subset.
      if (next.indent > indent || (t[next.at] === '-' && isBlank(t[next.at + 1]))) throw UNUSUAL;
      key = this.scalar(next.at, false);
      if (this.colonAfter(key) === -1) throw UNUSUAL;
    }
  }

  /** A one-line flow mapping or list starting at `at` (`{` or `[`). */
  private flow(at: number, depth: number): MapNode | SeqNode {
    if (depth > MAX_DEPTH) throw UNUSUAL;
    const t = this.text;
    const isMapping = t[at] === '{';
    const close = isMapping ? '}' : ']';
    const pairs: MapPair[] = [];
    const items: ConfigNode[] = [];
    let i = at + 1;
    while (t[i] === ' ') i++;
    if (t[i] === close) {
      const end = i + 1;
      return isMapping ? { kind: 'map', items: pairs, start: at, end } : { kind: 'seq', items, start: at, end };
    }
    for (;;) {
      let entry = this.flowValue(i, depth);
      let j = entry.end;
      while (t[j] === ' ') j++;
      if (isMapping) {
        checkNewKey(pairs, entry);
        if (t[j] !== ':' || t[j + 1] !== ' ') throw UNUSUAL;
        j += 2;
        while (t[j] === ' ') j++;
        const value = this.flowValue(j, depth);
        pairs.push({ key: entry, value });
        entry = value;
        j = value.end;
        while (t[j] === ' ') j++;
      } else {
        if (t[j] === ':') throw UNUSUAL;
        items.push(entry);
      }
      if (t[j] === close) {
        const end = j + 1;
        return isMapping ? { kind: 'map', items: pairs, start: at, end } : { kind: 'seq', items, start: at, end };
      }
      if (t[j] !== ',') throw UNUSUAL;
      i = j + 1;
      while (t[i] === ' ') i++;
      if (t[i] === close) throw UNUSUAL; // a trailing comma
    }
  }

  private flowValue(at: number, depth: number): ConfigNode {
    const c = this.text[at];
    return c === '{' || c === '[' ? this.flow(at, depth + 1) : this.scalar(at, true);
  }

  /** A one-line scalar: plain, 'single-quoted' or "double-quoted" without escapes. */
  private scalar(at: number, inFlow: boolean): ScalarNode {
    const t = this.text;
    const c = t[at];
    if (c === "'" || c === '"') {
      let i = at + 1;
      let value = '';
      for (;;) {
        const q = t.indexOf(c, i);
        const nl = t.indexOf('\n', i);
        if (q === -1 || (nl !== -1 && nl < q)) throw UNUSUAL;
        value += t.slice(i, q);
        if (c === "'" && t[q + 1] === "'") {
          value += "'";
          i = q + 2;
          continue;
        }
        if (c === '"' && value.includes('\\')) throw UNUSUAL;
        return { kind: 'scalar', value, start: at, end: q + 1 };
      }
    }
    if (c === undefined || c === ' ' || c === '\n' || NOT_PLAIN_START.has(c)) throw UNUSUAL;
    // Runs of ordinary characters are skipped by a regular expression (fast even before the JIT
    // warms up); each stop is a line break, or a ':', '#' or flow indicator that may end the text.
    const run = inFlow ? FLOW_PLAIN_RUN : BLOCK_PLAIN_RUN;
    const n = t.length;
    let i = at;
    for (;;) {
      run.lastIndex = i;
      run.test(t);
      i = run.lastIndex;
      if (i >= n) break;
      const d = t.charCodeAt(i);
      if (d === LF) break;
      if (d === COLON) {
        const e = i + 1 < n ? t.charCodeAt(i + 1) : LF;
        if (e === SPACE || e === LF || (inFlow && isFlowEnd(e))) break;
      } else if (d === HASH) {
        if (t.charCodeAt(i - 1) === SPACE) break;
      } else break; // a flow indicator
      i++;
    }
    if (inFlow && (i >= n || t.charCodeAt(i) === LF)) throw UNUSUAL; // a flow collection over several lines
    let end = i;
    while (t.charCodeAt(end - 1) === SPACE) end--;
    return { kind: 'scalar', value: plainValue(t.slice(at, end)), start: at, end };
  }
}

/**
 * The config tree of `text` when it is written in the subset this reader knows, or undefined
 * when the full parser must read it. `root` is null for a file with nothing but comments.
 */
export function readYamlSubset(text: string): { root: ConfigNode | null } | undefined {
  if (UNUSUAL_TEXT.test(text)) return undefined;
  try {
    return { root: new SubsetReader(text).read() };
  } catch (err) {
    if (err === UNUSUAL) return undefined;
    throw err;
  }
}
