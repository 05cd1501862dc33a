// YAML syntax errors that point where the mistake is. The parser notices an unclosed `[` or
// quote only where the file stops making sense (often the end of the file), and names neither
// the key of a duplicate nor the line a tab spoils. A small scanner of YAML's brackets, quotes,
// comments and indentation finds where such a construct began, and how deep the file nests
// before the parser (which recurses) is given it.
import { type Document, isMap, isScalar, isSeq, type Node, type YAMLError } from 'yaml';
import { LineIndex } from './tree.js';

/** Deeper than any chainwatch config needs (it nests 5 levels), far below the parser's stack. */
export const MAX_NESTING = 64;

interface Opener {
  offset: number;
  char: string;
}

interface Scan {
  /** Brackets and quotes still open where the scan stopped. */
  open: Opener[];
  /** Where the nesting first went past MAX_NESTING, if it did. */
  tooDeep: { offset: number } | null;
}

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t';
const isBreak = (c: string | undefined): boolean => c === '\n' || c === '\r';

/**
 * Scans `text` up to `end`. Enough of YAML to track flow brackets, quoted scalars, comments,
 * block scalars and block indentation; plain scalars are skipped as text.
 */
function scan(text: string, end = text.length, stopWhenDeep = false): Scan {
  const open: Opener[] = [];
  const indents: number[] = [];
  let tooDeep: Scan['tooDeep'] = null;
  let valueStart = true;
  let dashes = 0;
  let i = 0;
  let lineHandled = -1;
  let flow = 0;
  const flowDepth = (): number => flow;
  const deepen = (at: number): void => {
    if (!tooDeep && indents.length + dashes + flowDepth() > MAX_NESTING) tooDeep = { offset: at };
  };

  while (i < end && !(stopWhenDeep && tooDeep)) {
    const lineStart = (i === 0 || isBreak(text[i - 1])) && i !== lineHandled;
    if (lineStart && flowDepth() === 0) {
      lineHandled = i;
      let j = i;
      while (j < end && text[j] === ' ') j++;
      const c = text[j];
      if (j < end && !isBreak(c) && c !== '#' && c !== '\t') {
        const indent = j - i;
        while (indents.length > 0 && indents.at(-1)! > indent) indents.pop();
        if (indents.length === 0 || indents.at(-1)! < indent) indents.push(indent);
        dashes = 0;
        deepen(j);
      }
      valueStart = true;
      if (j > i) lineHandled = j;
      i = j;
      continue;
    }
    const c = text[i]!;
    if (isBreak(c) || isSpace(c)) {
      i++;
      continue;
    }
    if (c === '#' && (i === 0 || isSpace(text[i - 1]) || isBreak(text[i - 1]))) {
      while (i < end && !isBreak(text[i])) i++;
      continue;
    }
    const inFlow = flowDepth() > 0;
    if (valueStart && (c === '"' || c === "'")) {
      const start = i++;
      let closed = false;
      while (i < end) {
        if (c === '"' && text[i] === '\\') i += 2;
        else if (text[i] === c && c === "'" && text[i + 1] === "'") i += 2;
        else if (text[i] === c) {
          closed = true;
          i++;
          break;
        } else i++;
      }
      if (!closed) {
        open.push({ offset: start, char: c });
        break;
      }
      valueStart = false;
      continue;
    }
    if ((c === '[' || c === '{') && (valueStart || inFlow)) {
      open.push({ offset: i, char: c });
      flow++;
      deepen(i);
      valueStart = true;
      i++;
      continue;
    }
    if (inFlow && (c === ']' || c === '}')) {
      const top = open.at(-1);
      if (top && (top.char === '[' ? ']' : '}') === c) {
        open.pop();
        flow--;
      }
      valueStart = false;
      i++;
      continue;
    }
    if (inFlow && c === ',') {
      valueStart = true;
      i++;
      continue;
    }
    if (!inFlow && valueStart && (c === '-' || c === '?') && (isSpace(text[i + 1]) || isBreak(text[i + 1]) || i + 1 >= end)) {
      dashes++;
      deepen(i);
      i++;
      continue;
    }
    if (!inFlow && valueStart && (c === '|' || c === '>')) {
      // A block scalar: the more-indented lines after it are text, brackets and all.
      let lineBegin = i;
      while (lineBegin > 0 && !isBreak(text[lineBegin - 1])) lineBegin--;
      let own = 0;
      while (text[lineBegin + own] === ' ') own++;
      while (i < end && !isBreak(text[i])) i++;
      while (i < end) {
        let j = i;
        while (j < end && isBreak(text[j])) j++;
        let k = j;
        while (k < end && text[k] === ' ') k++;
        if (k < end && !isBreak(text[k]) && k - j <= own) break;
        i = k;
        while (i < end && !isBreak(text[i])) i++;
      }
      valueStart = false;
      continue;
    }
    if (valueStart && (c === '&' || c === '!' || c === '*')) {
      while (i < end && !isSpace(text[i]) && !isBreak(text[i]) && !(inFlow && ',[]{}'.includes(text[i]!))) i++;
      if (c === '*') valueStart = false;
      continue;
    }
    if (c === ':' && (isSpace(text[i + 1]) || isBreak(text[i + 1]) || i + 1 >= end || inFlow)) {
      valueStart = true;
      i++;
      continue;
    }
    // Plain text up to the next thing that could end it.
    while (i < end) {
      const d = text[i]!;
      if (isBreak(d)) break;
      if (d === ':' && (isSpace(text[i + 1]) || isBreak(text[i + 1]) || i + 1 >= end || (inFlow && ',[]{}'.includes(text[i + 1] ?? '')))) break;
      if (d === '#' && isSpace(text[i - 1])) break;
      if (inFlow && ',[]{}'.includes(d)) break;
      i++;
    }
    valueStart = false;
  }
  return { open, tooDeep };
}

