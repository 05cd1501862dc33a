// Turns each scan into alert state changes and hands them to the receivers. The scan only pays
// for the derivation and a few enqueues: deliveries run in the background, per receiver, so a
// slow or dead Alertmanager or webhook never holds up scanning.
//
// Alertmanager gets the full picture again on every scan and at least every resendIntervalMs
// (its alerts carry an endsAt a few intervals ahead, so they expire on their own if chainwatch
// dies), and resolved alerts once with endsAt = now. Webhooks get one message per transition.

import { unlink } from 'node:fs/promises';
import type { Counter } from 'prom-client';
import type { AlertingConfig, WebhookConfig } from '../../config/types.js';
import { type Logger, nullLogger } from '../../log/logger.js';
import type { ScanResult } from '../../pipeline/types.js';
import { deriveAlerts, undeterminedIn } from './derive.js';
import { toPostableAlert } from './formats.js';
import { AlertmanagerReceiver, DEFAULT_RETRY, type DeliveryResult, type ReceiverDeps, type RetryOptions, WebhookReceiver } from './receivers.js';
import { loadAlertState, saveAlertState, writeAlertState } from './state.js';
import type { Alert, ScanTransitions, Transition } from './types.js';

export interface AlertDispatcherOptions {
  alerting: AlertingConfig;
  /** Base URL of the status page, for links in alerts. */
  externalUrl: string;
  expiryWarningMs: number;
  /** Receives chainwatch_alert_deliveries_total (see alertDeliveriesCounter). */
  deliveries?: Counter<'receiver' | 'result'>;
  logger?: Logger;
  /** How long a certificate change stays an active alert. Default 1h. */
  changeHoldMs?: number;
  expiryCriticalMs?: number;
  /** Consecutive failed scans before ChainwatchProbeFailing fires. Default 2. */
  probeFailingScans?: number;
  /** Per-request deadline. Default 10 s. */
  requestTimeoutMs?: number;
  retry?: Partial<RetryOptions>;
  /** Most undelivered messages kept per receiver. Default 1000. */
  maxQueue?: number;
  /** Firing alerts tell Alertmanager to expire them after this many resend intervals. Default 4. */
  validityIntervals?: number;
  /**
   * File that keeps the active alerts across restarts, so a restart neither repeats a firing
   * message nor forgets to resolve what ended while chainwatch was down. Null: memory only.
   */
  statePath?: string | null;
  now?: () => Date;
}

interface Settings {
  externalUrl: string;
  expiryWarningMs: number;
  expiryCriticalMs: number | undefined;
  resendIntervalMs: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_QUEUE = 1000;
// Only guards against a zero interval spinning the timer; the config loader sets the real floor.
const MIN_RESEND_MS = 100;

export class AlertDispatcher {
  private settings: Settings;
  private alertmanagers: AlertmanagerReceiver[] = [];
  private webhooks: WebhookReceiver[] = [];
  private readonly deps: ReceiverDeps;
  private readonly logger: Logger;
  private readonly now: () => Date;
  private active = new Map<string, Alert>();
  /** Conditions seen in consecutive scans that have not yet reached their forScans. */
  private pending = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private saving: Promise<void> = Promise.resolve();
  private readonly retiring = new Set<Promise<number>>();
  private statePath: string | null;

  constructor(private readonly opts: AlertDispatcherOptions) {
    this.logger = opts.logger ?? nullLogger;
    this.now = opts.now ?? (() => new Date());
    const counter = opts.deliveries;
    this.deps = {
      timeoutMs: opts.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS,
      retry: { ...DEFAULT_RETRY, ...opts.retry },
      maxQueue: opts.maxQueue ?? DEFAULT_MAX_QUEUE,
      count: (receiver: string, result: DeliveryResult, n = 1) => counter?.inc({ receiver, result }, n),
      logger: this.logger,
    };
    this.settings = this.settingsFrom(opts.alerting, opts.externalUrl, opts.expiryWarningMs, opts.expiryCriticalMs);
    this.buildReceivers(opts.alerting);
    this.statePath = opts.statePath ?? null;
    if (this.statePath) {
      const state = loadAlertState(this.statePath, this.logger);
      for (const a of state.active) this.active.set(a.fingerprint, a);
      for (const [fp, n] of state.pending) this.pending.set(fp, n);
    }
  }

  /** The alerts firing now. */
  activeAlerts(): Alert[] {
    return [...this.active.values()];
  }

  /** Receiver names, e.g. alertmanager:am1:9093, webhook:teams:example.webhook.office.com. */
  receivers(): string[] {
    return [...this.alertmanagers, ...this.webhooks].map((r) => r.name);
  }

