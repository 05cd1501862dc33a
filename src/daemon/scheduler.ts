// Runs scans on the configured cron schedule, one at a time. A tick that fires while a scan is
// still running is skipped (and counted) instead of queued: queuing would let a slow fleet pile
// up scans without bound. An explicit trigger (start, reload) is remembered and runs as soon as
// the current scan ends, because a reload must get its new targets scanned.

import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../log/logger.js';

export type ScanReason = 'start' | 'schedule' | 'reload';

export interface SchedulerOptions {
  schedule: string;
  /** Runs one scan. Rejections are logged here; they never stop the schedule. */
  scan: (reason: ScanReason) => Promise<void>;
  onSkipped?: () => void;
  log: Logger;
}

export class ScanScheduler {
  private task: ScheduledTask | null = null;
  private schedule: string;
  private current: Promise<void> | null = null;
  private pending: ScanReason | null = null;
  private stopped = false;

  constructor(private readonly options: SchedulerOptions) {
    this.schedule = options.schedule;
  }

  /** Starts the schedule and runs the first scan right away. */
  start(): void {
    this.arm();
    this.triggerNow('start');
  }

  get running(): boolean {
    return this.current !== null;
  }

  get expression(): string {
    return this.schedule;
  }

  /** A new schedule from a reloaded config; the running scan is not disturbed. */
  setSchedule(expression: string): void {
    if (expression === this.schedule) return;
    this.schedule = expression;
    if (this.stopped) return;
    this.disarm();
    this.arm();
  }

  /** Scan now, or right after the running scan when one is in progress. */
  triggerNow(reason: ScanReason): void {
    if (this.stopped) return;
    if (this.current !== null) {
      this.pending = reason;
      return;
    }
    this.run(reason);
  }

  /** Stops scheduling; resolves when the running scan (if any) has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.pending = null;
    this.disarm();
    await this.idle();
  }

  /** Resolves when no scan is running. */
  async idle(): Promise<void> {
    while (this.current !== null) await this.current;
  }

  private tick(): void {
    if (this.stopped) return;
    if (this.current !== null) {
      this.options.onSkipped?.();
      this.options.log.warn('scheduled scan skipped: the previous scan is still running; consider a longer scan.schedule interval or a shorter scan.timeout', {
        schedule: this.schedule,
      });
      return;
    }
    this.run('schedule');
  }

  private run(reason: ScanReason): void {
    const p = (async () => {
      try {
        await this.options.scan(reason);
      } catch (err) {
        this.options.log.error('scan failed; the next scheduled scan will try again', { reason, err });
      }
    })();
    this.current = p;
    void p.then(() => {
      this.current = null;
      const next = this.pending;
      this.pending = null;
      if (next !== null && !this.stopped) this.run(next);
    });
  }

  private arm(): void {
    const log = this.options.log;
    this.task = cron.schedule(this.schedule, () => this.tick(), {
      name: 'chainwatch-scan',
      suppressMissedWarning: true,
      logger: {
        info: (m) => log.debug(String(m), { component: 'cron' }),
        warn: (m) => log.debug(String(m), { component: 'cron' }),
        error: (m) => log.warn(String(m), { component: 'cron' }),
        debug: (m) => log.debug(String(m), { component: 'cron' }),
      },
    });
  }

  private disarm(): void {
    const task = this.task;
    this.task = null;
    if (task !== null) void Promise.resolve(task.destroy()).catch(() => undefined);
  }
}
