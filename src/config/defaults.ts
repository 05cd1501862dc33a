// Every config option, its default and what it does, as data. The validator takes its list of
// known keys and its defaults from this table, so an option cannot exist undocumented, and the
// README and config/example.yaml are checked against it by tests.

export type YamlValue = string | number | boolean | null | readonly string[];

export interface OptionSpec {
  /** Dotted path; `[]` marks a list of mappings, e.g. `targets[].port`. */
  key: string;
  /** What the value looks like, for people. */
  type: string;
  /** True when the option has no default and must be given (within its parent, if any). */
  required?: boolean;
  /** The default as it would be written in YAML; null means "not set". */
  default: YamlValue;
  /** When the default depends on other keys, the rule in words (then `default` is null). */
  defaultNote?: string;
  description: string;
}

export const OPTIONS: readonly OptionSpec[] = [
  { key: 'scan', type: 'mapping', default: null, description: 'When and how scans run.' },
  { key: 'scan.schedule', type: 'cron expression (5 or 6 fields)', default: '*/5 * * * *', description: 'When the daemon scans (node-cron syntax; 6 fields adds seconds).' },
  { key: 'scan.timeout', type: 'duration', default: '10s', description: 'One deadline per connection attempt, covering TCP connect and TLS handshake (at most 1h).' },
  { key: 'scan.concurrency', type: 'integer >= 1', default: 64, description: 'Connections in flight at once.' },
  { key: 'scan.expiry_warning', type: 'duration', default: '30d', description: "A certificate closer than this to its notAfter is reported as 'expires_soon'." },

  { key: 'dns', type: 'mapping', default: null, description: 'Name resolution for targets.' },
  { key: 'dns.servers', type: 'list of IP or IP:port ([v6]:port)', default: [], defaultNote: 'the system resolver (honours the hosts file)', description: 'DNS servers that replace the system resolver for target names; A and AAAA records are both queried.' },

  { key: 'trust', type: 'mapping', default: null, description: 'Trust anchors for chain validation.' },
  { key: 'trust.ca_files', type: 'list of paths', default: [], description: 'PEM bundles of trusted CA certificates; relative paths are relative to the config file.' },
  { key: 'trust.system_roots', type: 'boolean', default: true, description: "Also trust the runtime's built-in root CAs." },

  { key: 'state', type: 'mapping', default: null, description: 'The persisted baseline of chains seen.' },
  { key: 'state.path', type: 'path', default: './state', description: 'Directory for the baseline; relative paths are relative to the config file.' },
  { key: 'state.retention', type: 'duration', default: '7d', description: 'An endpoint missing from the config this long is dropped from the baseline.' },

  { key: 'server', type: 'mapping', default: null, description: 'The HTTP server: /metrics, /healthz, /readyz, /api/v1/status and the status page.' },
  { key: 'server.listen', type: 'host:port ([v6]:port)', default: '0.0.0.0:9862', description: 'Address to listen on; port 0 picks a free port.' },
  { key: 'server.external_url', type: 'http(s) URL', default: null, defaultNote: 'http://<listen>', description: 'Base URL people reach the status page at; used for links in alerts.' },

  { key: 'alerting', type: 'mapping', default: null, description: 'Where alerts go.' },
  { key: 'alerting.alertmanager_url', type: 'http(s) URL, or a list of them', default: null, description: 'Alertmanager base URL(s), API v2; every alert goes to each (an HA pair). Not set: no push.' },
  { key: 'alerting.resend_interval', type: 'duration', default: '1m', description: 'How often firing alerts are re-sent to Alertmanager (at most 24h; keep it below resolve_timeout).' },
  { key: 'alerting.webhooks', type: 'list of mappings', default: [], description: 'Chat webhooks: one message when an alert fires, one when it resolves.' },
  { key: 'alerting.webhooks[].url', type: 'http(s) URL', required: true, default: null, description: 'Webhook URL. Often holds a token: summaries show only its scheme and host.' },
  { key: 'alerting.webhooks[].format', type: 'teams | slack | generic', default: 'generic', description: 'Message shape the receiver expects.' },

  { key: 'targets', type: 'list of mappings', required: true, default: null, description: 'The endpoints to watch; at least one.' },
  { key: 'targets[].name', type: 'string', required: true, default: null, description: "Unique name; the 'target' label." },
  { key: 'targets[].group', type: 'string', required: true, default: null, description: 'Group the target belongs to; policies name groups.' },
  { key: 'targets[].host', type: 'hostname or IP', default: null, defaultNote: 'required unless url is given', description: 'Name used for SNI and the hostname check, and resolved to find the address.' },
  { key: 'targets[].port', type: 'integer 1-65535', default: 443, description: 'TCP port to connect to.' },
  { key: 'targets[].url', type: 'https:// or tls:// URL', default: null, description: 'Alternative to host/port: host and port are taken from the URL (443 when it names none). tls://host:port is for non-HTTP TLS services.' },
  { key: 'targets[].address', type: 'IP address', default: null, description: 'Connect here instead of resolving host; host is still used for SNI and the hostname check.' },
  { key: 'targets[].resolve', type: 'first | all', default: 'first', description: 'first: probe the first address of host; all: probe every A and AAAA record as its own endpoint.' },
  { key: 'targets[].sni', type: 'hostname', default: null, defaultNote: 'host; none when host is an IP address', description: 'Server name to send in the TLS handshake.' },
  { key: 'targets[].role', type: 'string', default: null, description: 'Free-form label, e.g. front-end, edge-internal.' },
  { key: 'targets[].labels', type: 'mapping of label name to string', default: null, description: 'Free-form labels, e.g. {site: dublin, pool: pool01}: exported on chainwatch_chain_info and chainwatch_policy_member_divergent, and what a policy scope names. Names follow Prometheus rules ([a-zA-Z_][a-zA-Z0-9_]*) and may not reuse a built-in label name.' },
  { key: 'targets[].client_cert', type: 'mapping', default: null, description: 'Client certificate to present, for MTLS ports.' },
  { key: 'targets[].client_cert.cert', type: 'path', required: true, default: null, description: 'PEM certificate (chain); relative to the config file.' },
  { key: 'targets[].client_cert.key', type: 'path', required: true, default: null, description: 'PEM private key (unencrypted); relative to the config file.' },

  { key: 'policies', type: 'list of mappings', default: [], description: 'CA-consistency rules across groups.' },
  { key: 'policies[].name', type: 'string', required: true, default: null, description: "Unique name; the 'policy' label." },
  { key: 'policies[].reference', type: 'group name', default: null, description: 'Group whose most common CA is the expected one; reference endpoints on another CA are divergent too, and a tie leaves no expected CA. Not set: the most common CA among the members is the baseline.' },
  { key: 'policies[].members', type: 'list of group names', required: true, default: null, description: 'Groups that must match.' },
  { key: 'policies[].match', type: 'issuer | root', default: 'issuer', description: 'Compare issuing CAs (by key) or root CAs.' },
  { key: 'policies[].scope', type: 'none | a target label name', default: 'none', description: 'Judge the policy separately within each value of this target label (e.g. site): one expected CA per value. Every target of the policy must carry the label.' },
  { key: 'policies[].allowed_issuers', type: 'list of hex', default: [], description: 'Pinned issuing CAs: key ids (SHA-1, 40 hex) or SPKI SHA-256 (64 hex); colons and case are ignored.' },
];