  /**
   * Takes a finished scan and returns at once what changed; deliveries happen in the background.
   * Never throws: alerting trouble must not break scanning.
   */
  onScan(scan: ScanResult): ScanTransitions {
    const result: ScanTransitions = { firing: [], resolved: [], unchanged: [] };
    if (this.closed) return result;
    try {
      const now = this.now();
      const derived = deriveAlerts(scan, {
        externalUrl: this.settings.externalUrl,
        expiryWarningMs: this.settings.expiryWarningMs,
        // Conditions are as of the scan; deliveries and holds run on the clock.
        now: scan.finishedAt,
        changeHoldMs: this.opts.changeHoldMs,
        expiryCriticalMs: this.settings.expiryCriticalMs,
        probeFailingScans: this.opts.probeFailingScans,
      });
      const next = new Map<string, Alert>();
      const pending = new Map<string, number>();
      for (const alert of derived) {
        const prev = this.active.get(alert.fingerprint);
        if (prev) {
          // Same condition: keep when it began, take the current wording (days left, etc.).
          const holdUntil = alert.holdUntil && prev.holdUntil && prev.holdUntil > alert.holdUntil ? prev.holdUntil : alert.holdUntil;
          const kept = { ...alert, startsAt: prev.startsAt, holdUntil };
          next.set(alert.fingerprint, kept);
          result.unchanged.push(kept);
          continue;
        }
        if (alert.holdUntil && alert.holdUntil <= now) continue;
        const seen = (this.pending.get(alert.fingerprint) ?? 0) + 1;
        if (seen < alert.forScans) {
          pending.set(alert.fingerprint, seen);
          continue;
        }
        next.set(alert.fingerprint, alert);
        result.firing.push(alert);
      }
      const undetermined = undeterminedIn(scan);
      for (const [fp, prev] of this.active) {
        if (next.has(fp)) continue;
        const stillHeld = prev.holdUntil !== null && prev.holdUntil > now;
        if (stillHeld || (prev.holdUntil === null && undetermined(prev))) {
          next.set(fp, prev);
          result.unchanged.push(prev);
        } else {
          result.resolved.push(prev);
        }
      }
      this.active = next;
      this.pending = pending;
      this.publish(result, now);
      this.startTimer();
    } catch (err) {
      this.logger.error('alerting failed for this scan; alerts were not updated. This is a bug, please report it', { err });
    }
    return result;
  }

  /**
   * Re-sends the firing alerts to Alertmanager and resolves certificate-change alerts whose hold
   * has passed. Runs on a timer every resendIntervalMs; callable directly.
   */
  tick(): ScanTransitions {
    const result: ScanTransitions = { firing: [], resolved: [], unchanged: [] };
    if (this.closed) return result;
    const now = this.now();
    for (const [fp, a] of this.active) {
      if (a.holdUntil !== null && a.holdUntil <= now) {
        this.active.delete(fp);
        result.resolved.push(a);
      } else {
        result.unchanged.push(a);
      }
    }
    this.publish(result, now);
    return result;
  }

  /**
   * Applies a reloaded config: receivers that stay keep their queues, removed ones get a short
   * time to flush, new ones start with the next scan. Active alerts are kept.
   */
  reconfigure(alerting: AlertingConfig, externalUrl: string, expiryWarningMs: number, expiryCriticalMs?: number): void {
    if (this.closed) return;
    const resendChanged = alerting.resendIntervalMs !== this.settings.resendIntervalMs;
    this.settings = this.settingsFrom(alerting, externalUrl, expiryWarningMs, expiryCriticalMs);
    this.buildReceivers(alerting);
    if (resendChanged && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
      this.startTimer();
    }
  }

  /**
   * Keeps the alert state at `path` from now on (state.path changed): writes it there, then
   * removes the old file. Throws, keeping the old file in use, when the new one cannot be written.
   */
  async moveState(path: string): Promise<void> {
    const from = this.statePath;
    const move = this.saving.then(async () => {
      await writeAlertState(path, { active: [...this.active.values()], pending: [...this.pending] });
      this.statePath = path;
      if (from !== null && from !== path) await unlink(from).catch(() => undefined);
    });
    this.saving = move.catch(() => undefined);
    await move;
  }

