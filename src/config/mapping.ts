// Reading a YAML mapping against its entry in the options table: unknown keys (with a
// did-you-mean), missing required keys, and every option's value read by its declared type,
// or its default when it is not written.
import { type AnyOption, homeOf, type Mapping, type Values } from './options.js';
import { type Ctx, describe, type Field, isNull, joinKey } from './reader.js';
import { nearestKey } from './suggest.js';
import { type ConfigNode, isMap, isScalar, nodeOf } from './tree.js';

/** A mapping as written: where it is, its key path and its fields. */
export interface MapRead {
  /** The mapping node, or null when the mapping was left out or empty (all defaults). */
  node: ConfigNode | null;
  path: string;
  fields: Map<string, Field>;
}

/** The keys of a mapping, each checked against `known`. Returns null when the node is not a mapping. */
export function readMap(ctx: Ctx, node: ConfigNode, path: string, known: readonly string[], what = 'a mapping'): Map<string, Field> | null {
  if (!isMap(node)) {
    ctx.report(node, path, `expected ${what}, got ${describe(node)}`);
    return null;
  }
  const fields = new Map<string, Field>();
  for (const pair of node.items) {
    const keyNode = pair.key;
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
    const value = pair.value;
    const hasText = value !== null && value.end > value.start;
    fields.set(rawKey, { key, node: isNull(value) ? null : value, at: hasText ? value! : keyNode });
  }
  return fields;
}

/** The keys and option entries of each table mapping, listed once (a fleet reads TARGET thousands of times). */
const layouts = new WeakMap<Mapping, { keys: string[]; options: [string, AnyOption][] }>();

function layoutOf(spec: Mapping): { keys: string[]; options: [string, AnyOption][] } {
  let layout = layouts.get(spec);
  if (!layout) {
    const options = Object.entries(spec.children).flatMap(([name, child]) => (child.kind === 'option' ? [[name, child] as [string, AnyOption]] : []));
    layout = { keys: Object.keys(spec.children), options };
    layouts.set(spec, layout);
  }
  return layout;
}

/** A mapping field read against its table entry; null when it is not a mapping (reported). */
export function readMapping(ctx: Ctx, node: ConfigNode, path: string, spec: Mapping, what = 'a mapping'): MapRead | null {
  const fields = readMap(ctx, node, path, layoutOf(spec).keys, what);
  return fields ? { node, path, fields } : null;
}

/** A section that may be left out: absent or empty gives no fields (all defaults). */
export function readSection(ctx: Ctx, field: Field | undefined, spec: Mapping): MapRead {
  if (!field || field.node === null) return { node: null, path: field?.key ?? '', fields: new Map() };
  return readMapping(ctx, field.node, field.key, spec) ?? { node: field.node, path: field.key, fields: new Map() };
}

/** A default from the table, read by the same parser as a value the operator wrote. */
function readDefault(ctx: Ctx, key: string, spec: AnyOption): unknown {
  let value = ctx.defaults.get(spec);
  if (value === undefined) {
    const node = nodeOf(spec.default);
    const before = ctx.issues.length;
    value = spec.type.read(ctx, { key, node, at: node });
    if (value === undefined || ctx.issues.length > before) throw new Error(`the default of ${key} in the options table does not parse`);
    ctx.defaults.set(spec, value);
  }
  // Defaults are shared between list entries: hand out copies of lists and objects.
  return typeof value === 'object' && value !== null ? structuredClone(value) : value;
}

/**
 * Every option of a mapping: read by its type, or its default (null when optional) when not
 * written. A missing required option is reported at the mapping. `ok` is false when anything
 * was reported; wrong values then read as their default, so later checks still run.
 */
