// Every config option, declared once: its YAML key, the kind of value (which is also its parser
// and its JSON Schema), its default and what it does. The validator's known keys, the defaults,
// the Config types of the simple sections, README's options table and docs/config.schema.json
// all come from this table, so an option cannot exist undocumented.
import { checkCaBundle, checkCertificateFile, checkPrivateKeyFile } from './files.js';
import {
  baseUrl,
  boolean,
  cronExpression,
  DEFAULT_SCHEDULE,
  dnsServer,
  duration,
  file,
  hostOrIp,
  integer,
  ipAddress,
  type JsonSchema,
  keyId,
  labelMap,
  listenAddress,
  listOf,
  oneOf,
  oneOrMore,
  path,
  scopeLabel,
  secretUrl,
  serverName,
  size,
  targetUrl,
  text,
  type ValueType,
} from './values.js';

/** A default as it would be written in YAML. */
export type YamlValue = string | number | boolean | readonly string[];

type Presence = 'default' | 'optional' | 'required';

interface Documented {
  description: string;
  /** Overrides the value type's text in the options table. */
  text?: string;
  /** When the default depends on other keys, the rule in words. */
  defaultNote?: string;
}

export interface Option<T, P extends Presence = Presence, F extends string | undefined = string | undefined> extends Documented {
  readonly kind: 'option';
  readonly type: ValueType<T>;
  readonly presence: P;
  /** The default as written in YAML; read by the same parser as an operator's value. */
  readonly default: YamlValue | null;
  /** The property of the read values, when it differs from the YAML key (timeout → timeoutMs). */
  readonly field: F;
}

/** A mapping of options; `list` when the YAML holds a list of such mappings (targets[]). */
export interface Mapping<C extends Children = Children> extends Documented {
  readonly kind: 'mapping';
  readonly children: C;
  readonly list: boolean;
  readonly required: boolean;
  /** JSON Schema constraints beyond the children's (e.g. host or url). */
  readonly schemaExtra?: JsonSchema;
}

// biome-ignore lint/suspicious/noExplicitAny: any value type fits a child slot
export type AnyOption = Option<any, Presence, string | undefined>;
export type Children = { readonly [key: string]: AnyOption | Mapping };

// A literal `field` renames the property; no field (undefined, or the unnarrowed default) keeps the key.
type FieldName<K extends string, O> = O extends Option<unknown, Presence, infer F> ? ([F] extends [string] ? (string extends F ? K : F) : K) : K;
type ValueOf<O> = O extends Option<infer T, infer P, string | undefined> ? (P extends 'default' ? T : P extends 'optional' ? T | null : T | undefined) : never;

/**
 * The values of a mapping's options, keyed by field name. A required option is undefined only
 * when it was missing or wrong, and then the mapping was reported as not ok.
 */
export type Values<C extends Children> = {
  -readonly [K in keyof C & string as C[K] extends AnyOption ? FieldName<K, C[K]> : never]: ValueOf<C[K]>;
};

interface OptionArgs<T, F extends string | undefined> extends Documented {
  type: ValueType<T>;
  field?: F;
}

/** An option with a default. */
export function option<T, const F extends string | undefined = undefined>(args: OptionArgs<T, F> & { default: YamlValue }): Option<T, 'default', F> {
  return { kind: 'option', presence: 'default', field: args.field as F, ...args };
}

/** An option that may be left out: its value is then null. */
export function optional<T, const F extends string | undefined = undefined>(args: OptionArgs<T, F>): Option<T, 'optional', F> {
  return { kind: 'option', presence: 'optional', field: args.field as F, default: null, ...args };
}

/** An option that must be given (within its parent mapping). */
export function mandatory<T, const F extends string | undefined = undefined>(args: OptionArgs<T, F>): Option<T, 'required', F> {
  return { kind: 'option', presence: 'required', field: args.field as F, default: null, ...args };
}

export function mapping<const C extends Children>(
  description: string,
  children: C,
  extra: Partial<Pick<Mapping, 'text' | 'defaultNote' | 'required' | 'schemaExtra'>> = {},
): Mapping<C> {
  return { kind: 'mapping', description, children, list: false, required: false, ...extra };
}

