// The web configuration file (`server.web_config_file`, `--web.config.file`), in the Prometheus
// exporter-toolkit format as it is, so one file can protect every exporter on a host: TLS,
// bcrypt basic-auth users and extra response headers. Pure: text in, a WebConfig or a
// ConfigError pointing at file:line:col out; the files it names are read by the daemon.
import { isAbsolute, resolve } from 'node:path';
import { isMap, isScalar, LineCounter, type Node, parseDocument, type YAMLMap } from 'yaml';
import { ConfigError, type ConfigIssue } from './errors.js';

export const CLIENT_AUTH_TYPES = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
] as const;
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];

/** Go's names of the TLS 1.2 suites chainwatch serves, as OpenSSL names them. TLS 1.3 suites are not configurable, as in Go. */
export const CIPHER_SUITES: Readonly<Record<string, string>> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
};

const MIN_VERSIONS: Readonly<Record<string, 'TLSv1.2' | 'TLSv1.3'>> = { TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' };

export interface WebTls {
  certFile: string;
  keyFile: string;
  clientCaFile: string | null;
  clientAuth: ClientAuthType;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
  /** OpenSSL cipher list for TLS 1.2; null keeps Node's defaults. */
  ciphers: string | null;
}

export interface WebConfig {
  tls: WebTls | null;
  /** User name → bcrypt hash. */
  users: ReadonlyMap<string, string>;
  headers: Readonly<Record<string, string>>;
}

// Headers the server itself owns: letting the file set them would break framing or caching.
const RESERVED_HEADERS = new Set(['content-length', 'content-type', 'transfer-encoding', 'connection', 'www-authenticate']);
const BCRYPT = /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/;

/** Reads web config text; `file` names it in messages and relative paths resolve against `dir`. */
export function parseWebConfig(text: string, file: string, dir: string): WebConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const issues: ConfigIssue[] = [];
  const report = (node: Node | null | undefined, key: string, message: string, offset?: number) => {
    const at = lines.linePos(offset ?? node?.range?.[0] ?? 0);
    issues.push({ file, line: at.line, column: at.col, key, message });
  };
  for (const e of doc.errors) report(null, '', e.message.split('\n')[0] ?? 'YAML syntax error', e.pos[0]);
  if (issues.length > 0) throw new ConfigError(issues);

  const top = doc.contents;
  const config: WebConfig = { tls: null, users: new Map(), headers: {} };
  if (top === null || (isScalar(top) && top.value === null)) return config;
  const root = mapOf(top, '', 'a mapping of tls_server_config, http_server_config and basic_auth_users', report);
  if (root === null) throw new ConfigError(issues);

  const fields = entries(root, '', ['tls_server_config', 'http_server_config', 'basic_auth_users'], report);
  const tlsNode = fields.get('tls_server_config');
  if (tlsNode !== undefined) config.tls = readTls(tlsNode, dir, report);
  const httpNode = fields.get('http_server_config');
  if (httpNode !== undefined) config.headers = readHeaders(httpNode, report);
  const usersNode = fields.get('basic_auth_users');
  if (usersNode !== undefined) config.users = readUsers(usersNode, report);
  if (issues.length > 0) throw new ConfigError(issues);
  return config;
}

type Report = (node: Node | null | undefined, key: string, message: string) => void;

function mapOf(node: Node | null, key: string, what: string, report: Report): YAMLMap | null {
  if (isMap(node)) return node;
  if (isScalar(node) && node.value === null) return null;
  report(node, key, `must be ${what}`);
  return null;
}

function entries(map: YAMLMap, parent: string, known: readonly string[], report: Report): Map<string, Node | null> {
  const out = new Map<string, Node | null>();
  for (const pair of map.items) {
    const keyNode = pair.key as Node | null;
    const name = isScalar(keyNode) ? String(keyNode.value) : '';
    const key = parent === '' ? name : `${parent}.${name}`;
    if (!known.includes(name)) {
      report(keyNode, key, `unknown key; chainwatch reads ${known.join(', ')} here`);
      continue;
    }
    out.set(name, pair.value as Node | null);
  }
  return out;
}

function str(node: Node | null | undefined, key: string, report: Report): string | null {
  if (isScalar(node) && typeof node.value === 'string' && node.value !== '') return node.value;
  report(node, key, 'must be a non-empty string');
  return null;
}

