// Prometheus exposition of the last completed scan. Endpoint and policy series are rebuilt from
// scratch after every scan, synchronously, so a scrape sees either the previous fleet or the new
// one, never a mix, and series of endpoints that left the config (or addresses that no longer
// resolve) vanish. Change counters come from the persisted baseline so they survive restarts.

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Config } from '../config/types.js';
import type { BaselineEntry } from '../fleet/types.js';
import type { ScanResult } from '../pipeline/types.js';
import { alertDeliveriesCounter, type DeliveryCounter } from './alerts/metrics.js';
import { type BodyPart, readBody } from './body.js';
import { renderFleet } from './exposition.js';
import { type Compressed, gzipPieces, inflated } from './gzip.js';

export { FLEET_FAMILIES, MAX_CERT_SERIES_PER_ENDPOINT } from './exposition.js';

export interface MetricsOptions {
  version: string;
  /** Default process/Node.js metrics (CPU, memory, event loop); on unless false. */
  processMetrics?: boolean;
}

/** What the process metrics say about the config in use. */
export type LoadedConfig = Pick<Config, 'targets' | 'scan'>;

/** One scrape's answer: parts sent one after the other (the fleet part is shared, never copied). */
export interface Scrape {
  contentType: string;
  /** 'gzip' when the parts are gzip members (a multi-member gzip stream, RFC 1952). */
  encoding: 'gzip' | null;
  body: BodyPart[];
}

export class ChainwatchMetrics {
  /** Process, scan and config metrics, and whatever other outputs register (alert deliveries). */
  readonly registry = new Registry();
  /**
   * Endpoint and policy series. They change only when a scan completes, so they are rendered
   * then, once, piece by piece into the compressor; a scrape sends those bytes as they are
   * (Prometheus asks for gzip). Only the compressed form is kept until the next scan, a tenth
   * of the text or less: a scraper that does not take gzip gets it decompressed as it is sent.
   */
  private fleet: FleetText;
  /** The scans handed in, published one after the other (see updateFromScan). */
  private publishing: Promise<void> = Promise.resolve();

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
  private readonly configReload = this.gauge(
    'chainwatch_config_last_reload_successful',
    'Whether the last config load or reload succeeded (0: the previous config is still in use).',
    [],
  );
  private readonly configReloadTime = this.gauge(
    'chainwatch_config_last_reload_success_timestamp_seconds',
    'When the config was last loaded successfully, Unix seconds.',
    [],
  );
  private readonly targetsGauge = this.gauge('chainwatch_targets', 'Targets in the active config.', []);
  private readonly policyJudgedLocally = this.gauge(
    'chainwatch_policy_judged_locally',
    'Whether all targets of the policy are scanned by this instance (1), or the policy spans shards and is judged whole only by the PromQL rules (0).',
    ['policy'],
  );
  // The configured thresholds, so that rules and dashboards compare against the number the daemon
  // uses instead of a constant of their own.
  private readonly expiryWarning = this.gauge(
    'chainwatch_expiry_warning_seconds',
    'scan.expiry_warning: a certificate closer than this to its notAfter is expiring soon.',
    [],
  );
  private readonly expiryCritical = this.gauge(
    'chainwatch_expiry_critical_seconds',
    'scan.expiry_critical: an expiring leaf closer than this to its notAfter is critical.',
    [],
  );
  private readonly buildInfo = this.gauge('chainwatch_build_info', 'Always 1; the chainwatch version in a label.', ['version']);

  /** chainwatch_alert_deliveries_total{receiver,result}; for the alert senders. */
  readonly alertDeliveries: DeliveryCounter = alertDeliveriesCounter(this.registry);

  constructor(options: MetricsOptions) {
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.buildInfo.set({ version: options.version }, 1);
    this.fleet = new FleetText(renderFleet({ startedAt: new Date(0), finishedAt: new Date(0), endpoints: [], policies: [], changes: [] }, []));
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text, whole (tests and tools; a scrape uses `scrape`). */
  async render(): Promise<string> {
    const scrape = await this.scrape(false);
    return (await readBody(scrape.body)).toString('utf8');
  }

  /** What a scrape sends; `gzip` when the scraper accepts it. */
  async scrape(gzipped: boolean): Promise<Scrape> {
    // Both halves are taken in this tick, so they always come from the same scan.
    const fleet = this.fleet.compressed;
    const own = this.registry.metrics();
    const ownBytes = Buffer.from(`${await own}\n`, 'utf8');
    if (!gzipped) return { contentType: this.contentType, encoding: null, body: [ownBytes, inflated(await fleet)] };
    return { contentType: this.contentType, encoding: 'gzip', body: [(await gzipPieces([ownBytes])).gzip, (await fleet).gzip] };
  }

  /**
   * Replaces every endpoint and policy series with what this scan found and counts the scan, once
   * the new series are compressed (a few hundred milliseconds at 10,000 endpoints); the returned
   * promise settles then. Until that moment a scrape gets the previous scan whole, at once, and
   * never waits for this one. Scans are published in the order they are handed in, all in one
   * synchronous step each, so no scrape sees one scan's series with another's counters.
   */
  updateFromScan(scan: ScanResult, baseline: readonly BaselineEntry[]): Promise<void> {
    const next = new FleetText(renderFleet(scan, baseline));
    const publish = (): void => {
      this.fleet = next;
      this.scansTotal.inc();
      this.scanDuration.observe(Math.max(0, scan.finishedAt.getTime() - scan.startedAt.getTime()) / 1000);
      this.scanLastCompleted.set(scan.finishedAt.getTime() / 1000);
    };
    // A failed compression is published too: a scrape then reports the error instead of old data.
    // One publication that threw must not hold back every later one.
    this.publishing = this.publishing.catch(() => undefined).then(() => next.compressed.then(publish, publish));
    return this.publishing;
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
    for (const [policy, whole] of judged) this.policyJudgedLocally.set({ policy }, whole ? 1 : 0);
  }

  private gauge<L extends string>(name: string, help: string, labelNames: readonly L[]): Gauge<L> {
    return new Gauge<L>({ name, help, labelNames, registers: [this.registry] });
  }
}

/** The fleet series of one scan, kept only gzip-compressed (see renderFleet). */
class FleetText {
  readonly compressed: Promise<Compressed>;

  constructor(text: Iterable<string>) {
    this.compressed = gzipPieces(text);
    // An unhandled rejection would outlive the scan that caused it; a scrape sees the error.
    this.compressed.catch(() => undefined);
  }
}

export function createMetrics(options: MetricsOptions): ChainwatchMetrics {
  return new ChainwatchMetrics(options);
}
