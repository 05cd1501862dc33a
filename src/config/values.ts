// The kinds of value an option can hold. Each kind knows how to read what the operator wrote
// (reporting at the node at fault), how it looks to people, and its JSON Schema, so one
// declaration in the options table gives the validator, the defaults and the documentation.
import { createRequire } from 'node:module';
import { isAbsolute, resolve } from 'node:path';
import { formatHostPort } from '../util/address.js';
import { ipLiteral, isHostname, splitHostPort } from './net.js';
import { type Ctx, type DurationBounds, describe, type Field, joinKey, readBoolean, readDuration, readInteger, readString, readStringList } from './reader.js';
import { parseSize } from './size.js';
import { isMap, isScalar, isSeq } from './tree.js';

export type JsonSchema = { [key: string]: unknown };

export interface ValueType<T> {
  /** What the value looks like, for people (the value column of the options table). */
  readonly text: string;
  /** JSON Schema of the value as written in YAML. */
  readonly schema: JsonSchema;
  /** The value the operator wrote; reports what is wrong at the node and returns undefined. */
  read(ctx: Ctx, field: Field): T | undefined;
}

/** A value that must pass `check` after being read as `base`; check returns a problem or the value. */
function refine<A, T>(base: ValueType<A>, text: string, schema: JsonSchema, check: (value: A, ctx: Ctx) => { value: T } | { problem: string }): ValueType<T> {
  return {
    text,
    schema,
    read(ctx, field) {
      const raw = base.read(ctx, field);
      if (raw === undefined) return undefined;
      const checked = check(raw, ctx);
      if ('problem' in checked) {
        ctx.report(field.at, field.key, checked.problem);
        return undefined;
      }
      return checked.value;
    },
  };
}

/** Non-empty text, trimmed; `what` names it in "expected …, got …". */
export function text(what = 'a string', shown = 'string'): ValueType<string> {
  return { text: shown, schema: { type: 'string', minLength: 1 }, read: (ctx, field) => readString(ctx, field, what) };
}

export function integer(min: number, max: number, shown: string, what = 'an integer'): ValueType<number> {
  const schema: JsonSchema = { type: 'integer', minimum: min };
  if (max !== Infinity) schema.maximum = max;
  return { text: shown, schema, read: (ctx, field) => readInteger(ctx, field, min, max, what) };
}

export const boolean: ValueType<boolean> = { text: 'boolean', schema: { type: 'boolean' }, read: readBoolean };

/** Matches what parseDuration accepts, for editors. */
const DURATION_PATTERN = '^\\s*\\d{1,12}(\\.\\d{1,9})?\\s*(ms|s|m|h|d)\\s*$';

/** Milliseconds, from text such as 10s, 1.5m, 30d. */
export function duration(bounds: DurationBounds = {}): ValueType<number> {
  return { text: 'duration', schema: { type: 'string', pattern: DURATION_PATTERN }, read: (ctx, field) => readDuration(ctx, field, bounds) };
}

/** Matches what parseSize accepts, for editors. */
const SIZE_PATTERN = '^\\s*\\d{1,12}(\\.\\d{1,6})?\\s*([kKmMgG][iI]?[bB]|[bB])\\s*$';

/** Bytes, from text such as 512KB or 20MB (1024-based); a bare number is refused like a unit-less duration. */
export function size(bounds: { maxBytes: number; maxText: string }): ValueType<number> {
  return {
    text: 'size (B, KB, MB, GB; 1024-based)',
    schema: { type: 'string', pattern: SIZE_PATTERN },
    read(ctx, field) {
      const v = field.node && isScalar(field.node) ? field.node.value : undefined;
      if (typeof v === 'number') {
        ctx.report(field.at, field.key, `${v} has no unit — write a size such as '${v}MB' (units: B, KB, MB, GB; 1024-based)`);
        return undefined;
      }
      const bytes = typeof v === 'string' ? parseSize(v) : null;
      if (bytes === null) {
        ctx.report(field.at, field.key, `expected a size such as 512KB or 20MB (units: B, KB, MB, GB; 1024-based), got ${describe(field.node)}`);
        return undefined;
      }
      if (bytes <= 0 || bytes > bounds.maxBytes) {
        ctx.report(field.at, field.key, `'${v}' is out of range: give more than 0 and at most ${bounds.maxText}`);
        return undefined;
      }
      return bytes;
    },
  };
}

function orList(values: readonly string[]): string {
  return values.length === 1 ? values[0]! : `${values.slice(0, -1).join(', ')} or ${values.at(-1)}`;
}

