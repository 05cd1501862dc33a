import { createSecureContext } from 'node:tls';
import { isMap, isScalar, type Node } from 'yaml';
import { defaultOf } from '../defaults.js';
import { pemCertificates } from '../files.js';
import { ipLiteral, isHostname } from '../net.js';
import { describe, joinKey, openNamedEntry, readInteger, readList, readMap, readString, required, type Ctx, type Field, type FirstUse } from '../reader.js';
import type { ClientCertConfig, TargetConfig } from '../types.js';
import { configPath } from './general.js';

/** Host and port of a target given by URL, or a problem in words. */
export function parseTargetUrl(text: string): { host: string; port: number } | { problem: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { problem: `'${text}' is not a valid URL (expected https://host[:port]/path or tls://host:port)` };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'tls:') {
    return { problem: `'${text}' must start with https:// (or tls://host:port for a TLS service that is not HTTP)` };
  }
  const host = url.hostname.toLowerCase();
  const bare = ipLiteral(host) ?? (isHostname(host) ? host : null);
  if (!bare) return { problem: `'${text}' names no valid host` };
  const port = url.port === '' ? 443 : Number(url.port);
  if (!(port >= 1 && port <= 65535)) return { problem: `port in '${text}' is outside 1–65535` };
  return { host: bare, port };
}

function readClientCert(ctx: Ctx, field: Field | undefined): ClientCertConfig | null {
  if (!field || field.node === null) return null;
  const f = readMap(ctx, field.node, field.key, 'targets[].client_cert', 'a mapping with cert and key');
  if (!f) return null;
  const certField = required(ctx, f, 'cert', field.node, field.key);
  const keyField = required(ctx, f, 'key', field.node, field.key);
  const certText = readString(ctx, certField, 'a file path');
  const keyText = readString(ctx, keyField, 'a file path');
  if (certText === undefined || keyText === undefined) return null;
  const cc: ClientCertConfig = { certFile: configPath(ctx, certText), keyFile: configPath(ctx, keyText), cert: '', key: '' };
  ctx.reads.push({
    path: cc.certFile,
    at: certField!.at,
    key: certField!.key,
    check: (text) => (pemCertificates(text).length > 0 ? null : 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)'),
    use: (text) => (cc.cert = text),
  });
  ctx.reads.push({
    path: cc.keyFile,
    at: keyField!.at,
    key: keyField!.key,
    check: (text) => (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text) ? null : 'holds no PEM private key (-----BEGIN PRIVATE KEY-----)'),
    use: (text) => (cc.key = text),
  });
  ctx.afterReads.push(() => {
    if (!cc.cert || !cc.key) return;
    try {
      createSecureContext({ cert: cc.cert, key: cc.key });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      const why = /KEY_VALUES_MISMATCH/.test(code)
        ? `the key in ${cc.keyFile} does not belong to the certificate in ${cc.certFile}`
        : /BAD_DECRYPT|PASSPHRASE|bad password/i.test(`${code} ${(err as Error).message}`)
          ? `the key in ${cc.keyFile} is encrypted; give an unencrypted key (openssl pkey -in KEY -out KEY.plain)`
          : `certificate and key cannot be used together: ${(err as Error).message}`;
      ctx.report(field.at, field.key, why);
    }
  });
  return cc;
}

/** Label names chainwatch itself puts on series and alerts; a target label may not reuse one. */
export const BUILT_IN_LABELS: readonly string[] = [
  'target', 'group', 'address', 'policy', 'position', 'subject', 'issuer', 'serial', 'sha256', 'leaf_sha256', 'issuer_dn',
  'issuer_key_id', 'root_dn', 'problem', 'kind', 'version', 'cipher', 'url', 'status', 'instance', 'job', 'judged_by',
  'severity', 'alertname',
];

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Why a label name cannot be used, or null when it can. */
export function labelNameProblem(name: string): string | null {
  if (!LABEL_NAME.test(name)) return `'${name}' is not a valid label name: use letters, digits and underscores, not starting with a digit`;
  if (name.startsWith('__')) return `'${name}' starts with '__', which Prometheus reserves for itself`;
  if (BUILT_IN_LABELS.includes(name)) return `'${name}' is a label chainwatch already sets on its series; pick another name (e.g. lync_${name})`;
  return null;
}

function readLabels(ctx: Ctx, field: Field | undefined): Record<string, string> | null {
  const labels: Record<string, string> = {};
  if (!field || field.node === null) return labels;
  if (!isMap(field.node)) {
    ctx.report(field.at, field.key, `expected a mapping of label names to values, e.g. {site: dublin, pool: pool01}, got ${describe(field.node)}`);
    return null;
  }
  let ok = true;
  for (const pair of field.node.items) {
    const k = ctx.deref(pair.key);
    const v = ctx.deref(pair.value);
    const name = k && isScalar(k) ? k.value : undefined;
    if (typeof name !== 'string') {
      ctx.report(k ?? field.at, field.key, `label names must be plain names, got ${describe(k)}`);
      ok = false;
      continue;
    }
    const key = joinKey(field.key, name);
    const problem = labelNameProblem(name);
    if (problem) {
      ctx.report(k!, key, problem);
      ok = false;
      continue;
    }
    const value = v && isScalar(v) ? v.value : undefined;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      ctx.report(v ?? k!, key, `expected a label value (text), got ${describe(v)}`);
      ok = false;
      continue;
    }
    labels[name] = String(value);
  }
  return ok ? labels : null;
}

