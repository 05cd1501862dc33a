// Prometheus exposition of the last completed scan. Endpoint and policy series are rebuilt from
// scratch after every scan, synchronously, so a scrape sees either the previous fleet or the new
// one, never a mix, and series of endpoints that left the config (or addresses that no longer
// resolve) vanish. Change counters come from the persisted baseline so they survive restarts.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CertificateInfo } from '../chain/types.js';
import type { Config } from '../config/types.js';
import type { BaselineEntry } from '../fleet/types.js';
import type { EndpointResult, ScanResult } from '../pipeline/types.js';
import type { RevocationUrlHealth } from '../revocation/types.js';

const ENDPOINT = ['target', 'group', 'address'] as const;
const CERT = [...ENDPOINT, 'position', 'subject', 'issuer', 'serial', 'sha256'] as const;

/** A hostile server could present hundreds of certificates; the scrape stays bounded. */
export const MAX_CERT_SERIES_PER_ENDPOINT = 16;
/** Label values are truncated so one odd subject cannot bloat every scrape. */
const MAX_LABEL_LENGTH = 256;

export interface MetricsOptions {
  version: string;
  /** Default process/Node.js metrics (CPU, memory, event loop); on unless false. */
  processMetrics?: boolean;
}

/** What the process metrics say about the config in use. */
export type LoadedConfig = Pick<Config, 'targets' | 'scan'>;

type EndpointLabels = Record<(typeof ENDPOINT)[number], string>;

export class ChainwatchMetrics {
  /** Process, scan and config metrics, and whatever other outputs register (alert deliveries). */
  readonly registry = new Registry();
  /**
   * Endpoint and policy series. They change only when a scan completes, so they are rendered
   * then, once, instead of on every scrape (a large fleet is megabytes of text).
   */
  readonly fleetRegistry = new Registry();
  private fleetText: Promise<string>;

  private readonly probeSuccess = this.fleetGauge('chainwatch_probe_success', 'Whether the last probe obtained the presented chain (1) or not (0).', ENDPOINT);
  private readonly probeDuration = this.fleetGauge('chainwatch_probe_duration_seconds', 'Duration of the last probe: TCP connect plus TLS handshake.', ENDPOINT);
  private readonly probeError = this.fleetGauge('chainwatch_probe_error_info', 'Why the last probe obtained no chain; kind is dns, refused, timeout, reset, not_tls, handshake or unreachable.', [...ENDPOINT, 'kind']);
  private readonly certNotAfter = this.fleetGauge('chainwatch_cert_not_after_timestamp_seconds', 'notAfter of each presented certificate (position 0 = leaf, in presented order), Unix seconds.', CERT);
  private readonly certNotBefore = this.fleetGauge('chainwatch_cert_not_before_timestamp_seconds', 'notBefore of each presented certificate (position 0 = leaf, in presented order), Unix seconds.', CERT);
  private readonly chainInfo = this.fleetGauge('chainwatch_chain_info', 'The presented leaf and the CA that issued it, identified by key.', [...ENDPOINT, 'leaf_sha256', 'issuer_dn', 'issuer_key_id', 'root_dn']);
  private readonly chainTrusted = this.fleetGauge('chainwatch_chain_trusted', 'Whether a path from the leaf to a configured trust anchor was built and verified.', ENDPOINT);
  private readonly chainHostname = this.fleetGauge('chainwatch_chain_hostname_match', 'Whether the leaf is valid for the configured host (or sni).', ENDPOINT);
  private readonly chainProblem = this.fleetGauge('chainwatch_chain_problem', 'A problem found in the presented chain, one series per problem.', [...ENDPOINT, 'problem']);
  private readonly tlsInfo = this.fleetGauge('chainwatch_tls_info', 'Negotiated TLS version and cipher suite of the last probe.', [...ENDPOINT, 'version', 'cipher']);
  private readonly certRevoked = this.fleetGauge('chainwatch_cert_revoked', 'Per presented certificate whose revocation status is known: 1 revoked, 0 good (position 0 = leaf).', [...ENDPOINT, 'position']);
  private readonly crlFetchSuccess = this.fleetGauge('chainwatch_crl_fetch_success', 'Whether the last fetch of the CRL at url gave a CRL verified with its issuer\'s key (1) or not (0).', ['url']);
  private readonly crlNextUpdate = this.fleetGauge('chainwatch_crl_next_update_timestamp_seconds', 'nextUpdate of the CRL held for url, Unix seconds.', ['url']);
  private readonly crlFetchDuration = this.fleetGauge('chainwatch_crl_fetch_duration_seconds', 'Duration of the last request for the CRL at url.', ['url']);
  private readonly ocspResponseStatus = this.fleetGauge('chainwatch_ocsp_response_status', 'The last answer of the OCSP responder at url: successful, tryLater, unauthorized, …, or unreachable / invalid.', ['url', 'status']);
  private readonly certChanges = new Counter({
    name: 'chainwatch_cert_changes_total',
    help: 'Changes of the presented chain since the endpoint was first seen (persisted across restarts).',
    labelNames: ENDPOINT,
    registers: [this.fleetRegistry],
  });
  private readonly certLastChange = this.fleetGauge('chainwatch_cert_last_change_timestamp_seconds', 'When the presented chain last changed, Unix seconds; 0 = never changed since first seen.', ENDPOINT);
  private readonly policyConsistent = this.fleetGauge('chainwatch_policy_consistent', 'Whether every judged member of the policy chains to an allowed CA.', ['policy']);
  private readonly policyIssuers = this.fleetGauge('chainwatch_policy_issuers', 'Number of distinct CAs (by key) seen among the policy members.', ['policy']);
  private readonly policyDivergent = this.fleetGauge('chainwatch_policy_divergent_endpoints', 'Number of policy members whose CA is not an allowed one.', ['policy']);
  private readonly policyMemberDivergent = this.fleetGauge('chainwatch_policy_member_divergent', 'Per policy member: 1 divergent, 0 matching; members that could not be judged have no series.', ['policy', ...ENDPOINT]);

