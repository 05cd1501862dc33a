// Structured logging for the daemon: one JSON object per line for log shippers, or a readable
// single line when a person watches the terminal. Secrets never reach the output: key material,
// credentials and the path/query of URLs (webhook URLs carry their token there) are scrubbed
// here, once, so no caller has to remember to.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds these fields to every line. */
  child(fields: LogFields): Logger;
}

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function parseLogLevel(value: string | undefined | null): LogLevel | null {
  if (value === undefined || value === null) return null;
  const v = value.trim().toLowerCase();
  if (v === 'warning') return 'warn';
  return (LOG_LEVELS as readonly string[]).includes(v) ? (v as LogLevel) : null;
}

export interface LogSink {
  write(chunk: string): unknown;
  isTTY?: boolean;
  /** A stream's asynchronous write errors (EPIPE once a pipe's reader has gone). */
  on?(event: 'error', listener: (err: Error) => void): unknown;
}

/** Sinks whose write errors are already taken care of: one listener each, however many loggers. */
const guarded = new WeakSet<LogSink>();

/**
 * A pipe whose reader went away (a log shipper restarted, `chainwatch run | head`) fails writes
 * later, as an 'error' event; unheard, that event would end the daemon. Its logs are lost, its
 * scans, metrics and alerts go on.
 */
function guard(sink: LogSink): void {
  if (guarded.has(sink) || typeof sink.on !== 'function') return;
  guarded.add(sink);
  sink.on('error', () => undefined);
}

export interface LoggerOptions {
  /** Default: LOG_LEVEL from the environment, else 'info'. */
  level?: LogLevel;
  /** 'auto' (default): readable when the sink is a terminal, JSON otherwise. */
  format?: 'json' | 'pretty' | 'auto';
  /** Default: process.stdout. */
  sink?: LogSink;
  fields?: LogFields;
  now?: () => Date;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const sink = options.sink ?? process.stdout;
  guard(sink);
  let level = options.level;
  let badEnvLevel: string | null = null;
  if (level === undefined) {
    const env = process.env.LOG_LEVEL;
    level = parseLogLevel(env) ?? 'info';
    if (env !== undefined && env.trim() !== '' && parseLogLevel(env) === null) badEnvLevel = env;
  }
  const format = options.format ?? 'auto';
  const pretty = format === 'pretty' || (format === 'auto' && sink.isTTY === true);
  const shared: Shared = { sink, min: RANK[level], pretty, now: options.now ?? (() => new Date()) };
  const logger = new SinkLogger(shared, options.fields ?? {});
  if (badEnvLevel !== null) {
    logger.warn('LOG_LEVEL is not a known level; logging at info. Use one of debug, info, warn, error', {
      value: badEnvLevel.slice(0, 40),
    });
  }
  return logger;
}

/** A logger that drops everything (tests, library use). */
export const nullLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return nullLogger;
  },
};

interface Shared {
  sink: LogSink;
  min: number;
  pretty: boolean;
  now: () => Date;
}

class SinkLogger implements Logger {
  constructor(
    private readonly shared: Shared,
    private readonly base: LogFields,
  ) {}

  debug(msg: string, fields?: LogFields): void {
    this.emit('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.emit('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.emit('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.emit('error', msg, fields);
  }
  child(fields: LogFields): Logger {
    return new SinkLogger(this.shared, { ...this.base, ...fields });
  }

  private emit(level: LogLevel, msg: string, fields: LogFields | undefined): void {
    if (RANK[level] < this.shared.min) return;
    const merged = fields === undefined ? this.base : { ...this.base, ...fields };
    const time = this.shared.now();
    const line = this.shared.pretty
      ? formatPretty(time, level, scrubString(String(msg)), scrubFields(merged))
      : formatJson(time, level, scrubString(String(msg)), scrubFields(merged));
    try {
      this.shared.sink.write(`${line}\n`);
    } catch {
      // A sink that fails at once (a destroyed stream) must not take the daemon down either.
    }
  }
}

const RESERVED = new Set(['time', 'level', 'msg']);

function formatJson(time: Date, level: LogLevel, msg: string, fields: LogFields): string {
  const out: LogFields = { time: time.toISOString(), level, msg };
  for (const [k, v] of Object.entries(fields)) out[RESERVED.has(k) ? `field_${k}` : k] = v;
  return JSON.stringify(out);
}

const LEVEL_LABEL: Record<LogLevel, string> = { debug: 'DEBUG', info: 'INFO ', warn: 'WARN ', error: 'ERROR' };

function formatPretty(time: Date, level: LogLevel, msg: string, fields: LogFields): string {
  const parts = [time.toISOString(), LEVEL_LABEL[level], msg.replace(/\r?\n/g, '\n    ')];
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    parts.push(`${k}=${/^[^\s"=]+$/.test(text) ? text : JSON.stringify(text)}`);
  }
  return parts.join(' ');
}

// ---- scrubbing -------------------------------------------------------------------------------

// A bare `key` is not on the list: it names endpoint keys and config key paths, which operators
// need to see; key material is caught by its PEM armour or by the names below.
const SECRET_KEY = /^(private_?key|client_?key|key_?pem|passphrase|pass|password|passwd|secret|token|api_?key|authorization|cookie|set-cookie)$/i;
const SECRET_SUFFIX = /(secret|password|passphrase|token|private_?key)$/i;
const MAX_STRING = 4000;
const MAX_DEPTH = 6;
const MAX_ITEMS = 100;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) || SECRET_SUFFIX.test(key);
}

/** Keeps scheme, host and port; drops credentials, path, query and fragment. */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return '[unparseable url]';
  }
  const hidden = (u.pathname !== '' && u.pathname !== '/') || u.search !== '' || u.hash !== '';
  return `${u.protocol}//${u.host}${hidden ? '/…' : ''}`;
}

const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;
const PEM_BLOCK = /-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(-----END [A-Z0-9 ]+-----|$)/g;

function scrubString(s: string): string {
  let out = s.length > MAX_STRING ? `${s.slice(0, MAX_STRING)}…` : s;
  if (out.includes('-----BEGIN')) out = out.replace(PEM_BLOCK, '[redacted PEM]');
  if (out.includes('://')) out = out.replace(URL_IN_TEXT, (m) => redactUrl(m));
  return out;
}

function scrubFields(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields)) out[k] = isSecretKey(k) ? '[redacted]' : scrubValue(v, 0);
  return out;
}

function scrubValue(v: unknown, depth: number): unknown {
  if (v === null || v === undefined) return v;
  switch (typeof v) {
    case 'string':
      return scrubString(v);
    case 'number':
    case 'boolean':
      return v;
    case 'bigint':
      return v.toString();
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  if (v instanceof URL) return redactUrl(v.href);
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return `[${v.byteLength} bytes]`;
  if (v instanceof Error) {
    const e: LogFields = { name: v.name, message: scrubString(v.message) };
    const code = (v as { code?: unknown }).code;
    if (typeof code === 'string' || typeof code === 'number') e.code = code;
    return e;
  }
  if (depth >= MAX_DEPTH) return '[nested too deep]';
  if (Array.isArray(v)) {
    const items = v.slice(0, MAX_ITEMS).map((x) => scrubValue(x, depth + 1));
    if (v.length > MAX_ITEMS) items.push(`[${v.length - MAX_ITEMS} more]`);
    return items;
  }
  const out: LogFields = {};
  for (const [k, x] of Object.entries(v as LogFields)) out[k] = isSecretKey(k) ? '[redacted]' : scrubValue(x, depth + 1);
  return out;
}
