// `chainwatch run`: the loop. Scans on a schedule, reloads the config, shuts down cleanly; what
// the outside world reads (metrics, the status page and API, readiness) is published only when a
// scan completes. What is served lives in routes.ts, how scans are logged in scan-log.ts, and how
// state files move in state-dir.ts.

import { createHash } from 'node:crypto';
import { resolve as resolvePath } from 'node:path';
import { ConfigError } from '../config/errors.js';
import { loadConfig, MAX_CONFIG_BYTES, parseConfig, readConfigFile } from '../config/load.js';
import type { Config } from '../config/types.js';
import { BaselineStore } from '../fleet/baseline-store.js';
import { StateLockedError } from '../fleet/state-lock.js';
import { createLogger, type Logger } from '../log/logger.js';
import { type ChainwatchMetrics, createMetrics } from '../output/metrics.js';
import type { PageContext } from '../output/page/view.js';
import { buildStatus, STATUS_CHANGES, type StatusSnapshot } from '../output/status.js';
import type { ScanSummary } from '../output/summary.js';
import { runScan } from '../pipeline/scan.js';
import type { ScanResult } from '../pipeline/types.js';
import { formatShard, type Shard, type ShardView, shardConfig } from '../targets/shard.js';
import { FileRefused, readRegularFile } from '../util/fs.js';
import { Alerting } from './alerting.js';
import { collectGarbageNow, collectGarbageSoon } from './collect-garbage.js';
import { type ConfigWatcher, watchConfigFile } from './config-watch.js';
import { httpConnectionCap, openFileLimit } from './fd-budget.js';
import { HttpFront } from './http/front.js';
import type { RouteTable } from './http/routes.js';
import { loadWebSetup, type WebSetup } from './http/web-setup.js';
import { daemonRoutes } from './routes.js';
import { ScanLog } from './scan-log.js';
import { type ScanReason, ScanScheduler } from './scheduler.js';
import { moveStateFiles } from './state-dir.js';
import { chainwatchVersion } from './version.js';

/** Shutdown waits this long for an aborted scan to wind down before flushing anyway. */
const SHUTDOWN_SCAN_GRACE_MS = 3000;
/** A scan still running after this long logs its progress, and again at this interval. */
const SCAN_PROGRESS_EVERY_MS = 30_000;

export interface DaemonOptions {
  log?: Logger;
  /** Handle SIGTERM/SIGINT (stop) and SIGHUP (reload). Default true for runDaemon. */
  signals?: boolean;
  /** Watch the config file and reload when it changes. Default true. */
  watchConfig?: boolean;
  /** Scan only this shard's share of the targets (`--shard I/N`); default the whole config. */
  shard?: Shard;
  /** `--web.config.file`: overrides server.web_config_file. */
  webConfigFile?: string;
}

const WHOLE: Shard = { index: 0, count: 1 };

/** The config file as this instance sees it: restricted to its shard, with what it judges whole. */
async function loadShard(configArg: string, shard: Shard): Promise<ShardView> {
  return shardConfig(await loadConfig(configArg), shard);
}

export interface DaemonHandle {
  /** Base URL of the HTTP server. */
  url(): string;
  config(): Config;
  /** Re-reads the config file; true when the new config took effect. */
  reload(): Promise<boolean>;
  stop(): Promise<void>;
  /** Resolves once the daemon has stopped (after stop() or a signal). */
  readonly stopped: Promise<void>;
}

/** Runs the daemon until SIGTERM/SIGINT; resolves with the process exit code. */
export async function runDaemon(configFile: string, options: DaemonOptions = {}): Promise<number> {
  const log = options.log ?? createLogger();
  let daemon: DaemonHandle;
  try {
    daemon = await startDaemon(configFile, { signals: true, ...options, log });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`chainwatch: the config is not valid, not starting:\n${err.message}\n`);
      log.error('config is not valid; not starting', { file: configFile, issues: err.issues });
      return 2;
    }
    if (err instanceof StateLockedError) {
      process.stderr.write(`chainwatch: not starting: ${err.message}\n`);
      log.error('state directory is in use by another chainwatch; not starting', { reason: err.message });
      return 2;
    }
    log.error('chainwatch could not start', { err });
    process.stderr.write(`chainwatch: could not start: ${(err as Error).message}\n`);
    return 1;
  }
  await daemon.stopped;
  return 0;
}