  private readonly scansTotal = new Counter({ name: 'chainwatch_scans_total', help: 'Completed scans.', registers: [this.registry] });
  private readonly scansSkipped = new Counter({
    name: 'chainwatch_scans_skipped_total',
    help: 'Scheduled scans skipped because the previous scan was still running.',
    registers: [this.registry],
  });
  private readonly scanDuration = new Histogram({
    name: 'chainwatch_scan_duration_seconds',
    help: 'Duration of completed scans.',
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    registers: [this.registry],
  });
  private readonly scanLastCompleted = this.gauge('chainwatch_scan_last_completed_timestamp_seconds', 'When the last scan completed, Unix seconds.', []);
  private readonly configReload = this.gauge('chainwatch_config_last_reload_successful', 'Whether the last config load or reload succeeded (0: the previous config is still in use).', []);
  private readonly configReloadTime = this.gauge('chainwatch_config_last_reload_success_timestamp_seconds', 'When the config was last loaded successfully, Unix seconds.', []);
  private readonly targetsGauge = this.gauge('chainwatch_targets', 'Targets in the active config.', []);
  private readonly policyJudgedLocally = this.gauge('chainwatch_policy_judged_locally', 'Whether all targets of the policy are scanned by this instance (1), or the policy spans shards and is judged whole only by the PromQL rules (0).', ['policy']);
  private readonly buildInfo = this.gauge('chainwatch_build_info', 'Always 1; the chainwatch version in a label.', ['version']);
  // The configured thresholds, so that rules and dashboards compare against the number the daemon
  // uses instead of a constant of their own.
  private readonly expiryWarning = this.gauge('chainwatch_expiry_warning_seconds', 'scan.expiry_warning: a certificate closer than this to its notAfter is expiring soon.', []);
  private readonly expiryCritical = this.gauge('chainwatch_expiry_critical_seconds', 'scan.expiry_critical: an expiring leaf closer than this to its notAfter is critical.', []);

