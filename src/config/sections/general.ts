// The small sections: scan, dns, trust, state, server.
import { createRequire } from 'node:module';
import { isAbsolute, resolve } from 'node:path';
import { defaultOf } from '../defaults.js';
import { formatDuration, parseDuration } from '../duration.js';
import { checkCaBundle } from '../files.js';
import { formatHostPort, ipLiteral, isHostname, splitHostPort } from '../net.js';
import { readBoolean, readDuration, readInteger, readMap, readString, readStringList, type Ctx, type Field } from '../reader.js';
import type { DnsConfig, ScanConfig, ServerConfig, StateConfig, TrustConfig } from '../types.js';

/** The fields of a section; an absent or empty section gives no fields (all defaults). */
export function sectionFields(ctx: Ctx, field: Field | undefined, schema: string): Map<string, Field> {
  if (!field || field.node === null) return new Map();
  return readMap(ctx, field.node, field.key, schema) ?? new Map();
}

export function defaultDuration(key: string): number {
  return parseDuration(defaultOf(key) as string)!;
}

/** A path as written, made absolute against the config file's folder. */
export function configPath(ctx: Ctx, path: string): string {
  return isAbsolute(path) ? resolve(path) : resolve(ctx.dir, path);
}

const MAX_TIMEOUT_MS = 3_600_000;

/**
 * node-cron's own check, loaded only when a schedule is written: loading it costs more than
 * reading a small config, and the default schedule needs no check.
 */
function cronValidator(): (typeof import('node-cron'))['default']['validateDetailed'] {
  const cron = createRequire(import.meta.url)('node-cron') as (typeof import('node-cron'))['default'];
  return (expression) => cron.validateDetailed(expression);
}

export function readScan(ctx: Ctx, field: Field | undefined): ScanConfig {
  const f = sectionFields(ctx, field, 'scan');
  let schedule = readString(ctx, f.get('schedule'), 'a cron expression in quotes');
  if (schedule !== undefined) {
    const check = cronValidator()(schedule);
    if (!check.valid) {
      const reasons = check.errors.map((e) => (e.field === 'expression' ? e.message : `${e.field} '${e.value ?? ''}' is not valid`));
      ctx.report(f.get('schedule')!.at, f.get('schedule')!.key, `'${schedule}' is not a valid cron expression (${reasons.join('; ')}); use 5 fields (minute hour day month weekday) or 6 with seconds first, e.g. '*/5 * * * *'`);
      schedule = undefined;
    }
  }
  const expiryWarningMs = readDuration(ctx, f.get('expiry_warning')) ?? defaultDuration('scan.expiry_warning');
  let expiryCriticalMs = readDuration(ctx, f.get('expiry_critical')) ?? defaultDuration('scan.expiry_critical');
  if (expiryCriticalMs > expiryWarningMs) {
    const at = f.get('expiry_critical') ?? f.get('expiry_warning');
    if (at) ctx.report(at.at, at.key, `expiry_critical (${formatDuration(expiryCriticalMs)}) is longer than expiry_warning (${formatDuration(expiryWarningMs)}): the critical band must lie inside the warning band; lower expiry_critical or raise expiry_warning`);
    expiryCriticalMs = expiryWarningMs;
  }
  return {
    schedule: schedule ?? (defaultOf('scan.schedule') as string),
    timeoutMs: readDuration(ctx, f.get('timeout'), { positive: true, maxMs: MAX_TIMEOUT_MS, maxText: '1h' }) ?? defaultDuration('scan.timeout'),
    concurrency: readInteger(ctx, f.get('concurrency'), 1, 1_000_000) ?? (defaultOf('scan.concurrency') as number),
    expiryWarningMs,
    expiryCriticalMs,
  };
}