/** One of a few words; `noun` names the set: "'x' is not a resolve mode: use first or all". */
export function oneOf<const V extends string>(values: readonly V[], noun: string): ValueType<V> {
  return refine<string, V>(text(), values.join(' | '), { type: 'string', enum: [...values] }, (v) =>
    (values as readonly string[]).includes(v) ? { value: v as V } : { problem: `'${v}' is not ${noun}: use ${orList(values)}` },
  );
}

/**
 * node-cron, loaded when a schedule is checked, not when the config module is: loading it costs
 * more than reading a small config, and a config without a schedule never needs it.
 */
function cron(): typeof import('node-cron')['default'] {
  return createRequire(import.meta.url)('node-cron') as typeof import('node-cron')['default'];
}

/** The daemon's default schedule: every 5 minutes. */
export const DEFAULT_SCHEDULE = '*/5 * * * *';

export const cronExpression: ValueType<string> = refine<string, string>(
  text('a cron expression in quotes'),
  'cron expression (5 or 6 fields)',
  { type: 'string', minLength: 9 },
  (v) => {
    // The default (which most configs use) is known good — the options tests check it with
    // node-cron — so checking it needs no node-cron.
    if (v === DEFAULT_SCHEDULE) return { value: v };
    const check = cron().validateDetailed(v);
    if (check.valid) return { value: v };
    const reasons = check.errors.map((e) => (e.field === 'expression' ? e.message : `${e.field} '${e.value ?? ''}' is not valid`));
    return {
      problem: `'${v}' is not a valid cron expression (${reasons.join('; ')}); use 5 fields (minute hour day month weekday) or 6 with seconds first, e.g. '*/5 * * * *'`,
    };
  },
);

/** A path as written, made absolute against the config file's folder. */
export function configPath(ctx: Ctx, path: string): string {
  return isAbsolute(path) ? resolve(path) : resolve(ctx.dir, path);
}

export function path(what = 'a file path'): ValueType<string> {
  return refine(text(what), 'path', { type: 'string', minLength: 1 }, (v, ctx) => ({ value: configPath(ctx, v) }));
}

/** A file the config names; `text` is filled in when the files are read, after the tree is walked. */
export interface FileText {
  path: string;
  text: string | null;
}

/** A file read later and checked by `check` (a problem in words, or null when usable). */
export function file(check: (contents: string) => string | null, what = 'a file path'): ValueType<FileText> {
  const base = path(what);
  return {
    text: base.text,
    schema: base.schema,
    read(ctx, field) {
      const at = base.read(ctx, field);
      if (at === undefined) return undefined;
      const read: FileText = { path: at, text: null };
      ctx.reads.push({ path: at, at: field.at, key: field.key, check, use: (contents) => (read.text = contents) });
      return read;
    },
  };
}