function readTls(node: Node | null, dir: string, report: Report): WebTls | null {
  const map = mapOf(node, 'tls_server_config', 'a mapping (cert_file, key_file, ...)', report);
  if (map === null) return null;
  const f = entries(map, 'tls_server_config', ['cert_file', 'key_file', 'client_ca_file', 'client_auth_type', 'min_version', 'cipher_suites'], report);
  const at = (p: string) => (isAbsolute(p) ? resolve(p) : resolve(dir, p));
  const path = (name: string): string | null => {
    const v = f.get(name);
    if (v === undefined) return null;
    const s = str(v, `tls_server_config.${name}`, report);
    return s === null ? null : at(s);
  };
  const certFile = path('cert_file');
  const keyFile = path('key_file');
  if (certFile === null || keyFile === null) {
    report(map, 'tls_server_config', 'needs both cert_file and key_file (PEM files, relative to the web config file)');
    return null;
  }
  const clientCaFile = path('client_ca_file');

  let clientAuth: ClientAuthType = clientCaFile === null ? 'NoClientCert' : 'RequireAndVerifyClientCert';
  const authNode = f.get('client_auth_type');
  if (authNode !== undefined) {
    const v = str(authNode, 'tls_server_config.client_auth_type', report);
    if (v !== null && (CLIENT_AUTH_TYPES as readonly string[]).includes(v)) clientAuth = v as ClientAuthType;
    else if (v !== null) report(authNode, 'tls_server_config.client_auth_type', `'${v}' is not one of ${CLIENT_AUTH_TYPES.join(', ')}`);
  }
  if ((clientAuth === 'VerifyClientCertIfGiven' || clientAuth === 'RequireAndVerifyClientCert') && clientCaFile === null) {
    report(authNode ?? map, 'tls_server_config.client_auth_type', `${clientAuth} verifies client certificates: set client_ca_file to the CA that issues them`);
  }

  let minVersion: WebTls['minVersion'] = 'TLSv1.2';
  const minNode = f.get('min_version');
  if (minNode !== undefined) {
    const v = str(minNode, 'tls_server_config.min_version', report);
    const mapped = v === null ? undefined : MIN_VERSIONS[v];
    if (mapped !== undefined) minVersion = mapped;
    else if (v !== null) report(minNode, 'tls_server_config.min_version', `'${v}' is not supported; use TLS12 or TLS13 (older versions are refused)`);
  }

  let ciphers: string | null = null;
  const suitesNode = f.get('cipher_suites');
  if (suitesNode !== undefined) {
    const names: string[] = [];
    const items = suitesNode !== null && 'items' in suitesNode && Array.isArray(suitesNode.items) ? (suitesNode.items as Node[]) : null;
    if (items === null) report(suitesNode, 'tls_server_config.cipher_suites', 'must be a list of Go cipher suite names');
    for (const item of items ?? []) {
      const name = str(item, 'tls_server_config.cipher_suites', report);
      if (name === null) continue;
      const openssl = CIPHER_SUITES[name];
      if (openssl === undefined)
        report(item, 'tls_server_config.cipher_suites', `'${name}' is not supported; use any of ${Object.keys(CIPHER_SUITES).join(', ')}`);
      else names.push(openssl);
    }
    if (names.length > 0) ciphers = [...new Set(names)].join(':');
  }
  return { certFile, keyFile, clientCaFile, clientAuth, minVersion, ciphers };
}

function readHeaders(node: Node | null, report: Report): Record<string, string> {
  const map = mapOf(node, 'http_server_config', 'a mapping (headers)', report);
  if (map === null) return {};
  const headersNode = entries(map, 'http_server_config', ['headers'], report).get('headers');
  const headers: Record<string, string> = {};
  const hmap = headersNode === undefined ? null : mapOf(headersNode, 'http_server_config.headers', 'a mapping of header name to value', report);
  for (const pair of hmap?.items ?? []) {
    const keyNode = pair.key as Node | null;
    const name = isScalar(keyNode) ? String(keyNode.value) : '';
    const key = `http_server_config.headers.${name}`;
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) report(keyNode, key, 'is not a valid HTTP header name');
    else if (RESERVED_HEADERS.has(name.toLowerCase())) report(keyNode, key, 'is set by chainwatch itself and cannot be overridden');
    const value = str(pair.value as Node | null, key, report);
    if (value !== null && /[\r\n\0]/.test(value)) report(pair.value as Node, key, 'must be one line');
    else if (value !== null) headers[name] = value;
  }
  return headers;
}

function readUsers(node: Node | null, report: Report): Map<string, string> {
  const users = new Map<string, string>();
  const map = mapOf(node, 'basic_auth_users', 'a mapping of user name to bcrypt hash', report);
  for (const pair of map?.items ?? []) {
    const keyNode = pair.key as Node | null;
    const name = isScalar(keyNode) ? String(keyNode.value) : '';
    const key = `basic_auth_users.${name}`;
    if (name === '' || name.includes(':')) report(keyNode, key, 'a user name must be non-empty and contain no colon');
    const hash = str(pair.value as Node | null, key, report);
    if (hash !== null && !BCRYPT.test(hash)) report(pair.value as Node, key, 'is not a bcrypt hash ($2y$10$...); make one with `htpasswd -nBC 10 USER`');
    else if (hash !== null) users.set(name, hash);
  }
  return users;
}
