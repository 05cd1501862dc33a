// Walking the YAML tree with positions. Every reader reports what is wrong at the node at fault
// and returns undefined, so validation carries on and the operator sees every mistake at once.
import { parseDuration } from './duration.js';
import type { ConfigIssue } from './errors.js';
import { type ConfigNode, isMap, isScalar, isSeq, LineIndex } from './tree.js';

/** A file the config names, read after the tree has been walked. */
export interface PendingRead {
  path: string;
  at: ConfigNode;
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
  /** Defaults of the options table, read once per load (keyed by the option). */
  readonly defaults = new Map<object, unknown>();
  private readonly lines: LineIndex;

  constructor(
    readonly file: string,
    readonly dir: string,
    text: string,
  ) {
    this.lines = new LineIndex(text);
  }

  /** Line and column of a node or offset, for messages. */
  position(at: ConfigNode | number): { line: number; column: number } {
    return this.lines.position(typeof at === 'number' ? at : at.start);
  }

  report(at: ConfigNode | number, key: string, message: string): void {
    const { line, column } = this.position(at);
    this.issues.push({ file: this.file, line, column, key, message });
  }
}

/** One key of a mapping as written: its value (null when empty) and where to point at. */
export interface Field {
  key: string;
  node: ConfigNode | null;
  at: ConfigNode;
}

export function joinKey(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

export function describe(node: ConfigNode | null): string {
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

export function isNull(node: ConfigNode | null): boolean {
  return node === null || (isScalar(node) && node.value === null);
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
  return field.node.items.map((node, i) => {
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