/** An http(s) URL, or a problem in words. */
export function checkHttpUrl(value: string): { url: URL } | { problem: string } {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { problem: `'${value}' is not a valid URL (expected http://host:port/… or https://…)` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { problem: `'${value}' must be an http:// or https:// URL` };
  if (url.hostname === '') return { problem: `'${value}' names no host` };
  return { url };
}

const HTTP_URL_SCHEMA: JsonSchema = { type: 'string', pattern: '^[Hh][Tt][Tt][Pp][Ss]?://' };

/** An http(s) base URL without trailing slashes (paths get appended to it). */
export const baseUrl: ValueType<string> = refine<string, string>(text('an http(s) URL'), 'http(s) URL', HTTP_URL_SCHEMA, (v) => {
  const checked = checkHttpUrl(v);
  return 'problem' in checked ? checked : { value: v.replace(/\/+$/, '') };
});

/** An http(s) URL that may carry a token: problems name it without echoing it. */
export const secretUrl: ValueType<string> = refine<string, string>(text('an http(s) URL'), 'http(s) URL', HTTP_URL_SCHEMA, (v) =>
  'problem' in checkHttpUrl(v) ? { problem: 'must be a valid http:// or https:// URL' } : { value: v },
);

/** host:port for listening; port 0 lets the OS choose. */
export function parseListen(value: string): { host: string; port: number } | null {
  const hp = splitHostPort(value);
  if (!hp || hp.port === null || !Number.isInteger(hp.port) || hp.port > 65535) return null;
  const host = ipLiteral(hp.host) ?? (isHostname(hp.host) ? hp.host : null);
  return host === null ? null : { host, port: hp.port };
}

export const listenAddress: ValueType<{ host: string; port: number }> = refine<string, { host: string; port: number }>(
  text('host:port'),
  'host:port ([v6]:port)',
  { type: 'string', minLength: 1 },
  (v) => {
    const parsed = parseListen(v);
    return parsed ? { value: parsed } : { problem: `'${v}' is not host:port — e.g. 0.0.0.0:9862, 127.0.0.1:9862 or [::]:9862` };
  },
);

/** A DNS server: IP, IP:port or [IPv6]:port, normalised. */
export const dnsServer: ValueType<string> = refine<string, string>(
  text('a DNS server address'),
  'IP or IP:port ([v6]:port)',
  { type: 'string', minLength: 1 },
  (v) => {
    const hp = splitHostPort(v);
    const ip = hp ? ipLiteral(hp.host) : null;
    if (!hp || !ip)
      return { problem: `'${v}' is not a DNS server address: use an IP address, IP:port or [IPv6]:port (a resolver needs an address, not a name)` };
    if (hp.port !== null && !(Number.isInteger(hp.port) && hp.port >= 1 && hp.port <= 65535)) return { problem: `port in '${v}' is outside 1–65535` };
    return { value: hp.port === null ? ip : formatHostPort(ip, hp.port) };
  },
);

/** A hostname or IP literal (brackets around IPv6 dropped). */
export const hostOrIp: ValueType<string> = refine<string, string>(text('a hostname or IP address'), 'hostname or IP', { type: 'string', minLength: 1 }, (v) => {
  const bare = ipLiteral(v) ?? (isHostname(v) ? v : null);
  return bare === null ? { problem: `'${v}' is not a valid hostname or IP address` } : { value: bare };
});

export const ipAddress: ValueType<string> = refine<string, string>(text('an IP address'), 'IP address', { type: 'string', minLength: 1 }, (v) => {
  const ip = ipLiteral(v);
  return ip === null ? { problem: `'${v}' is not an IP address; address must be an IPv4 or IPv6 literal (put names in host)` } : { value: ip };
});

/** A TLS server name: a DNS name, never an IP literal. */
export const serverName: ValueType<string> = refine<string, string>(text('a hostname'), 'hostname', { type: 'string', minLength: 1 }, (v) => {
  if (ipLiteral(v)) return { problem: `'${v}' is an IP address; TLS server names must be DNS names (leave sni out to send none)` };
  return isHostname(v) ? { value: v } : { problem: `'${v}' is not a valid DNS name` };
});

/** Host and port of a target given by URL, or a problem in words. */
export function parseTargetUrl(value: string): { host: string; port: number } | { problem: string } {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { problem: `'${value}' is not a valid URL (expected https://host[:port]/path or tls://host:port)` };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'tls:') {
    return { problem: `'${value}' must start with https:// (or tls://host:port for a TLS service that is not HTTP)` };
  }
  const host = url.hostname.toLowerCase();
  const bare = ipLiteral(host) ?? (isHostname(host) ? host : null);
  if (!bare) return { problem: `'${value}' names no valid host` };
  const port = url.port === '' ? 443 : Number(url.port);
  if (!(port >= 1 && port <= 65535)) return { problem: `port in '${value}' is outside 1–65535` };
  return { host: bare, port };
}

export interface TargetUrl {
  url: string;
  host: string;
  port: number;
}

export const targetUrl: ValueType<TargetUrl> = refine<string, TargetUrl>(
  text('an https:// URL'),
  'https:// or tls:// URL',
  { type: 'string', pattern: '^([Hh][Tt][Tt][Pp][Ss]|[Tt][Ll][Ss])://' },
  (v) => {
    const parsed = parseTargetUrl(v);
    return 'problem' in parsed ? parsed : { value: { url: v, ...parsed } };
  },
);

/**
 * A pinned issuer as lowercase hex without separators, or null. Liberal on purpose: key ids are
 * copied from certutil, openssl or browsers in every spelling; 40 hex digits is a SHA-1 key id,
 * 64 an SPKI SHA-256, and other even lengths from 16 to 128 are accepted as key ids too.
 */
export function normaliseKeyId(value: string): string | null {
  const hex = value.replace(/[\s:]/g, '').toLowerCase();
  if (!/^[0-9a-f]+$/.test(hex) || hex.length % 2 !== 0 || hex.length < 16 || hex.length > 128) return null;
  return hex;
}

export const keyId: ValueType<string> = refine<string, string>(text(), 'hex', { type: 'string', pattern: '^[0-9A-Fa-f:\\s]+$' }, (v) => {
  const hex = normaliseKeyId(v);
  return hex === null
    ? { problem: `'${v}' is not a key id: expected hex (an issuing CA's key id, 40 hex digits, or its SPKI SHA-256, 64); colons are fine` }
    : { value: hex };
});

