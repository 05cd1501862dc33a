// Delivery to one receiver: its own queue, its own worker, retries with backoff. Receivers never
// wait on each other and nobody waits on them: the scan only enqueues. A receiver is named by
// kind and host only, since webhook URLs carry their token in the path.

import type { WebhookConfig } from '../../config/types.js';
import type { Logger } from '../../log/logger.js';
import { type PostableAlert, webhookBody } from './formats.js';
import { type Endpoint, endpointFromUrl, type PostOutcome, postJson } from './http.js';
import type { Transition } from './types.js';

export type DeliveryResult = 'success' | 'failure' | 'retry' | 'dropped';

export interface RetryOptions {
  /** Tries per delivery, the first included. */
  attempts: number;
  /** Wait before the first retry; doubles each time. */
  baseMs: number;
  /** Longest wait between tries from backoff. */
  maxMs: number;
  /** Longest wait a receiver's Retry-After can impose. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 5, baseMs: 1000, maxMs: 60_000, maxRetryAfterMs: 300_000 };

export interface ReceiverDeps {
  timeoutMs: number;
  retry: RetryOptions;
  /** Most deliveries waiting per receiver; beyond it the oldest is dropped. */
  maxQueue: number;
  count(receiver: string, result: DeliveryResult, n?: number): void;
  logger: Logger;
}

export function receiverName(kind: 'alertmanager' | `webhook:${string}`, url: string): string {
  let host: string;
  try {
    host = new URL(url).host;
  } catch {
    host = 'invalid-url';
  }
  return `${kind}:${host}`;
}

