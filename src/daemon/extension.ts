// What an output that follows the daemon (alerting, a status page) gets and provides. Kept apart
// from daemon.ts so such an output can be written without importing the daemon itself.
import type { Config } from '../config/types.js';
import type { BaselineStore } from '../fleet/baseline-store.js';
import type { Logger } from '../log/logger.js';
import type { ChainwatchMetrics } from '../output/metrics.js';
import type { ScanResult } from '../pipeline/types.js';

/** Lets other outputs (alerting, the status page) follow the daemon without it knowing them. */
export interface DaemonExtension {
  afterScan?(scan: ScanResult, config: Config): void | Promise<void>;
  configChanged?(config: Config): void;
  stop?(): void | Promise<void>;
}

export interface DaemonContext {
  config: Config;
  metrics: ChainwatchMetrics;
  baseline: BaselineStore;
  log: Logger;
}