  /** chainwatch_alert_deliveries_total{receiver,result}; for the alert senders. */
  readonly alertDeliveries = new Counter({
    name: 'chainwatch_alert_deliveries_total',
    help: 'Alert deliveries to Alertmanager and webhooks by receiver and result.',
    labelNames: ['receiver', 'result'],
    registers: [this.registry],
  });

  constructor(options: MetricsOptions) {
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.buildInfo.set({ version: options.version }, 1);
    this.fleetText = this.fleetRegistry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text for a scrape. */
  async render(): Promise<string> {
    // Both halves are taken in this tick, so they always come from the same scan.
    const [own, fleet] = await Promise.all([this.registry.metrics(), this.fleetText]);
    return `${own}\n${fleet}`;
  }

  /**
   * Replaces every endpoint and policy series with what this scan found and counts the scan.
   * Synchronous on purpose: no scrape can observe the fleet half-replaced.
   */
  updateFromScan(scan: ScanResult, baseline: readonly BaselineEntry[]): void {
    const fleet = [
      this.probeSuccess, this.probeDuration, this.probeError, this.certNotAfter, this.certNotBefore,
      this.chainInfo, this.chainTrusted, this.chainHostname, this.chainProblem, this.tlsInfo,
      this.certLastChange, this.policyConsistent, this.policyIssuers, this.policyDivergent,
      this.policyMemberDivergent, this.certRevoked, this.crlFetchSuccess, this.crlNextUpdate,
      this.crlFetchDuration, this.ocspResponseStatus,
    ];
    for (const g of fleet) g.reset();
    this.certChanges.reset();

    const present = new Set<string>();
    for (const result of scan.endpoints) {
      present.add(result.probe.endpoint.key);
      this.setEndpoint(result);
    }
    for (const entry of baseline) {
      // The baseline keeps departed endpoints for a grace period; their series must still go.
      if (!present.has(entry.key)) continue;
      const labels = endpointLabels(entry.target, entry.group, entry.address);
      this.certChanges.inc(labels, entry.changes);
      this.certLastChange.set(labels, entry.lastChange === null ? 0 : seconds(entry.lastChange));
    }
    for (const policy of scan.policies) {
      const p = { policy: label(policy.name) };
      this.policyConsistent.set(p, policy.consistent ? 1 : 0);
      this.policyIssuers.set(p, policy.issuers.length);
      this.policyDivergent.set(p, policy.divergent.length);
      for (const m of policy.matching) this.policyMemberDivergent.set({ ...p, ...endpointLabels(m.target, m.group, m.address) }, 0);
      for (const m of policy.divergent) this.policyMemberDivergent.set({ ...p, ...endpointLabels(m.target, m.group, m.address) }, 1);
    }

    for (const u of scan.revocationUrls ?? []) this.setRevocationUrl(u);

    // Registry.metrics() reads every value synchronously before its first await, so this
    // snapshot is exactly the state set above.
    this.fleetText = this.fleetRegistry.metrics();

    this.scansTotal.inc();
    this.scanDuration.observe(Math.max(0, scan.finishedAt.getTime() - scan.startedAt.getTime()) / 1000);
    this.scanLastCompleted.set(scan.finishedAt.getTime() / 1000);
  }

  scanSkipped(): void {
    this.scansSkipped.inc();
  }

  /** After a config load or reload: `loaded` is the config now in use, absent when it was refused. */
  configLoaded(ok: boolean, loaded?: LoadedConfig, at: Date = new Date()): void {
    this.configReload.set(ok ? 1 : 0);
    if (!ok || loaded === undefined) return;
    this.configReloadTime.set(at.getTime() / 1000);
    this.targetsGauge.set(loaded.targets.length);
    this.expiryWarning.set(loaded.scan.expiryWarningMs / 1000);
    this.expiryCritical.set(loaded.scan.expiryCriticalMs / 1000);
  }

  /** Which policies this instance judges completely; set with each config (sharding). */
  policiesJudgedLocally(judged: ReadonlyMap<string, boolean>): void {
    this.policyJudgedLocally.reset();
    for (const [policy, whole] of judged) this.policyJudgedLocally.set({ policy: label(policy) }, whole ? 1 : 0);
  }

  private setEndpoint(result: EndpointResult): void {
    const { probe, analysis } = result;
    const ep = probe.endpoint;
    const labels = endpointLabels(ep.target, ep.group, ep.address);
    this.probeSuccess.set(labels, probe.error === null ? 1 : 0);
    this.probeDuration.set(labels, probe.durationMs / 1000);
    if (probe.error !== null) this.probeError.set({ ...labels, kind: probe.error.kind }, 1);
    if (probe.tls !== null && probe.tls.version !== null) {
      this.tlsInfo.set({ ...labels, version: probe.tls.version, cipher: label(probe.tls.cipher ?? '') }, 1);
    }
    if (analysis === null) return;

    analysis.chain.slice(0, MAX_CERT_SERIES_PER_ENDPOINT).forEach((cert, position) => {
      const c = { ...labels, ...certLabels(cert, position) };
      this.certNotAfter.set(c, seconds(cert.notAfter));
      this.certNotBefore.set(c, seconds(cert.notBefore));
    });
    const leaf = analysis.chain[0];
    this.chainInfo.set(
      {
        ...labels,
        leaf_sha256: leaf?.sha256 ?? '',
        issuer_dn: label(analysis.issuer?.dn ?? ''),
        issuer_key_id: analysis.issuer?.keyId ?? '',
        root_dn: label(analysis.root?.dn ?? ''),
      },
      1,
    );
    this.chainTrusted.set(labels, analysis.trusted ? 1 : 0);
    this.chainHostname.set(labels, analysis.hostnameMatch ? 1 : 0);
    for (const problem of new Set(analysis.problems)) this.chainProblem.set({ ...labels, problem }, 1);
    result.revocation?.slice(0, MAX_CERT_SERIES_PER_ENDPOINT).forEach((r, position) => {
      if (r && r.status !== 'unknown') this.certRevoked.set({ ...labels, position: String(position) }, r.status === 'revoked' ? 1 : 0);
    });
  }

  private setRevocationUrl(u: RevocationUrlHealth): void {
    if (!u.checked) return;
    const url = { url: label(u.url) };
    if (u.kind === 'ocsp') {
      if (u.ocspStatus) this.ocspResponseStatus.set({ ...url, status: u.ocspStatus }, 1);
      return;
    }
    this.crlFetchSuccess.set(url, u.reachable === true && u.error === null ? 1 : 0);
    if (u.nextUpdate) this.crlNextUpdate.set(url, seconds(u.nextUpdate));
    if (u.durationMs !== null) this.crlFetchDuration.set(url, u.durationMs / 1000);
  }

  private gauge<L extends string>(name: string, help: string, labelNames: readonly L[]): Gauge<L> {
    return new Gauge<L>({ name, help, labelNames, registers: [this.registry] });
  }

  private fleetGauge<L extends string>(name: string, help: string, labelNames: readonly L[]): Gauge<L> {
    return new Gauge<L>({ name, help, labelNames, registers: [this.fleetRegistry] });
  }
}

export function createMetrics(options: MetricsOptions): ChainwatchMetrics {
  return new ChainwatchMetrics(options);
}

function endpointLabels(target: string, group: string, address: string | null): EndpointLabels {
  return { target: label(target), group: label(group), address: address ?? '' };
}

function certLabels(cert: CertificateInfo, position: number) {
  return {
    position: String(position),
    subject: label(cert.subject),
    issuer: label(cert.issuer),
    serial: label(cert.serialNumber),
    sha256: cert.sha256,
  };
}

function label(value: string): string {
  return value.length > MAX_LABEL_LENGTH ? value.slice(0, MAX_LABEL_LENGTH - 1) + '…' : value;
}

function seconds(iso: string): number {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? 0 : ms / 1000;
}