/** Starts the daemon; throws ConfigError for a bad config and an Error when it cannot listen. */
export async function startDaemon(configFile: string, options: DaemonOptions = {}): Promise<DaemonHandle> {
  const log = options.log ?? createLogger();
  const file = resolvePath(configFile);
  // One read: the parse and the change detection see the same bytes.
  const { text, sha256 } = await readConfigFile(configFile);
  const metrics = createMetrics({ version: chainwatchVersion() });
  const { config, judgedLocally } = shardConfig(await parseConfig(text, configFile), options.shard ?? WHOLE);
  metrics.policiesJudgedLocally(judgedLocally);
  metrics.configLoaded(true, config);
  const baseline = await BaselineStore.open(config.state.path, log.child({ component: 'baseline' }));
  const daemon = new Daemon(configFile, file, config, metrics, baseline, log, options, sha256);
  try {
    await daemon.start();
  } catch (err) {
    await baseline.close();
    throw err;
  }
  return daemon;
}

class Daemon implements DaemonHandle {
  private http: HttpFront | null = null;
  private web: WebSetup | null = null;
  private readonly routes: RouteTable;
  private readonly scheduler: ScanScheduler;
  private readonly scanLog: ScanLog;
  private readonly alerting: Alerting;
  private watcher: ConfigWatcher | null = null;
  private status: StatusSnapshot | null = null;
  private reloadOk = true;
  private scanAbort: AbortController | null = null;
  private stopping: Promise<void> | null = null;
  private reloading: Promise<boolean> = Promise.resolve(true);
  private readonly signalHandlers: [NodeJS.Signals, () => void][] = [];
  private resolveStopped!: () => void;
  readonly stopped = new Promise<void>((r) => (this.resolveStopped = r));

  constructor(
    private readonly configArg: string,
    private readonly file: string,
    private cfg: Config,
    private readonly metrics: ChainwatchMetrics,
    private readonly baseline: BaselineStore,
    private readonly log: Logger,
    private readonly options: DaemonOptions,
    private lastDigest: string | null,
  ) {
    this.scheduler = new ScanScheduler({
      schedule: cfg.scan.schedule,
      scan: (reason) => this.scan(reason),
      onSkipped: () => this.metrics.scanSkipped(),
      log: log.child({ component: 'scheduler' }),
    });
    this.scanLog = new ScanLog(log);
    // Alerting (Alertmanager push, webhooks) is built in; it does nothing without receivers.
    this.alerting = new Alerting(cfg, metrics, log);
    this.routes = daemonRoutes({
      status: () => this.status,
      pageContext: () => this.pageContext(),
      metrics: (gzip) => this.metrics.scrape(gzip),
    });
  }

  url(): string {
    return this.http?.url ?? '';
  }

  config(): Config {
    return this.cfg;
  }

  async start(): Promise<void> {
    const limit = openFileLimit();
    if (limit !== null && limit.soft < limit.hard) {
      this.log.warn('the open-file limit is below what the system allows; raise it (LimitNOFILE= in the systemd unit, ulimit -n) for more HTTP connections', {
        soft: limit.soft,
        hard: limit.hard,
        httpConnections: httpConnectionCap(limit, this.cfg.scan.concurrency),
      });
    }
    this.web = await this.loadWeb(this.cfg);
    this.http = await this.listen(this.cfg, this.web);
    if (this.options.watchConfig !== false) {
      this.watcher = watchConfigFile(this.file, () => void this.reloadFromDisk(), this.log.child({ component: 'config' }));
    }
    if (this.options.signals) this.installSignals();
    this.log.info('chainwatch started', {
      version: chainwatchVersion(),
      config: this.configArg,
      targets: this.cfg.targets.length,
      policies: this.cfg.policies.length,
      shard: formatShard(this.options.shard ?? WHOLE),
      schedule: this.cfg.scan.schedule,
      listen: this.http.url,
      state: this.cfg.state.path,
    });
    this.scheduler.start();
  }

  // ---- scans ---------------------------------------------------------------------------------