function readTarget(ctx: Ctx, item: Field, index: number, seen: Map<string, FirstUse>, groups: Set<string>): TargetRead | null {
  const e = openNamedEntry(ctx, item, index, { key: 'targets', noun: 'target', expected: 'name, group and host or url' }, seen);
  if (!e) return null;
  const { node, path, fields: f, name } = e;
  const bad = (field: Field, message: string): void => e.bad(field, message);

  const group = readString(ctx, required(ctx, f, 'group', node, path));
  if (group !== undefined) groups.add(group);
  else e.ok = false;

  const hostField = f.get('host');
  const portField = f.get('port');
  const urlField = f.get('url');
  let host = readString(ctx, hostField, 'a hostname or IP address');
  let port = readInteger(ctx, portField, 1, 65535, 'a port number');
  if ((hostField?.node && host === undefined) || (portField?.node && port === undefined)) e.ok = false;
  if (host !== undefined) {
    const bare = ipLiteral(host) ?? (isHostname(host) ? host : null);
    if (bare === null) bad(hostField!, `'${host}' is not a valid hostname or IP address`);
    else host = bare;
  }

  const urlText = readString(ctx, urlField, 'an https:// URL');
  let url: string | null = null;
  if (urlText !== undefined) {
    const parsed = parseTargetUrl(urlText);
    if ('problem' in parsed) bad(urlField!, parsed.problem);
    else {
      url = urlText;
      // host/port next to url are redundant at best; different values are a contradiction.
      if (host !== undefined && host.toLowerCase() !== parsed.host) bad(hostField!, `host '${host}' conflicts with url (host '${parsed.host}'): give either url or host/port`);
      if (port !== undefined && port !== parsed.port) bad(portField!, `port ${port} conflicts with url (port ${parsed.port}): give either url or host/port`);
      host = parsed.host;
      port = parsed.port;
    }
  } else if (urlField?.node) e.ok = false;
  else if (host === undefined && !hostField?.node) {
    ctx.report(node, joinKey(path, 'host'), "missing required key 'host' (or give url)");
    e.ok = false;
  }

  const addressField = f.get('address');
  const addressText = readString(ctx, addressField, 'an IP address');
  let address: string | null = null;
  if (addressText !== undefined) {
    address = ipLiteral(addressText);
    if (address === null) bad(addressField!, `'${addressText}' is not an IP address; address must be an IPv4 or IPv6 literal (put names in host)`);
  } else if (addressField?.node) e.ok = false;

  const resolveField = f.get('resolve');
  const resolveText = readString(ctx, resolveField);
  let resolve = defaultOf('targets[].resolve') as 'first' | 'all';
  if (resolveText !== undefined) {
    if (resolveText === 'first' || resolveText === 'all') resolve = resolveText;
    else bad(resolveField!, `'${resolveText}' is not a resolve mode: use first or all`);
  } else if (resolveField?.node) e.ok = false;
  if (resolve === 'all' && addressField?.node) bad(resolveField!, 'resolve: all cannot be combined with address (address pins one endpoint): remove one of them');

  const sniField = f.get('sni');
  const sniText = readString(ctx, sniField, 'a hostname');
  let sni: string | null = host !== undefined && ipLiteral(host) === null ? host : null;
  if (sniText !== undefined) {
    if (ipLiteral(sniText)) bad(sniField!, `'${sniText}' is an IP address; TLS server names must be DNS names (leave sni out to send none)`);
    else if (!isHostname(sniText)) bad(sniField!, `'${sniText}' is not a valid DNS name`);
    else sni = sniText;
  } else if (sniField?.node) e.ok = false;

  const roleField = f.get('role');
  const role = readString(ctx, roleField) ?? null;
  if (roleField?.node && role === null) e.ok = false;

  const labelsField = f.get('labels');
  const labels = readLabels(ctx, labelsField);
  if (labels === null) e.ok = false;

  const ccField = f.get('client_cert');
  const clientCert = readClientCert(ctx, ccField);
  if (ccField?.node && !clientCert) e.ok = false;

  if (!e.ok || name === undefined || group === undefined || host === undefined || labels === null) return null;
  const target: TargetConfig = {
    name,
    group,
    host,
    port: port ?? (defaultOf('targets[].port') as number),
    address,
    resolve,
    sni,
    role,
    labels,
    url,
    clientCert,
  };
  return { target, at: node, path };
}

/** A valid target and where it is written, for checks that other sections make against it. */
export interface TargetRead {
  target: TargetConfig;
  at: Node;
  path: string;
}

export interface TargetsRead {
  targets: TargetConfig[];
  /** The same targets with their positions. */
  read: TargetRead[];
  /** Every group a target names, including targets that had other errors (for policy checks). */
  groups: Set<string>;
}

export function readTargets(ctx: Ctx, field: Field | undefined, top: Node): TargetsRead {
  const groups = new Set<string>();
  if (!field || field.node === null) {
    ctx.report(field?.at ?? top, 'targets', 'no targets — nothing to watch; list at least one target under targets:');
    return { targets: [], read: [], groups };
  }
  const items = readList(ctx, field, 'a list of targets');
  if (!items) return { targets: [], read: [], groups };
  if (items.length === 0) ctx.report(field.at, 'targets', 'the target list is empty — nothing to watch; list at least one target');
  const seen = new Map<string, FirstUse>();
  const read: TargetRead[] = [];
  items.forEach((item, i) => {
    const target = readTarget(ctx, item, i, seen, groups);
    if (target) read.push(target);
  });
  return { targets: read.map((r) => r.target), read, groups };
}
