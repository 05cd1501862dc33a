// Walking the YAML tree with positions. Every reader reports what is wrong at the node at fault
// and returns undefined, so validation carries on and the operator sees every mistake at once.
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import { childKeys, OPTIONS } from './defaults.js';
import { parseDuration } from './duration.js';
import type { ConfigIssue } from './errors.js';
import { nearestKey } from './suggest.js';

/** A file the config names, read after the tree has been walked. */
export interface PendingRead {
  path: string;
  at: Node;
  key: string;
  /** Checks the contents; returns a problem in words, or null when they are usable. */
  check(text: string): string | null;
  use(text: string): void;
}

export class Ctx {
  readonly issues: ConfigIssue[] = [];
  readonly reads: PendingRead[] = [];
  /** Checks that need the files read first (e.g. does this key match this certificate). */
  readonly afterReads: (() => void)[] = [];

  constructor(
    readonly file: string,
    readonly dir: string,
    readonly doc: Document,
    readonly lines: LineCounter,
  ) {}

  report(at: Node | number, key: string, message: string): void {
    const offset = typeof at === 'number' ? at : (at.range?.[0] ?? 0);
    const { line, col } = this.lines.linePos(offset);
    this.issues.push({ file: this.file, line, column: col, key, message });
  }

  /** Follows an alias to its anchor; anything else is returned as is. */
  deref(node: unknown): Node | null {
    let current = node;
    for (let hops = 0; isAlias(current) && hops < 8; hops++) current = current.resolve(this.doc) ?? null;
    if (current === null || current === undefined || isAlias(current)) return null;
    return current as Node;
  }
}

/** One key of a mapping as written: its value (null when empty) and where to point at. */
export interface Field {
  key: string;
  node: Node | null;
  at: Node;
}

export function joinKey(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

/** Where else in the schema a key lives, for keys put in the wrong section. */
function homeOf(key: string): string | null {
  const home = OPTIONS.find((o) => o.key.split('.').at(-1)?.replace(/\[\]$/, '') === key);
  return home ? home.key : null;
}

export function describe(node: Node | null): string {
  if (node === null) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return 'nothing';
    if (typeof v === 'number') return `a number (${v})`;
    if (typeof v === 'boolean') return `${v}`;
    if (typeof v === 'string') return `the text '${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`;
  }
  return 'a value of another type';
}

function isNull(node: Node | null): boolean {
  return node === null || (isScalar(node) && node.value === null);
}

/**
 * The keys of a mapping, each checked against the options table entry `schema`
 * ('' for the top level, 'scan', 'targets[]', ...). Returns null when the node is not a mapping.
 */
export function readMap(ctx: Ctx, node: Node, path: string, schema: string, what = 'a mapping'): Map<string, Field> | null {
  if (!isMap(node)) {
    ctx.report(node, path, `expected ${what}, got ${describe(node)}`);
    return null;
  }
  const known = childKeys(schema);
  const fields = new Map<string, Field>();
  for (const pair of node.items) {
    const keyNode = ctx.deref(pair.key);
    const rawKey = keyNode && isScalar(keyNode) ? keyNode.value : undefined;
    if (!keyNode || typeof rawKey !== 'string') {
      ctx.report(keyNode ?? node, path, `keys must be plain names, got ${describe(keyNode)}`);
      continue;
    }
    const key = joinKey(path, rawKey);
    if (!known.includes(rawKey)) {
      const near = nearestKey(rawKey, known);
      const home = near ? null : homeOf(rawKey);
      const hint = near
        ? ` — did you mean '${near}'?`
        : home
          ? ` — '${rawKey}' belongs under ${home.replace(/\.[^.]+$/, '')} (${home})`
          : ` — known keys here: ${known.join(', ')}`;
      ctx.report(keyNode, key, `unknown key '${rawKey}'${hint}`);
      continue;
    }
    if (fields.has(rawKey)) continue; // the YAML parser already reported the duplicate
    const value = ctx.deref(pair.value);
    const hasText = value?.range && value.range[1] > value.range[0];
    fields.set(rawKey, { key, node: isNull(value) ? null : value, at: hasText ? value! : keyNode });
  }
  return fields;
}

/** A key a mapping must have; reports it missing at the mapping. */
export function required(ctx: Ctx, fields: Map<string, Field>, name: string, mapNode: Node, path: string): Field | undefined {
  const field = fields.get(name);
  if (!field || field.node === null) {
    ctx.report(field?.at ?? mapNode, joinKey(path, name), `missing required key '${name}'`);
    return undefined;
  }
  return field;
}

function scalarValue(field: Field): unknown {
  return field.node && isScalar(field.node) ? field.node.value : undefined;
}

export function readString(ctx: Ctx, field: Field | undefined, what = 'a string'): string | undefined {
  if (!field || field.node === null) return undefined;
  const v = scalarValue(field);
  if (typeof v !== 'string') {
    ctx.report(field.at, field.key, `expected ${what}, got ${describe(field.node)}`);
    return undefined;
  }
  if (v.trim() === '') {
    ctx.report(field.at, field.key, `must not be empty`);
    return undefined;
  }
  return v.trim();
}

export function readInteger(ctx: Ctx, field: Field | undefined, min: number, max: number, what = 'an integer'): number | undefined {
  if (!field || field.node === null) return undefined;
  const v = scalarValue(field);
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    ctx.report(field.at, field.key, `expected ${what}, got ${describe(field.node)}`);
    return undefined;
  }
  if (v < min || v > max) {
    ctx.report(field.at, field.key, max === Infinity ? `${v} is too small: must be at least ${min}` : `${v} is outside ${min}–${max}`);
    return undefined;
  }
  return v;
}

