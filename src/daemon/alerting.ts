// Alerting as a daemon output: every finished scan goes to the dispatcher, a reloaded config
// swaps receivers without forgetting which alerts are firing, and shutdown flushes for a bounded
// time. The alert state lives next to the baseline, so a restart does not announce again what
// was already announced.

import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import { AlertDispatcher } from '../output/alerts/dispatcher.js';
import { registerAlertDeliveries } from '../output/alerts/metrics.js';
import type { ChainwatchMetrics } from '../output/metrics.js';
import type { ScanResult } from '../pipeline/types.js';

/** Shutdown gives queued alert deliveries this long, so the daemon still exits promptly. */
const SHUTDOWN_FLUSH_MS = 2000;

export const ALERT_STATE_FILE = 'alerts.json';

/** server.external_url, or http://<listen> with a wildcard address replaced by this host's name. */
export function externalUrlOf(config: Config): string {
  if (config.server.externalUrl) return config.server.externalUrl;
  const { host, port } = config.server.listen;
  const wildcard = host === '0.0.0.0' || host === '::' || host === '';
  const name = wildcard ? hostname() : host;
  return `http://${name.includes(':') ? `[${name}]` : name}:${port}`;
}

export class Alerting {
  private readonly dispatcher: AlertDispatcher;

  constructor(config: Config, metrics: ChainwatchMetrics, log: Logger) {
    this.dispatcher = new AlertDispatcher({
      alerting: config.alerting,
      externalUrl: externalUrlOf(config),
      expiryWarningMs: config.scan.expiryWarningMs,
      expiryCriticalMs: config.scan.expiryCriticalMs,
      deliveries: registerAlertDeliveries(metrics.registry),
      logger: log.child({ component: 'alerts' }),
      statePath: join(config.state.path, ALERT_STATE_FILE),
    });
    const receivers = this.dispatcher.receivers();
    if (receivers.length > 0) log.info('alerting enabled', { receivers });
  }

  /** Returns at once: deliveries run in the background and never hold up the next scan. */
  afterScan(scan: ScanResult): void {
    this.dispatcher.onScan(scan);
  }

  configChanged(next: Config): void {
    this.dispatcher.reconfigure(next.alerting, externalUrlOf(next), next.scan.expiryWarningMs, next.scan.expiryCriticalMs);
  }

  /** Keeps the alert state in `stateDir` from now on; see moveStateFiles. */
  moveStateTo(stateDir: string): Promise<void> {
    return this.dispatcher.moveState(join(stateDir, ALERT_STATE_FILE));
  }

  stop(): Promise<unknown> {
    return this.dispatcher.close(SHUTDOWN_FLUSH_MS);
  }
}