/**
 * A list of `item`; `what` names the list in "expected …". Entries that are wrong are reported
 * and left out; with `unique`, repeats are dropped too, so `[a, a]` reads as `[a]`.
 */
export function listOf<T>(item: ValueType<T>, what: string, opts: { unique?: boolean; shown?: string } = {}): ValueType<T[]> {
  return {
    text: opts.shown ?? `list of ${item.text}`,
    schema: { type: 'array', items: item.schema },
    read(ctx, field) {
      const entries = readStringList(ctx, field, what);
      if (!entries) return undefined;
      const out: T[] = [];
      for (const entry of entries) {
        const value = item.read(ctx, entry.field);
        if (value !== undefined && !(opts.unique && out.includes(value))) out.push(value);
      }
      return out;
    },
  };
}

/** One value, or a list of them (an HA pair of receivers); always read as a list. */
export function oneOrMore<T>(item: ValueType<T>, shown: string): ValueType<T[]> {
  const many = listOf(item, `a list of ${item.text}`, { unique: true });
  return {
    text: shown,
    schema: { anyOf: [item.schema, many.schema] },
    read(ctx, field) {
      if (isSeq(field.node)) return many.read(ctx, field);
      const one = item.read(ctx, field);
      return one === undefined ? undefined : [one];
    },
  };
}

/** Label names chainwatch itself puts on series and alerts; a target label may not reuse one. */
export const BUILT_IN_LABELS: readonly string[] = [
  'target',
  'group',
  'address',
  'policy',
  'position',
  'subject',
  'issuer',
  'serial',
  'sha256',
  'leaf_sha256',
  'issuer_dn',
  'issuer_key_id',
  'root_dn',
  'problem',
  'kind',
  'version',
  'cipher',
  'url',
  'status',
  'instance',
  'job',
  'judged_by',
  'severity',
  'alertname',
];

const LABEL_NAME = '^[a-zA-Z_][a-zA-Z0-9_]*$';

/** Why a name cannot be a target label, or null when it can. */
export function labelNameProblem(name: string): string | null {
  if (!new RegExp(LABEL_NAME).test(name)) return `'${name}' is not a valid label name: use letters, digits and underscores, not starting with a digit`;
  if (name.startsWith('__')) return `'${name}' starts with '__', which Prometheus reserves for itself`;
  if (BUILT_IN_LABELS.includes(name)) return `'${name}' is a label chainwatch already sets on its series; pick another name (e.g. lync_${name})`;
  return null;
}

/** Free-form target labels: label name → text; each bad name is reported at its key. */
export const labelMap: ValueType<Record<string, string>> = {
  text: 'mapping of label name to text',
  schema: {
    type: 'object',
    propertyNames: { pattern: LABEL_NAME, not: { enum: [...BUILT_IN_LABELS] } },
    additionalProperties: { anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] },
  },
  read(ctx, field) {
    if (!isMap(field.node)) {
      ctx.report(field.at, field.key, `expected a mapping of label names to values, e.g. {site: dublin, pool: pool01}, got ${describe(field.node)}`);
      return undefined;
    }
    const labels: Record<string, string> = {};
    let ok = true;
    for (const { key: k, value: v } of field.node.items) {
      const name = k && isScalar(k) ? k.value : undefined;
      if (typeof name !== 'string') {
        ctx.report(k ?? field.at, field.key, `label names must be plain names, got ${describe(k)}`);
        ok = false;
        continue;
      }
      const problem = labelNameProblem(name);
      if (problem) {
        ctx.report(k!, joinKey(field.key, name), problem);
        ok = false;
        continue;
      }
      const value = v && isScalar(v) ? v.value : undefined;
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        ctx.report(v ?? k!, joinKey(field.key, name), `expected a label value (text), got ${describe(v)}`);
        ok = false;
        continue;
      }
      labels[name] = String(value);
    }
    return ok ? labels : undefined;
  },
};

/** A policy scope: a target label name, or none (read as null). */
export const scopeLabel: ValueType<string | null> = refine<string, string | null>(
  text('a target label name, or none'),
  'none | a target label name',
  { type: 'string', pattern: LABEL_NAME },
  (v) => {
    if (v === 'none') return { value: null };
    const problem = labelNameProblem(v);
    return problem ? { problem: `scope ${problem}` } : { value: v };
  },
);