export function readBoolean(ctx: Ctx, field: Field | undefined): boolean | undefined {
  if (!field || field.node === null) return undefined;
  const v = scalarValue(field);
  if (typeof v !== 'boolean') {
    ctx.report(field.at, field.key, `expected true or false, got ${describe(field.node)}`);
    return undefined;
  }
  return v;
}

export interface DurationBounds {
  /** Smallest allowed value in ms; zero allowed unless positive is set. */
  positive?: boolean;
  maxMs?: number;
  maxText?: string;
}

export function readDuration(ctx: Ctx, field: Field | undefined, bounds: DurationBounds = {}): number | undefined {
  if (!field || field.node === null) return undefined;
  const v = scalarValue(field);
  if (typeof v === 'number') {
    ctx.report(field.at, field.key, `${v} has no unit — write a duration such as '${v}s' (units: ms, s, m, h, d)`);
    return undefined;
  }
  const ms = typeof v === 'string' ? parseDuration(v) : null;
  if (ms === null) {
    ctx.report(field.at, field.key, `expected a duration such as 10s, 1.5m or 30d (units: ms, s, m, h, d), got ${describe(field.node)}`);
    return undefined;
  }
  if (bounds.positive && ms <= 0) {
    ctx.report(field.at, field.key, `must be greater than zero`);
    return undefined;
  }
  if (bounds.maxMs !== undefined && ms > bounds.maxMs) {
    ctx.report(field.at, field.key, `'${String(v)}' is too long: at most ${bounds.maxText ?? `${bounds.maxMs}ms`}`);
    return undefined;
  }
  return ms;
}

/** The items of a list, each as a field named `key[i]`. A single value where a list belongs is refused. */
export function readList(ctx: Ctx, field: Field | undefined, what = 'a list'): Field[] | undefined {
  if (!field || field.node === null) return undefined;
  if (!isSeq(field.node)) {
    ctx.report(field.at, field.key, `expected ${what}, got ${describe(field.node)}`);
    return undefined;
  }
  return field.node.items.map((item, i) => {
    const node = ctx.deref(item);
    const key = `${field.key}[${i}]`;
    return { key, node: isNull(node) ? null : node, at: node ?? field.at };
  });
}

/** Strings of a list; items of the wrong type are reported and left out. */
export function readStringList(ctx: Ctx, field: Field | undefined, what = 'a list of strings'): { value: string; field: Field }[] | undefined {
  const items = readList(ctx, field, what);
  if (!items) return undefined;
  const out: { value: string; field: Field }[] = [];
  for (const item of items) {
    if (item.node === null) {
      ctx.report(item.at, item.key, 'empty list entry');
      continue;
    }
    const value = readString(ctx, item);
    if (value !== undefined) out.push({ value, field: item });
  }
  return out;
}

/** A name as shown inside a key path: one line, and short enough to read. */
export function displayName(name: string): string {
  const oneLine = name.trim().replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return oneLine.length > 40 ? `${oneLine.slice(0, 40)}…` : oneLine;
}

/** The raw text of a key of a mapping, without reporting anything (to name list items early). */
export function peekString(ctx: Ctx, node: Node | null, key: string): string | undefined {
  if (!node || !isMap(node)) return undefined;
  for (const pair of node.items) {
    const k = ctx.deref(pair.key);
    if (k && isScalar(k) && k.value === key) {
      const v = ctx.deref(pair.value);
      return v && isScalar(v) && typeof v.value === 'string' ? v.value : undefined;
    }
  }
  return undefined;
}

/** Where a name was first used, for "duplicate name" messages. */
export interface FirstUse {
  line: number;
  column: number;
}

/**
 * A named list entry being read (a target, a policy): its fields, a key path that names it, and
 * whether anything in it was wrong. `bad` reports at a field and marks the entry unusable.
 */
export class NamedEntry {
  ok = true;

  constructor(
    private readonly ctx: Ctx,
    readonly node: Node,
    readonly path: string,
    readonly fields: Map<string, Field>,
    readonly name: string | undefined,
  ) {}

  bad(field: Field, message: string): void {
    this.ctx.report(field.at, field.key, message);
    this.ok = false;
  }
}

/**
 * The opening every named list entry shares: not empty, a mapping, and a name that is unique
 * within the list (`seen` remembers where each name was first used).
 */
export function openNamedEntry(
  ctx: Ctx,
  item: Field,
  index: number,
  list: { key: 'targets' | 'policies'; noun: string; expected: string },
  seen: Map<string, FirstUse>,
): NamedEntry | null {
  if (item.node === null) {
    ctx.report(item.at, item.key, `empty list entry: expected a ${list.noun} with ${list.expected}`);
    return null;
  }
  const node = item.node;
  const peeked = peekString(ctx, node, 'name');
  const path = peeked ? `${list.key}[${index}] (${displayName(peeked)})` : `${list.key}[${index}]`;
  const fields = readMap(ctx, node, path, `${list.key}[]`, `a ${list.noun} (a mapping with ${list.expected})`);
  if (!fields) return null;
  const nameField = required(ctx, fields, 'name', node, path);
  const name = readString(ctx, nameField);
  const entry = new NamedEntry(ctx, node, path, fields, name);
  if (name === undefined) {
    entry.ok = false;
    return entry;
  }
  const first = seen.get(name);
  if (first) {
    entry.bad(nameField!, `duplicate ${list.noun} name '${name}' — first used at line ${first.line}, column ${first.column}; names must be unique`);
  } else {
    const { line, col } = ctx.lines.linePos(nameField!.at.range?.[0] ?? 0);
    seen.set(name, { line, column: col });
  }
  return entry;
}