const BY_KEY = new Map(OPTIONS.map((o) => [o.key, o]));

export function option(key: string): OptionSpec {
  const spec = BY_KEY.get(key);
  if (!spec) throw new Error(`no option '${key}' in the options table`);
  return spec;
}

/** The YAML default of an option, parsed by the same code as a value the operator wrote. */
export function defaultOf(key: string): YamlValue {
  return option(key).default;
}

/** Known child keys of a mapping: '' for the top level, 'scan', 'targets[]', 'targets[].client_cert'. */
export function childKeys(parent: string): string[] {
  const prefix = parent === '' ? '' : `${parent}.`;
  const out: string[] = [];
  for (const { key } of OPTIONS) {
    if (!key.startsWith(prefix)) continue;
    const rest = key.slice(prefix.length);
    if (rest.includes('.')) continue;
    out.push(rest.replace(/\[\]$/, ''));
  }
  return out;
}

function yamlText(value: YamlValue): string {
  if (value === null) return '';
  if (Array.isArray(value)) return value.length === 0 ? '[]' : `[${value.join(', ')}]`;
  return typeof value === 'string' && /^[*\s]|\s/.test(value) ? `"${value}"` : String(value);
}

/** The options table as Markdown, for the README. */
export function optionsMarkdown(): string {
  const rows = OPTIONS.filter((o) => o.type !== 'mapping' || o.key.includes('.')).map((o) => {
    const def = o.required ? 'required' : o.defaultNote ?? (o.default === null ? 'not set' : `\`${yamlText(o.default)}\``);
    return `| \`${o.key}\` | ${o.type.replace(/\|/g, '\\|')} | ${def.replace(/\|/g, '\\|')} | ${o.description.replace(/\|/g, '\\|')} |`;
  });
  return ['| key | value | default | what it does |', '|---|---|---|---|', ...rows].join('\n');
}