  private async scan(reason: ScanReason): Promise<void> {
    if (this.stopping) return;
    const config = this.cfg;
    const abort = new AbortController();
    this.scanAbort = abort;
    this.log.debug('scan started', { reason, targets: config.targets.length });
    let scan: ScanResult;
    // A large fleet or many black holes make a long scan: say how far it got, now and then.
    const progress = { done: 0, total: 0 };
    const ticker = setInterval(() => this.log.info('scan in progress', { reason, ...progress }), SCAN_PROGRESS_EVERY_MS);
    ticker.unref();
    try {
      scan = await runScan(config, {
        signal: abort.signal,
        baseline: this.baseline,
        // A daemon probes for months: the native capture's leak must end with each scan.
        probesIn: 'processes',
        onProgress: (done, total) => {
          progress.done = done;
          progress.total = total;
        },
      });
    } finally {
      clearInterval(ticker);
      this.scanAbort = null;
    }
    if (abort.signal.aborted) {
      // A scan cut short by shutdown is not the fleet's state; keep publishing the last whole one.
      this.log.info('scan aborted for shutdown', { reason });
      return;
    }
    collectGarbageNow();
    const summary = await this.publish(scan);
    this.scanLog.finished(scan, summary, reason);
    try {
      await this.baseline.save();
    } catch (err) {
      this.log.error(
        'could not save the baseline; certificate history since the last save would be lost on restart. Check that state.path is writable and has space',
        {
          path: this.baseline.dir,
          err,
        },
      );
    }
    this.alerting.afterScan(scan);
    collectGarbageSoon();
  }

  /**
   * What readers see switches to this scan: the metrics once their text is compressed (a scrape
   * meanwhile gets the previous scan at once), then the status page and API. The scan is logged
   * as finished after that, so whoever reads the log and then scrapes sees this scan.
   */
  private async publish(scan: ScanResult): Promise<ScanSummary> {
    const entries = this.baseline.entries();
    await this.metrics.updateFromScan(scan, entries);
    this.status = buildStatus(scan, { entries, recentChanges: this.baseline.recentChanges(STATUS_CHANGES) });
    return this.status.report.summary;
  }

  private pageContext(): PageContext {
    return {
      now: new Date(),
      expiryWarningMs: this.cfg.scan.expiryWarningMs,
      expiryCriticalMs: this.cfg.scan.expiryCriticalMs,
      schedule: this.cfg.scan.schedule,
      configuredTargets: this.cfg.targets.length,
      configReloadOk: this.reloadOk,
      version: chainwatchVersion(),
    };
  }

  // ---- reload --------------------------------------------------------------------------------

  reload(): Promise<boolean> {
    this.reloading = this.reloading.then(
      () => this.doReload(true),
      () => this.doReload(true),
    );
    return this.reloading;
  }

  private reloadFromDisk(): void {
    this.reloading = this.reloading.then(
      () => this.doReload(false),
      () => this.doReload(false),
    );
  }

  private async doReload(forced: boolean): Promise<boolean> {
    if (this.stopping) return false;
    let text: Buffer;
    try {
      text = await readRegularFile(this.file, MAX_CONFIG_BYTES);
    } catch (err) {
      // Mid-replace by an editor, or deleted: the next change event will tell.
      if (!forced && err instanceof FileRefused && err.code === 'missing') {
        this.log.debug('config file is momentarily missing; waiting for it to reappear', { file: this.configArg });
        return false;
      }
      text = Buffer.alloc(0);
    }
    const d = digest(text);
    if (!forced && d === this.lastDigest) return this.reloadOk;
    this.lastDigest = d;

    let next: Config;
    let judgedLocally: ShardView['judgedLocally'];
    try {
      ({ config: next, judgedLocally } = await loadShard(this.configArg, this.options.shard ?? WHOLE));
    } catch (err) {
      return this.refuse(err instanceof ConfigError ? err.message : (err as Error).message, err instanceof ConfigError ? err.issues : undefined);
    }
    if (this.stopping) return false;

    let web: WebSetup | null;
    try {
      web = await this.loadWeb(next);
    } catch (err) {
      return this.refuse(err instanceof ConfigError ? `web config file: ${err.message}` : (err as Error).message);
    }
    if (this.stopping) return false;

    const prev = this.cfg;
    if (next.server.listen.host !== prev.server.listen.host || next.server.listen.port !== prev.server.listen.port) {
      let fresh: HttpFront;
      try {
        fresh = await this.listen(next, web);
      } catch (err) {
        return this.refuse((err as Error).message);
      }
      const old = this.http;
      this.http = fresh;
      await old?.close();
      this.log.info('HTTP server moved', { listen: fresh.url });
    } else if (this.http !== null && !this.http.useWeb(web)) {
      // Same address, another transport: the socket must be closed before it can be bound again.
      // Port 0 picked a port at start: keep it, scrapers know it.
      const port = this.http.port;
      await this.http.close();
      this.http = null;
      try {
        this.http = await this.listen(next, web, port);
      } catch (err) {
        this.http = await this.listen(prev, this.web, port);
        return this.refuse((err as Error).message);
      }
      this.log.info('HTTP server restarted for the new web config', { listen: this.http.url });
    }
    this.web = web;
    if (next.state.path !== prev.state.path) {
      try {
        await moveStateFiles(next.state.path, this.baseline, this.alerting);
      } catch (err) {
        return this.refuse(`cannot move the state to the new state.path ${next.state.path}: ${(err as Error).message}`);
      }
      this.log.info('state moved', { from: prev.state.path, to: next.state.path });
    }

    this.cfg = next;
    this.scheduler.setSchedule(next.scan.schedule);
    this.reloadOk = true;
    this.metrics.configLoaded(true, next);
    this.metrics.policiesJudgedLocally(judgedLocally);
    const before = new Set(prev.targets.map((t) => t.name));
    const after = new Set(next.targets.map((t) => t.name));
    this.log.info('config reloaded; scanning now', {
      file: this.configArg,
      targets: next.targets.length,
      added: [...after].filter((n) => !before.has(n)),
      removed: [...before].filter((n) => !after.has(n)),
      schedule: next.scan.schedule,
    });
    this.alerting.configChanged(next);
    this.scheduler.triggerNow('reload');
    return true;
  }