export function readDns(ctx: Ctx, field: Field | undefined): DnsConfig {
  const f = sectionFields(ctx, field, 'dns');
  const servers: string[] = [];
  for (const { value, field: item } of readStringList(ctx, f.get('servers'), 'a list of DNS server addresses') ?? []) {
    const hp = splitHostPort(value);
    const ip = hp ? ipLiteral(hp.host) : null;
    if (!hp || !ip) {
      ctx.report(item.at, item.key, `'${value}' is not a DNS server address: use an IP address, IP:port or [IPv6]:port (a resolver needs an address, not a name)`);
      continue;
    }
    if (hp.port !== null && !(Number.isInteger(hp.port) && hp.port >= 1 && hp.port <= 65535)) {
      ctx.report(item.at, item.key, `port in '${value}' is outside 1–65535`);
      continue;
    }
    servers.push(hp.port === null ? ip : formatHostPort(ip, hp.port));
  }
  return { servers };
}

export function readTrust(ctx: Ctx, field: Field | undefined): TrustConfig {
  const f = sectionFields(ctx, field, 'trust');
  const trust: TrustConfig = { caFiles: [], caPems: [], systemRoots: readBoolean(ctx, f.get('system_roots')) ?? (defaultOf('trust.system_roots') as boolean) };
  const files = readStringList(ctx, f.get('ca_files'), 'a list of PEM file paths') ?? [];
  const pems: (string | undefined)[] = [];
  files.forEach(({ value, field: item }, i) => {
    const path = configPath(ctx, value);
    trust.caFiles.push(path);
    ctx.reads.push({ path, at: item.at, key: item.key, check: checkCaBundle, use: (text) => (pems[i] = text) });
  });
  // Keep caPems in the order of caFiles once every read is done.
  ctx.afterReads.push(() => trust.caPems.push(...pems.filter((p): p is string => p !== undefined)));
  return trust;
}

export function readState(ctx: Ctx, field: Field | undefined): StateConfig {
  const f = sectionFields(ctx, field, 'state');
  return {
    path: configPath(ctx, readString(ctx, f.get('path'), 'a directory path') ?? (defaultOf('state.path') as string)),
    retentionMs: readDuration(ctx, f.get('retention'), { positive: true }) ?? defaultDuration('state.retention'),
  };
}

/** host:port for listening; port 0 lets the OS choose. */
export function parseListen(text: string): { host: string; port: number } | null {
  const hp = splitHostPort(text);
  if (!hp || hp.port === null || !Number.isInteger(hp.port) || hp.port > 65535) return null;
  const host = ipLiteral(hp.host) ?? (isHostname(hp.host) ? hp.host : null);
  return host === null ? null : { host, port: hp.port };
}

/** An http(s) URL, or a problem in words. */
export function checkHttpUrl(text: string): { url: URL } | { problem: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { problem: `'${text}' is not a valid URL (expected http://host:port/… or https://…)` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { problem: `'${text}' must be an http:// or https:// URL` };
  if (url.hostname === '') return { problem: `'${text}' names no host` };
  return { url };
}

export function readServer(ctx: Ctx, field: Field | undefined): ServerConfig {
  const f = sectionFields(ctx, field, 'server');
  let listen = parseListen(defaultOf('server.listen') as string)!;
  const listenField = f.get('listen');
  const listenText = readString(ctx, listenField, 'host:port');
  if (listenText !== undefined) {
    const parsed = parseListen(listenText);
    if (parsed) listen = parsed;
    else ctx.report(listenField!.at, listenField!.key, `'${listenText}' is not host:port — e.g. 0.0.0.0:9862, 127.0.0.1:9862 or [::]:9862`);
  }
  return { listen, externalUrl: readBaseUrl(ctx, f.get('external_url')) };
}

/** An http(s) base URL without trailing slashes (paths get appended to it). */
export function readBaseUrl(ctx: Ctx, field: Field | undefined): string | null {
  const text = readString(ctx, field, 'an http(s) URL');
  if (text === undefined) return null;
  const checked = checkHttpUrl(text);
  if ('problem' in checked) {
    ctx.report(field!.at, field!.key, checked.problem);
    return null;
  }
  return text.replace(/\/+$/, '');
}
