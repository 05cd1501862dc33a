// The validated, normalised configuration. Every later stage reads only these types; the
// YAML loader (load.ts) is the one place that knows about files, keys and source positions.
// The simple sections' types come straight from the options table.
import type { DNS, POLICY, REVOCATION, SCAN, SERVER, STATE, TARGET, Values } from './options.js';

export interface Config {
  /** Absolute path of the config file this was loaded from. */
  source: string;
  scan: ScanConfig;
  dns: DnsConfig;
  trust: TrustConfig;
  state: StateConfig;
  server: ServerConfig;
  revocation: RevocationConfig;
  alerting: AlertingConfig;
  targets: TargetConfig[];
  policies: PolicyConfig[];
}

/** scan: schedule (node-cron, 5 or 6 fields), timeoutMs, concurrency, expiryWarningMs, expiryCriticalMs. */
export type ScanConfig = Values<typeof SCAN.children>;

/** dns: servers, as host or host:port ([v6]:port); empty means the system resolver. */
export type DnsConfig = Values<typeof DNS.children>;

export interface TrustConfig {
  /** Absolute paths of the PEM bundles, as configured. */
  caFiles: string[];
  /** Contents of caFiles, read and checked at load time. */
  caPems: string[];
  systemRoots: boolean;
}

/** state: path (absolute), retentionMs. */
export type StateConfig = Values<typeof STATE.children>;

/** server: listen, externalUrl (null: http://<listen>). */
export type ServerConfig = Values<typeof SERVER.children>;

/** revocation: enabled, refreshMs, timeoutMs, maxCrlBytes, staleWarningMs, ocsp. */
export type RevocationConfig = Values<typeof REVOCATION.children>;

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

/** The options of a target as the table declares them; the ones below are worked out from several keys. */
type TargetOptions = Values<typeof TARGET.children>;

export interface TargetConfig extends Omit<TargetOptions, 'name' | 'group' | 'host' | 'url' | 'sni'> {
  name: string;
  group: string;
  /** From host, or from url. */
  host: string;
  /** SNI to send; null when none is sent (host is an IP address). */
  sni: string | null;
  /** The URL the target was given as, if any. */
  url: string | null;
  clientCert: ClientCertConfig | null;
}

export type PolicyMatch = PolicyConfig['match'];

export interface PolicyConfig extends Omit<Values<typeof POLICY.children>, 'name' | 'members'> {
  name: string;
  members: string[];
}