  private refuse(message: string, issues?: unknown): boolean {
    this.reloadOk = false;
    this.metrics.configLoaded(false);
    this.log.error(`config reload refused; the previous config keeps running. Fix the file and save it again (or send SIGHUP):\n${message}`, {
      file: this.configArg,
      ...(issues === undefined ? {} : { issues }),
    });
    return false;
  }

  private loadWeb(config: Config): Promise<WebSetup | null> {
    const file = this.options.webConfigFile ?? config.server.webConfigFile;
    return file === null ? Promise.resolve(null) : loadWebSetup(resolvePath(file), this.log.child({ component: 'http' }));
  }

  private listen(config: Config, web: WebSetup | null, port = config.server.listen.port): Promise<HttpFront> {
    return HttpFront.listen({
      host: config.server.listen.host,
      port,
      web,
      maxConnections: httpConnectionCap(openFileLimit(), config.scan.concurrency),
      handler: (req) => this.routes.handle(req),
      log: this.log.child({ component: 'http' }),
    });
  }

  // ---- shutdown ------------------------------------------------------------------------------

  private installSignals(): void {
    const stopOn = (sig: NodeJS.Signals) => () => {
      if (this.stopping) {
        this.log.warn(`${sig} received again; already shutting down`);
        return;
      }
      this.log.info(`${sig} received; shutting down`);
      void this.stop();
    };
    this.signalHandlers.push(['SIGTERM', stopOn('SIGTERM')], ['SIGINT', stopOn('SIGINT')]);
    if (process.platform !== 'win32') {
      this.signalHandlers.push([
        'SIGHUP',
        () => {
          this.log.info('SIGHUP received; reloading the config');
          void this.reload();
        },
      ]);
    }
    for (const [sig, fn] of this.signalHandlers) process.on(sig, fn);
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    const t0 = Date.now();
    this.watcher?.close();
    this.scanAbort?.abort();
    const idle = this.scheduler.stop();
    const waited = await Promise.race([idle.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), SHUTDOWN_SCAN_GRACE_MS).unref())]);
    if (!waited) this.log.warn('the running scan did not end in time; flushing the baseline without it');
    try {
      await this.baseline.save();
    } catch (err) {
      this.log.error('could not save the baseline at shutdown', { path: this.cfg.state.path, err });
    }
    await this.baseline.close();
    try {
      await this.alerting.stop();
    } catch (err) {
      this.log.error('alerting failed to stop cleanly', { err });
    }
    await this.http?.close();
    for (const [sig, fn] of this.signalHandlers) process.off(sig, fn);
    this.log.info('chainwatch stopped', { durationMs: Date.now() - t0 });
    this.resolveStopped();
  }
}

function digest(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}
