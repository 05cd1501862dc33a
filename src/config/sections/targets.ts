import { type FirstUse, openNamedEntry, readMapping, readValues } from '../mapping.js';
import { ipLiteral } from '../net.js';
import { CLIENT_CERT, TARGET } from '../options.js';
import { type Ctx, type Field, joinKey, readList } from '../reader.js';
import type { ConfigNode } from '../tree.js';
import type { ClientCertConfig, TargetConfig } from '../types.js';

function readClientCert(ctx: Ctx, field: Field | undefined): ClientCertConfig | null | undefined {
  if (!field || field.node === null) return null;
  const map = readMapping(ctx, field.node, field.key, CLIENT_CERT, 'a mapping with cert and key');
  if (!map) return undefined;
  const { values, ok } = readValues(ctx, map, CLIENT_CERT);
  if (!ok || !values.cert || !values.key) return undefined;
  const { cert, key } = values;
  const cc: ClientCertConfig = { certFile: cert.path, keyFile: key.path, cert: '', key: '' };
  ctx.afterReads.push(() => {
    if (cert.text === null || key.text === null) return;
    cc.cert = cert.text;
    cc.key = key.text;
    try {
      // node:tls only for configs with client certificates: the others never load it.
      process.getBuiltinModule('node:tls').createSecureContext({ cert: cc.cert, key: cc.key });
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

function readTarget(ctx: Ctx, item: Field, index: number, seen: Map<string, FirstUse>, groups: Set<string>): TargetRead | null {
  const e = openNamedEntry(ctx, item, index, { key: 'targets', noun: 'target', expected: 'name, group and host or url', spec: TARGET }, seen);
  if (!e) return null;
  const { name, group, url, resolve } = e.values;
  const f = e.fields;
  if (group !== undefined) groups.add(group);

  let host = e.values.host ?? undefined;
  let port = f.get('port')?.node ? e.values.port : undefined;
  if (url !== null) {
    // host/port next to url are redundant at best; different values are a contradiction.
    if (host !== undefined && host.toLowerCase() !== url.host)
      e.bad(f.get('host')!, `host '${host}' conflicts with url (host '${url.host}'): give either url or host/port`);
    if (port !== undefined && port !== url.port) e.bad(f.get('port')!, `port ${port} conflicts with url (port ${url.port}): give either url or host/port`);
    host = url.host;
    port = url.port;
  } else if (host === undefined && !f.get('host')?.node && !f.get('url')?.node) {
    ctx.report(e.map.node, joinKey(e.path, 'host'), "missing required key 'host' (or give url)");
    e.ok = false;
  }
  if (resolve === 'all' && f.get('address')?.node) {
    e.bad(f.get('resolve')!, 'resolve: all cannot be combined with address (address pins one endpoint): remove one of them');
  }
  const sni = f.get('sni')?.node ? e.values.sni : host !== undefined && ipLiteral(host) === null ? host : null;

  const ccField = f.get('client_cert');
  const clientCert = readClientCert(ctx, ccField);
  if (clientCert === undefined) e.ok = false;

  if (!e.ok || name === undefined || group === undefined || host === undefined || clientCert === undefined) return null;
  // Spelt out rather than spread from e.values: one small object per target, in a fleet of thousands.
  const { address, role, starttls } = e.values;
  const target: TargetConfig = {
    name,
    group,
    host,
    port: port ?? e.values.port,
    address,
    resolve,
    sni,
    role,
    starttls,
    url: url?.url ?? null,
    clientCert,
    labels: e.values.labels ?? {},
  };
  return { target, at: e.map.node, path: e.path };
}

/** A valid target and where it is written, for checks other sections make against it. */
export interface TargetRead {
  target: TargetConfig;
  at: ConfigNode;
  path: string;
}

export interface TargetsRead {
  targets: TargetConfig[];
  /** The same targets with their positions. */
  read: TargetRead[];
  /** Every group a target names, including targets that had other errors (for policy checks). */
  groups: Set<string>;
}

export function readTargets(ctx: Ctx, field: Field | undefined, top: ConfigNode): TargetsRead {
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