export function readValues<M extends Mapping>(ctx: Ctx, map: MapRead, spec: M): { values: Values<M['children']>; ok: boolean } {
  const values: Record<string, unknown> = {};
  let ok = true;
  // Key paths are built only for a message or a default's first read: a fleet has thousands of entries.
  const fallback = (name: string, child: AnyOption): unknown =>
    child.presence === 'default' ? readDefault(ctx, joinKey(map.path, name), child) : child.presence === 'optional' ? null : undefined;
  for (const [name, child] of layoutOf(spec).options) {
    const field = map.fields.get(name);
    let value: unknown;
    if (!field || field.node === null) {
      if (child.presence === 'required') {
        ctx.report(field?.at ?? map.node ?? 0, joinKey(map.path, name), `missing required key '${name}'`);
        ok = false;
      }
      value = fallback(name, child);
    } else {
      const before = ctx.issues.length;
      value = child.type.read(ctx, field);
      if (value === undefined || ctx.issues.length > before) {
        ok = false;
        value = fallback(name, child);
      }
    }
    values[child.field ?? name] = value;
  }
  return { values: values as Values<M['children']>, ok };
}

/** Reads a section in one go: its options' values (defaults where not written). */
export function sectionValues<M extends Mapping>(ctx: Ctx, field: Field | undefined, spec: M): Values<M['children']> {
  return readValues(ctx, readSection(ctx, field, spec), spec).values;
}

/** A name as shown inside a key path: one line, and short enough to read. */
export function displayName(name: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is being removed
  const oneLine = name.trim().replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return oneLine.length > 40 ? `${oneLine.slice(0, 40)}…` : oneLine;
}

/** The raw text of a key of a mapping, without reporting anything (to name list items early). */
function peekString(node: ConfigNode | null, key: string): string | undefined {
  if (!isMap(node)) return undefined;
  for (const { key: k, value: v } of node.items) {
    if (isScalar(k) && k.value === key) {
      return isScalar(v) && typeof v.value === 'string' ? v.value : undefined;
    }
  }
  return undefined;
}

/** Where a name was first used (an offset), for "duplicate name" messages. */
export type FirstUse = number;

/**
 * A named list entry being read (a target, a policy): its fields, its option values, a key path
 * that names it, and whether anything in it was wrong. `bad` reports at a field and marks the
 * entry unusable.
 */
export class NamedEntry<M extends Mapping> {
  constructor(
    private readonly ctx: Ctx,
    readonly map: MapRead & { node: ConfigNode },
    readonly values: Values<M['children']>,
    public ok: boolean,
  ) {}

  get path(): string {
    return this.map.path;
  }

  get fields(): Map<string, Field> {
    return this.map.fields;
  }

  bad(field: Field, message: string): void {
    this.ctx.report(field.at, field.key, message);
    this.ok = false;
  }
}

/**
 * The opening every named list entry shares: not empty, a mapping, every option read, and a
 * name that is unique within the list (`seen` remembers where each name was first used).
 */
export function openNamedEntry<M extends Mapping>(
  ctx: Ctx,
  item: Field,
  index: number,
  list: { key: string; noun: string; expected: string; spec: M },
  seen: Map<string, FirstUse>,
): NamedEntry<M> | null {
  if (item.node === null) {
    ctx.report(item.at, item.key, `empty list entry: expected a ${list.noun} with ${list.expected}`);
    return null;
  }
  const node = item.node;
  const peeked = peekString(node, 'name');
  const path = peeked ? `${list.key}[${index}] (${displayName(peeked)})` : `${list.key}[${index}]`;
  const map = readMapping(ctx, node, path, list.spec, `a ${list.noun} (a mapping with ${list.expected})`);
  if (!map) return null;
  const { values, ok } = readValues(ctx, map, list.spec);
  const entry = new NamedEntry<M>(ctx, { ...map, node }, values, ok);
  const name = (values as { name?: string }).name;
  const nameField = map.fields.get('name');
  if (name === undefined || !nameField) return entry;
  const first = seen.get(name);
  if (first !== undefined) {
    const { line, column } = ctx.position(first);
    entry.bad(nameField, `duplicate ${list.noun} name '${name}' — first used at line ${line}, column ${column}; names must be unique`);
  } else {
    seen.set(name, nameField.at.start);
  }
  return entry;
}
