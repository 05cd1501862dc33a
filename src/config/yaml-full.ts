// The full YAML parser (the `yaml` package), for the files the quick reader leaves to it:
// anchors, tags, multi-line text, and every file with a syntax error, which it reports where the
// mistake began. Loaded only when such a file comes along.
import { type Document, isAlias, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import { describeSyntaxErrors, MAX_NESTING, type SyntaxIssue, tooDeep } from './syntax.js';
import type { ConfigNode } from './tree.js';

/** The parser's nodes as config nodes; aliases become the node they name (shared, never copied). */
function toTree(doc: Document): ConfigNode | null {
  const seen = new Map<unknown, ConfigNode | null>();
  const convert = (node: unknown, hops = 0): ConfigNode | null => {
    if (isAlias(node)) return hops < 8 ? convert(node.resolve(doc), hops + 1) : null;
    if (node === null || node === undefined) return null;
    const known = seen.get(node);
    if (known !== undefined) return known;
    const range = (node as { range?: [number, number] }).range;
    const start = range?.[0] ?? 0;
    const end = range?.[1] ?? start;
    if (isMap(node)) {
      const out: ConfigNode = { kind: 'map', items: [], start, end };
      seen.set(node, out);
      for (const pair of node.items) out.items.push({ key: convert(pair.key), value: convert(pair.value) });
      return out;
    }
    if (isSeq(node)) {
      const out: ConfigNode = { kind: 'seq', items: [], start, end };
      seen.set(node, out);
      for (const item of node.items) out.items.push(convert(item));
      return out;
    }
    const out: ConfigNode = { kind: 'scalar', value: isScalar(node) ? node.value : undefined, start, end };
    seen.set(node, out);
    return out;
  };
  return convert(doc.contents);
}

/** The config tree of `text`, or its syntax problems (positioned at offsets). */
export function readYamlFull(text: string): { root: ConfigNode | null } | { problems: SyntaxIssue[] } {
  // The parser recurses: a file nested a thousand levels deep must not reach it.
  const deep = tooDeep(text);
  if (deep !== null)
    return { problems: [{ offset: deep, key: '', message: `nests more than ${MAX_NESTING} levels deep here; a chainwatch config needs 5 at most` }] };
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) return { problems: describeSyntaxErrors(text, doc) };
  return { root: toTree(doc) };
}