/** Wait before retry number `retry` (1-based), or what Retry-After asks within bounds. */
export function retryDelay(retry: number, outcome: PostOutcome, opts: RetryOptions): number {
  if (outcome.retryAfterMs !== null) return Math.min(Math.max(outcome.retryAfterMs, opts.baseMs), opts.maxRetryAfterMs);
  const backoff = Math.min(opts.baseMs * 2 ** (retry - 1), opts.maxMs);
  // Jitter, so a fleet of daemons that lost the same receiver does not retry in lockstep.
  return Math.round(backoff * (0.8 + Math.random() * 0.4));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

abstract class Receiver {
  /** What identifies this receiver in the config, to keep it across reloads. */
  abstract readonly configKey: string;
  protected readonly abort = new AbortController();
  private worker: Promise<void> | null = null;
  /** A try failed since the last success. */
  private failing = false;
  /** A delivery was given up since the last success (and that was logged). */
  private reportedDown = false;

  constructor(
    readonly name: string,
    protected readonly endpoint: Endpoint,
    protected readonly deps: ReceiverDeps,
  ) {}

  protected abstract hasWork(): boolean;
  protected abstract work(): Promise<void>;
  /** Deliveries still waiting; counted as dropped when shutdown cuts them off. */
  protected abstract discard(): number;

  protected kick(): void {
    if (this.worker !== null || this.abort.signal.aborted) return;
    this.worker = (async () => {
      try {
        while (this.hasWork() && !this.abort.signal.aborted) await this.work();
      } catch (err) {
        this.deps.logger.error('alert delivery worker failed; pending alerts are kept for the next attempt', {
          receiver: this.name,
          err,
        });
      } finally {
        this.worker = null;
      }
      if (this.hasWork() && !this.abort.signal.aborted) this.kick();
    })();
  }

  /**
   * One delivery with retries. `body` is called before every try so a retry sends the freshest
   * state. Returns true when delivered.
   */
  protected async deliver(body: () => string, throttled: (o: PostOutcome) => boolean = () => false): Promise<boolean> {
    const { retry, logger } = this.deps;
    for (let attempt = 1; ; attempt++) {
      const outcome = await postJson(this.endpoint, body(), { timeoutMs: this.deps.timeoutMs, signal: this.abort.signal });
      const ok = outcome.ok && !throttled(outcome);
      if (ok) {
        this.deps.count(this.name, 'success');
        if (this.reportedDown) logger.info('alert receiver accepts deliveries again', { receiver: this.name });
        this.failing = false;
        this.reportedDown = false;
        return true;
      }
      if (this.abort.signal.aborted) {
        this.deps.count(this.name, 'dropped');
        return false;
      }
      const error = outcome.ok ? 'receiver is throttling (HTTP 429 in the reply)' : outcome.error;
      // A 2xx that carries a throttling notice is worth another try like a 429.
      const retryable = outcome.ok || outcome.retryable;
      if (retryable && attempt < retry.attempts) {
        this.deps.count(this.name, 'retry');
        const wait = retryDelay(attempt, outcome, retry);
        (this.failing || this.reportedDown ? logger.debug : logger.warn).call(logger, 'alert delivery failed; retrying', {
          receiver: this.name,
          error,
          attempt,
          retryInMs: wait,
        });
        this.failing = true;
        await sleep(wait, this.abort.signal);
        if (this.abort.signal.aborted) {
          this.deps.count(this.name, 'dropped');
          return false;
        }
        continue;
      }
      this.deps.count(this.name, 'failure');
      // One warning per outage, not one per message: a receiver down for an hour would
      // otherwise fill the log at every re-send.
      (this.reportedDown ? logger.debug : logger.warn).call(
        logger,
        retryable
          ? 'alert delivery failed after all retries; giving up on this message. Check that the receiver is up and reachable from chainwatch'
          : 'alert delivery refused by the receiver; not retrying. Check the receiver URL and its configuration',
        { receiver: this.name, error, attempts: attempt },
      );
      this.failing = true;
      this.reportedDown = true;
      return false;
    }
  }

  /**
   * Stops taking work and waits until everything queued is delivered or `deadline` (epoch ms)
   * passes, then aborts what is left. Returns how many deliveries were dropped.
   */
  async close(deadline: number): Promise<number> {
    while (this.worker !== null && Date.now() < deadline) {
      const left = deadline - Date.now();
      await Promise.race([this.worker, new Promise((r) => setTimeout(r, left).unref())]);
    }
    this.abort.abort();
    if (this.worker !== null) await this.worker;
    const dropped = this.discard();
    if (dropped > 0) this.deps.count(this.name, 'dropped', dropped);
    return dropped;
  }
}

/** Chat and generic webhooks: exactly one message per transition, in order. */
export class WebhookReceiver extends Receiver {
  private readonly queue: Transition[] = [];
  readonly configKey: string;
  readonly format: WebhookConfig['format'];

  constructor(
    private readonly config: WebhookConfig,
    deps: ReceiverDeps,
  ) {
    super(receiverName(`webhook:${config.format}`, config.url), endpointFromUrl(config.url), deps);
    this.configKey = `${config.format} ${config.url}`;
    this.format = config.format;
  }

  send(t: Transition): void {
    if (this.abort.signal.aborted) {
      this.deps.count(this.name, 'dropped');
      return;
    }
    this.queue.push(t);
    if (this.queue.length > this.deps.maxQueue) {
      const lost = this.queue.shift();
      this.deps.count(this.name, 'dropped');
      this.deps.logger.warn('webhook queue full; dropped the oldest undelivered message. The receiver is down or too slow', {
        receiver: this.name,
        alertname: lost?.alert.labels.alertname,
        status: lost?.status,
        queued: this.queue.length,
      });
    }
    this.kick();
  }

  protected hasWork(): boolean {
    return this.queue.length > 0;
  }

  protected async work(): Promise<void> {
    const t = this.queue.shift();
    if (!t) return;
    const body = JSON.stringify(webhookBody(this.config.format, t));
    await this.deliver(
      () => body,
      // Office 365 connectors answer throttling with 200 and the 429 in the body.
      this.config.format === 'teams' ? (o) => /HTTP error 429/.test(o.body) : undefined,
    );
  }

  protected discard(): number {
    return this.queue.splice(0).length;
  }
}

interface PendingAlert {
  alert: PostableAlert;
  resolved: boolean;
}

/**
 * Alertmanager: what matters is the latest state of each alert, not every message, so pending
 * alerts are kept by fingerprint and a newer state replaces an older one that was not sent yet.
 * Each POST carries everything pending.
 */
export class AlertmanagerReceiver extends Receiver {
  private pending = new Map<string, PendingAlert>();
  /** Resolutions that could not be delivered; they ride along with the next push. */
  private carry = new Map<string, PendingAlert>();
  readonly configKey: string;

  constructor(url: string, deps: ReceiverDeps) {
    const base = url.endsWith('/') ? url : `${url}/`;
    const ep = endpointFromUrl(new URL('api/v2/alerts', base).href);
    super(receiverName('alertmanager', url), ep, deps);
    this.configKey = url;
  }

  push(alerts: { fingerprint: string; alert: PostableAlert; resolved: boolean }[]): void {
    if (this.abort.signal.aborted) return;
    for (const [fp, p] of this.carry) if (!this.pending.has(fp)) this.pending.set(fp, p);
    this.carry.clear();
    for (const a of alerts) this.pending.set(a.fingerprint, { alert: a.alert, resolved: a.resolved });
    const excess = this.pending.size - this.deps.maxQueue;
    if (excess > 0) {
      // Firing alerts come back with the next re-send; resolutions are the ones worth keeping.
      let dropped = 0;
      for (const [fp, p] of this.pending) {
        if (dropped >= excess) break;
        if (!p.resolved) {
          this.pending.delete(fp);
          dropped++;
        }
      }
      if (dropped > 0) this.deps.count(this.name, 'dropped', dropped);
    }
    this.kick();
  }

  protected hasWork(): boolean {
    return this.pending.size > 0;
  }

  protected async work(): Promise<void> {
    let batch = this.pending;
    this.pending = new Map();
    const delivered = await this.deliver(() => {
      // Anything pushed while we waited to retry is newer than what the batch holds.
      if (this.pending.size > 0) {
        batch = new Map([...batch, ...this.pending]);
        this.pending = new Map();
      }
      return JSON.stringify([...batch.values()].map((p) => p.alert));
    });
    if (!delivered) {
      for (const [fp, p] of batch) if (p.resolved && !this.pending.has(fp)) this.carry.set(fp, p);
    }
  }

  protected discard(): number {
    const n = this.pending.size;
    this.pending.clear();
    this.carry.clear();
    return n;
  }
}