/** Where the file nests deeper than MAX_NESTING, or null. */
export function tooDeep(text: string): number | null {
  return scan(text, text.length, true).tooDeep?.offset ?? null;
}

/** One YAML syntax problem, positioned and worded for the operator. */
export interface SyntaxIssue {
  offset: number;
  key: string;
  message: string;
}

const OPENER_NAMES: Record<string, string> = {
  '[': "the list '[' opened here",
  '{': "the mapping '{' opened here",
  '"': 'the quote opened here',
  "'": 'the quote opened here',
};

/** The key path and name of the mapping key that starts at `offset`, and where its first copy is. */
function findKey(doc: Document, offset: number): { path: string; name: string; first: number | null } | null {
  const walk = (node: unknown, path: string, depth: number): ReturnType<typeof findKey> => {
    if (depth > MAX_NESTING) return null;
    if (isMap(node)) {
      for (const pair of node.items) {
        const k = pair.key as Node | null;
        const name = isScalar(k) ? String(k.value) : '';
        const here = path === '' ? name : `${path}.${name}`;
        if (k?.range?.[0] === offset) {
          const first = node.items.find((p) => isScalar(p.key) && String(p.key.value) === name && p.key !== k);
          return { path: here, name, first: (first?.key as Node | undefined)?.range?.[0] ?? null };
        }
        const inner = walk(pair.value, here, depth + 1);
        if (inner) return inner;
      }
    } else if (isSeq(node)) {
      for (const [i, item] of node.items.entries()) {
        const inner = walk(item, `${path}[${i}]`, depth + 1);
        if (inner) return inner;
      }
    }
    return null;
  };
  return walk(doc.contents, '', 0);
}

/** The parser's errors, moved to where the mistake began and naming the key at fault. */
export function describeSyntaxErrors(text: string, doc: Document): SyntaxIssue[] {
  const lines = new LineIndex(text);
  const out: SyntaxIssue[] = [];
  const seen = new Set<string>();
  const add = (issue: SyntaxIssue): void => {
    const id = `${issue.offset}\n${issue.message}`;
    if (!seen.has(id)) out.push(issue);
    seen.add(id);
  };
  const where = (offset: number): string => {
    const { line, column } = lines.position(offset);
    return `line ${line}, column ${column}`;
  };
  for (const e of doc.errors as YAMLError[]) {
    const at = e.pos[0];
    if (e.code === 'DUPLICATE_KEY') {
      const key = findKey(doc, at);
      if (key) {
        const first = key.first === null ? '' : ` — first at ${where(key.first)}`;
        add({ offset: at, key: key.path, message: `duplicate key '${key.name}'${first}; a key may appear once in a mapping` });
        continue;
      }
    }
    if (e.code === 'TAB_AS_INDENT') {
      const lineText = text.slice(at).split(/\r?\n/, 1)[0] ?? '';
      const name = /^[\t ]*(?:-[\t ]+)?([^\s:#][^:#]*?)[\t ]*:(?:\s|$)/.exec(lineText)?.[1];
      const what = name ? `'${name}'` : 'this line';
      add({ offset: at, key: '', message: `YAML syntax: a tab indents ${what}; YAML indentation must be spaces — replace the tab with spaces` });
      continue;
    }
    const opener = scan(text, Math.min(Math.max(at, 0), text.length)).open.at(-1);
    if (opener && opener.offset < at) {
      add({
        offset: opener.offset,
        key: '',
        message: `YAML syntax: ${OPENER_NAMES[opener.char]} is not closed (the parser noticed at ${where(at)}: ${e.message})`,
      });
      continue;
    }
    add({ offset: at, key: '', message: `YAML syntax: ${e.message}` });
  }
  return out;
}
