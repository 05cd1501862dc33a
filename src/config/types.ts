// The validated, normalised configuration. Every later stage reads only these types; the
// YAML loader (load.ts) is the one place that knows about files, keys and source positions.

export interface Config {
  /** Absolute path of the config file this was loaded from. */
  source: string;
  scan: ScanConfig;
  dns: DnsConfig;
  trust: TrustConfig;
  state: StateConfig;
  server: ServerConfig;
  alerting: AlertingConfig;
  targets: TargetConfig[];
  policies: PolicyConfig[];
}

export interface ScanConfig {
  /** node-cron expression, 5 or 6 fields. */
  schedule: string;
  /** One deadline per connection attempt, covering TCP connect and TLS handshake. */
  timeoutMs: number;
  /** Connections in flight at once. */
  concurrency: number;
  /** A certificate closer than this to notAfter is 'expires_soon'. */
  expiryWarningMs: number;
}

export interface DnsConfig {
  /** host or host:port ([v6]:port); empty means the system resolver. */
  servers: string[];
}

export interface TrustConfig {
  /** Absolute paths of the PEM bundles, as configured. */
  caFiles: string[];
  /** Contents of caFiles, read and checked at load time. */
  caPems: string[];
  systemRoots: boolean;
}

export interface StateConfig {
  /** Absolute directory for the persisted baseline. */
  path: string;
  /** An endpoint missing from the config this long is dropped from the baseline. */
  retentionMs: number;
}

export interface ServerConfig {
  listen: { host: string; port: number };
  /** Base URL people reach the status page at (links in alerts); default http://<listen>. */
  externalUrl: string | null;
}

export type WebhookFormat = 'teams' | 'slack' | 'generic';

export interface WebhookConfig {
  url: string;
  format: WebhookFormat;
}

export interface AlertingConfig {
  /** Alertmanager base URLs (an HA pair gets every alert). Empty: no push. */
  alertmanagerUrls: string[];
  webhooks: WebhookConfig[];
  /** How often firing alerts are re-sent to Alertmanager. */
  resendIntervalMs: number;
}

export interface ClientCertConfig {
  certFile: string;
  keyFile: string;
  /** PEM contents, read at load time. */
  cert: string;
  key: string;
}

export interface TargetConfig {
  name: string;
  group: string;
  host: string;
  port: number;
  /** Connect here instead of resolving host. */
  address: string | null;
  resolve: 'first' | 'all';
  /** SNI to send; null when none is sent (host is an IP address). */
  sni: string | null;
  role: string | null;
  /** Free-form labels (site, pool, ...): exported on metrics and used by policy scope. */
  labels: Record<string, string>;
  /** The URL the target was given as, if any. */
  url: string | null;
  clientCert: ClientCertConfig | null;
}

export type PolicyMatch = 'issuer' | 'root';

export interface PolicyConfig {
  name: string;
  /** Group whose issuing CAs are the allowed set; null: members must agree among themselves. */
  reference: string | null;
  members: string[];
  match: PolicyMatch;
  /** Target label the policy is judged within, separately per value (e.g. site); null: the whole fleet at once. */
  scope: string | null;
  /** Pinned issuing-CA key ids or SPKI SHA-256, lowercase hex without colons. */
  allowedIssuers: string[];
}