  /**
   * Stops the timer and waits up to `timeoutMs` for queued deliveries, then drops the rest.
   * Firing alerts are not resolved: they are still true, and Alertmanager expires them at their
   * endsAt unless a restarted chainwatch re-sends them.
   */
  async close(timeoutMs = 5000): Promise<{ dropped: number }> {
    if (this.closed) return { dropped: 0 };
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const deadline = Date.now() + timeoutMs;
    const all = [...this.alertmanagers, ...this.webhooks];
    const counts = await Promise.all([...all.map((r) => r.close(deadline)), ...this.retiring]);
    await Promise.race([this.saving, new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())).unref())]);
    const dropped = counts.reduce((a, b) => a + b, 0);
    if (dropped > 0) {
      this.logger.warn('shutdown cut off alert deliveries that had not gone out', { dropped });
    }
    return { dropped };
  }

  private settingsFrom(alerting: AlertingConfig, externalUrl: string, expiryWarningMs: number, expiryCriticalMs: number | undefined): Settings {
    return { externalUrl, expiryWarningMs, expiryCriticalMs, resendIntervalMs: Math.max(MIN_RESEND_MS, alerting.resendIntervalMs) };
  }

  private buildReceivers(alerting: AlertingConfig): void {
    const keepAm = new Map(this.alertmanagers.map((r) => [r.configKey, r]));
    const keepWh = new Map(this.webhooks.map((r) => [r.configKey, r]));
    const ams: AlertmanagerReceiver[] = [];
    for (const url of new Set(alerting.alertmanagerUrls)) {
      const existing = keepAm.get(url);
      keepAm.delete(url);
      ams.push(existing ?? new AlertmanagerReceiver(url, this.deps));
    }
    const whs: WebhookReceiver[] = [];
    for (const hook of uniqueHooks(alerting.webhooks)) {
      const key = `${hook.format} ${hook.url}`;
      const existing = keepWh.get(key);
      keepWh.delete(key);
      whs.push(existing ?? new WebhookReceiver(hook, this.deps));
    }
    for (const gone of [...keepAm.values(), ...keepWh.values()]) {
      const p = gone.close(Date.now() + 5000);
      this.retiring.add(p);
      void p.finally(() => this.retiring.delete(p));
    }
    this.alertmanagers = ams;
    this.webhooks = whs;
  }

  private publish(t: ScanTransitions, now: Date): void {
    for (const a of t.resolved) this.logger.info('alert resolved', alertLogFields(a));
    for (const a of t.firing) this.logger.info('alert firing', alertLogFields(a));

    const transitions: Transition[] = [
      ...t.resolved.map((alert) => ({ status: 'resolved' as const, alert, endsAt: now })),
      ...t.firing.map((alert) => ({ status: 'firing' as const, alert, endsAt: null })),
    ];
    for (const hook of this.webhooks) {
      for (const tr of transitions) {
        // A change is an event: "resolved" an hour later only means the hold ran out, which is
        // noise in a chat channel. The generic format gets it, for receivers that track state.
        if (tr.status === 'resolved' && tr.alert.holdUntil !== null && hook.format !== 'generic') continue;
        hook.send(tr);
      }
    }

    if (this.alertmanagers.length > 0) {
      const validUntil = now.getTime() + this.settings.resendIntervalMs * (this.opts.validityIntervals ?? 4);
      const batch = [
        ...[...this.active.values()].map((a) => ({
          fingerprint: a.fingerprint,
          alert: toPostableAlert(a, new Date(a.holdUntil ? Math.min(validUntil, a.holdUntil.getTime()) : validUntil)),
          resolved: false,
        })),
        ...t.resolved.map((a) => ({
          fingerprint: a.fingerprint,
          // Alertmanager refuses endsAt before startsAt; an event held from its own time is the case.
          alert: toPostableAlert(a, new Date(Math.max(now.getTime(), a.startsAt.getTime() + 1))),
          resolved: true,
        })),
      ];
      if (batch.length > 0) for (const am of this.alertmanagers) am.push(batch);
    }

    if (this.statePath && (t.firing.length > 0 || t.resolved.length > 0 || this.pending.size > 0)) {
      const path = this.statePath;
      const active = [...this.active.values()];
      const pending = [...this.pending];
      this.saving = this.saving.then(() => saveAlertState(path, { active, pending }, this.logger));
    }
  }

  private startTimer(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => this.tick(), this.settings.resendIntervalMs);
    this.timer.unref();
  }
}

function uniqueHooks(hooks: WebhookConfig[]): WebhookConfig[] {
  const seen = new Set<string>();
  return hooks.filter((h) => {
    const key = `${h.format} ${h.url}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function alertLogFields(a: Alert): Record<string, unknown> {
  return { ...a.labels, fingerprint: a.fingerprint, summary: a.annotations.summary };
}