export function listOfMappings<const C extends Children>(
  description: string,
  children: C,
  extra: Partial<Pick<Mapping, 'text' | 'required' | 'schemaExtra'>> = {},
): Mapping<C> {
  return { kind: 'mapping', description, children, list: true, required: false, ...extra };
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export const SCAN = mapping('When and how scans run.', {
  schedule: option({ type: cronExpression, default: DEFAULT_SCHEDULE, description: 'When the daemon scans (node-cron syntax; 6 fields adds seconds).' }),
  timeout: option({
    type: duration({ positive: true, maxMs: HOUR_MS, maxText: '1h' }),
    field: 'timeoutMs',
    default: '10s',
    description: 'One deadline per connection attempt, covering TCP connect and TLS handshake (at most 1h).',
  }),
  concurrency: option({ type: integer(1, 1_000_000, 'integer >= 1'), default: 64, description: 'Connections in flight at once.' }),
  probe_processes: optional({
    type: integer(1, 64, 'integer 1-64'),
    field: 'probeProcesses',
    defaultNote: 'one per CPU available, at most 4',
    description:
      'Processes that share the probing of a scan (the daemon and chainwatch scan), each with a share of scan.concurrency; fewer for a small fleet (one per 128 endpoints). 1 keeps probing on one core.',
  }),
  expiry_warning: option({
    type: duration(),
    field: 'expiryWarningMs',
    default: '30d',
    description: "A certificate closer than this to its notAfter is reported as 'expires_soon'.",
  }),
  expiry_critical: option({
    type: duration(),
    field: 'expiryCriticalMs',
    default: '7d',
    description: 'A leaf closer than this to its notAfter makes ChainwatchCertificateExpiringSoon critical instead of warning; at most scan.expiry_warning.',
  }),
});

export const DNS = mapping('Name resolution for targets.', {
  servers: option({
    type: listOf(dnsServer, 'a list of DNS server addresses'),
    default: [],
    defaultNote: 'the system resolver (honours the hosts file)',
    description: 'DNS servers that replace the system resolver for target names; A and AAAA records are both queried.',
  }),
});

export const TRUST = mapping('Trust anchors for chain validation.', {
  ca_files: option({
    type: listOf(file(checkCaBundle), 'a list of PEM file paths', { shown: 'list of paths' }),
    field: 'caFiles',
    default: [],
    description: 'PEM bundles of trusted CA certificates; relative paths are relative to the config file.',
  }),
  system_roots: option({ type: boolean, field: 'systemRoots', default: true, description: "Also trust the runtime's built-in root CAs." }),
});

export const STATE = mapping('The persisted baseline of chains seen.', {
  path: option({
    type: path('a directory path'),
    default: './state',
    description: 'Directory for the baseline; relative paths are relative to the config file.',
  }),
  retention: option({
    type: duration({ positive: true }),
    field: 'retentionMs',
    default: '7d',
    description: 'An endpoint missing from the config this long is dropped from the baseline.',
  }),
});

export const SERVER = mapping('The HTTP server: /metrics, /healthz, /readyz, /api/v1/status and the status page.', {
  listen: option({ type: listenAddress, default: '0.0.0.0:9862', description: 'Address to listen on; port 0 picks a free port.' }),
  external_url: optional({
    type: baseUrl,
    field: 'externalUrl',
    defaultNote: 'http://<listen>',
    description: 'Base URL people reach the status page at; used for links in alerts.',
  }),
  web_config_file: optional({
    type: path(),
    field: 'webConfigFile',
    description:
      'Web configuration file (Prometheus exporter-toolkit format): TLS, basic-auth users, extra headers; relative to the config file. See docs/web-config.md.',
  }),
});

export const WEBHOOK = listOfMappings(
  'Chat webhooks: one message when an alert fires, one when it resolves.',
  {
    url: mandatory({ type: secretUrl, description: 'Webhook URL. Often holds a token: summaries show only its scheme and host.' }),
    format: option({ type: oneOf(['teams', 'slack', 'generic'], 'a webhook format'), default: 'generic', description: 'Message shape the receiver expects.' }),
  },
  { text: 'list of mappings' },
);

export const ALERTING = mapping('Where alerts go.', {
  alertmanager_url: option({
    type: oneOrMore(baseUrl, 'http(s) URL, or a list of them'),
    field: 'alertmanagerUrls',
    default: [],
    defaultNote: 'not set',
    description: 'Alertmanager base URL(s), API v2; every alert goes to each (an HA pair). Not set: no push.',
  }),
  resend_interval: option({
    type: duration({ positive: true, maxMs: DAY_MS, maxText: '24h' }),
    field: 'resendIntervalMs',
    default: '1m',
    description: 'How often firing alerts are re-sent to Alertmanager (at most 24h; keep it below resolve_timeout).',
  }),
  webhooks: WEBHOOK,
});

export const CLIENT_CERT = mapping('Client certificate to present, for MTLS ports.', {
  cert: mandatory({ type: file(checkCertificateFile), description: 'PEM certificate (chain); relative to the config file.' }),
  key: mandatory({ type: file(checkPrivateKeyFile), description: 'PEM private key (unencrypted); relative to the config file.' }),
});

/** Protocols whose STARTTLS exchange the probe can speak before its TLS handshake. */
export const STARTTLS_PROTOCOLS = ['smtp', 'imap', 'pop3', 'ldap', 'xmpp', 'ftp', 'postgres'] as const;
export type StartTlsProtocol = (typeof STARTTLS_PROTOCOLS)[number];

export const TARGET = listOfMappings(
  'The endpoints to watch; at least one.',
  {
    name: mandatory({ type: text(), description: "Unique name; the 'target' label." }),
    group: mandatory({ type: text(), description: 'Group the target belongs to; policies name groups.' }),
    host: optional({
      type: hostOrIp,
      defaultNote: 'required unless url is given',
      description: 'Name used for SNI and the hostname check, and resolved to find the address.',
    }),
    port: option({ type: integer(1, 65535, 'integer 1-65535', 'a port number'), default: 443, description: 'TCP port to connect to.' }),
    url: optional({
      type: targetUrl,
      description: 'Alternative to host/port: host and port are taken from the URL (443 when it names none). tls://host:port is for non-HTTP TLS services.',
    }),
    address: optional({ type: ipAddress, description: 'Connect here instead of resolving host; host is still used for SNI and the hostname check.' }),
    resolve: option({
      type: oneOf(['first', 'all'], 'a resolve mode'),
      default: 'first',
      description: 'first: probe the first address of host; all: probe every A and AAAA record as its own endpoint.',
    }),
    sni: optional({ type: serverName, defaultNote: 'host; none when host is an IP address', description: 'Server name to send in the TLS handshake.' }),
    role: optional({ type: text(), description: 'Free-form label, e.g. front-end, edge-internal.' }),
    labels: optional({
      type: labelMap,
      defaultNote: 'none',
      description:
        'Free-form labels, e.g. {site: dublin, pool: pool01}: exported on chainwatch_chain_info and chainwatch_policy_member_divergent, and what a policy scope names. Names follow Prometheus rules ([a-zA-Z_][a-zA-Z0-9_]*) and may not reuse a built-in label name.',
    }),
    starttls: optional({
      type: oneOf(STARTTLS_PROTOCOLS, 'a STARTTLS protocol'),
      description:
        'Speak this protocol in clear text and ask for STARTTLS before the TLS handshake (xmpp: server-to-server namespace on port 5269, client namespace elsewhere). Not set: TLS from the first byte.',
    }),
    client_cert: CLIENT_CERT,
  },
  { required: true, schemaExtra: { anyOf: [{ required: ['host'] }, { required: ['url'] }] } },
);

export const POLICY = listOfMappings('CA-consistency rules across groups.', {
  name: mandatory({ type: text(), description: "Unique name; the 'policy' label." }),
  reference: optional({
    type: text('a group name'),
    text: 'group name',
    description:
      'Group whose most common CA is the expected one; reference endpoints on another CA are divergent too, and a tie leaves no expected CA. Not set: the most common CA among the members is the baseline.',
  }),
  members: mandatory({ type: listOf(text(), 'a list of group names', { unique: true, shown: 'list of group names' }), description: 'Groups that must match.' }),
  match: option({ type: oneOf(['issuer', 'root'], 'a match mode'), default: 'issuer', description: 'Compare issuing CAs (by key) or root CAs.' }),
  scope: optional({
    type: scopeLabel,
    defaultNote: 'none',
    description:
      'Judge the policy separately within each value of this target label (e.g. site): one expected CA per value. Every target of the policy must carry the label.',
  }),
  allowed_issuers: option({
    type: listOf(keyId, 'a list of hex key ids (in quotes)', { unique: true }),
    field: 'allowedIssuers',
    default: [],
    description: 'Pinned issuing CAs: key ids (SHA-1, 40 hex) or SPKI SHA-256 (64 hex); colons and case are ignored.',
  }),
});

export const REVOCATION = mapping('Revocation checks of every presented certificate: CRL distribution points, OCSP responders and stapled OCSP responses.', {
  enabled: option({
    type: boolean,
    default: true,
    description: 'Check revocation; off: no CRL or OCSP request is made and reports carry no revocation status.',
  }),
  refresh: option({
    type: duration({ positive: true }),
    field: 'refreshMs',
    default: '1h',
    description: 'A fetched CRL or OCSP answer is reused this long (never past its nextUpdate), so a fleet sharing one CA fetches its CRL once per interval.',
  }),
  timeout: option({
    type: duration({ positive: true, maxMs: HOUR_MS, maxText: '1h' }),
    field: 'timeoutMs',
    default: '10s',
    description: 'One deadline per CRL or OCSP request, covering connect, redirects and the body (at most 1h).',
  }),
  max_crl_size: option({
    type: size({ maxBytes: 1024 ** 3, maxText: '1GB' }),
    field: 'maxCrlBytes',
    default: '20MB',
    description: 'A CRL larger than this is refused (its certificates become revocation_unknown).',
  }),
  stale_warning: option({
    type: duration(),
    field: 'staleWarningMs',
    default: '24h',
    description: 'A CRL whose nextUpdate is closer than this is reported as expiring (a CA that stopped publishing).',
  }),
  ocsp: option({ type: boolean, default: true, description: 'Ask the OCSP responder a certificate names; a stapled OCSP response is checked either way.' }),
});

/** The whole file. */
export const ROOT = mapping('A chainwatch configuration.', {
  scan: SCAN,
  dns: DNS,
  trust: TRUST,
  state: STATE,
  server: SERVER,
  revocation: REVOCATION,
  alerting: ALERTING,
  targets: TARGET,
  policies: POLICY,
});

// --- The table, flattened -------------------------------------------------------------------

/** One row of the options table: a dotted key (`[]` marks a list of mappings, `targets[].port`). */
export interface OptionRow {
  key: string;
  /** What the value looks like, for people. */
  type: string;
  /** True when the option has no default and must be given (within its parent, if any). */
  required: boolean;
  /** The default as it would be written in YAML; null means "not set". */
  default: YamlValue | null;
  defaultNote?: string;
  description: string;
  spec: AnyOption | Mapping;
}

function flatten(children: Children, prefix: string): OptionRow[] {
  const rows: OptionRow[] = [];
  for (const [name, spec] of Object.entries(children)) {
    const key = prefix === '' ? name : `${prefix}.${name}`;
    if (spec.kind === 'option') {
      rows.push({
        key,
        type: spec.text ?? spec.type.text,
        required: spec.presence === 'required',
        default: spec.default,
        defaultNote: spec.defaultNote,
        description: spec.description,
        spec,
      });
      continue;
    }
    rows.push({
      key,
      type: spec.text ?? (spec.list ? 'list of mappings' : 'mapping'),
      required: spec.required,
      default: spec.list && !spec.required ? [] : null,
      defaultNote: spec.defaultNote,
      description: spec.description,
      spec,
    });
    rows.push(...flatten(spec.children, spec.list ? `${key}[]` : key));
  }
  return rows;
}

export const OPTIONS: readonly OptionRow[] = flatten(ROOT.children, '');

const BY_KEY = new Map(OPTIONS.map((o) => [o.key, o]));

export function optionRow(key: string): OptionRow {
  const row = BY_KEY.get(key);
  if (!row) throw new Error(`no option '${key}' in the options table`);
  return row;
}

/** The default of an option as written in YAML (for writing configs, e.g. import-topology). */
export function defaultOf(key: string): YamlValue | null {
  return optionRow(key).default;
}

/** Where else in the table a key lives, for keys put in the wrong section. */
export function homeOf(leaf: string): string | null {
  return OPTIONS.find((o) => o.key.split('.').at(-1)?.replace(/\[\]$/, '') === leaf)?.key ?? null;
}

function yamlText(value: YamlValue): string {
  if (Array.isArray(value)) return value.length === 0 ? '[]' : `[${value.join(', ')}]`;
  return typeof value === 'string' && /^[*\s]|\s/.test(value) ? `"${value}"` : String(value);
}

const cell = (s: string): string => s.replace(/\|/g, '\\|');

/** The options table as Markdown, for README and docs/config.md. */
export function optionsMarkdown(): string {
  // Top-level sections are headings, not options; lists of mappings (targets) are options.
  const rows = OPTIONS.filter((o) => o.spec.kind === 'option' || o.spec.list || o.key.includes('.')).map((o) => {
    const def = o.required ? 'required' : (o.defaultNote ?? (o.default === null ? 'not set' : `\`${yamlText(o.default)}\``));
    return `| \`${o.key}\` | ${cell(o.type)} | ${cell(def)} | ${cell(o.description)} |`;
  });
  return ['| key | value | default | what it does |', '|---|---|---|---|', ...rows].join('\n');
}
