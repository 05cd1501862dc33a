// OCSP answers by certificate and responder, kept across scans like CRLs: reused for the refresh
// interval, never past the answer's nextUpdate. A responder that could not be reached is not
// asked again for other certificates in the same scan, so one black hole costs one timeout.
import type { ParsedCertificate } from '../chain/certificate.js';
import type { Attempt } from './crl-store.js';
import { httpFetch } from './http.js';
import { type OcspAnswer, ocspQuery, readOcspResponse } from './ocsp.js';
import type { RevocationOptions } from './types.js';

// Responses are small; anything near this is not an OCSP response.
const MAX_OCSP_BYTES = 1024 * 1024;
const MAX_ENTRIES = 50_000;
/** Requests in flight at once, so a large fleet does not open thousands of sockets. */
const CONCURRENCY = 16;

export interface OcspCopy {
  answer: OcspAnswer;
  fetchedAt: Date;
  attempt: Attempt;
}

export class OcspStore {
  private readonly held = new Map<string, OcspCopy>();
  private readonly pending = new Map<string, Promise<OcspCopy>>();
  private readonly down = new Map<string, Attempt>();
  private active = 0;
  private readonly queue: (() => void)[] = [];

  constructor(private readonly options: Pick<RevocationOptions, 'refreshMs' | 'timeoutMs'>) {}

  get(url: string, cert: ParsedCertificate, issuer: ParsedCertificate, now: Date, scanStart: Date, signal?: AbortSignal): Promise<OcspCopy> {
    const key = `${cert.info.sha256}|${issuer.info.sha256}|${url}`;
    const inFlight = this.pending.get(key);
    if (inFlight) return inFlight;
    const copy = this.held.get(key);
    if (copy && !this.due(copy, now, scanStart)) return Promise.resolve(copy);
    const fresh = this.ask(url, cert, issuer, now, scanStart, signal).then((c) => {
      if (this.held.size >= MAX_ENTRIES) this.held.delete(this.held.keys().next().value!);
      this.held.set(key, c);
      return c;
    });
    this.pending.set(key, fresh);
    return fresh.finally(() => this.pending.delete(key));
  }

  private due(copy: OcspCopy, now: Date, scanStart: Date): boolean {
    if (copy.attempt.at.getTime() >= scanStart.getTime()) return false;
    const t = now.getTime();
    const next = copy.answer.kind === 'answer' ? copy.answer.nextUpdate?.getTime() : undefined;
    return copy.answer.kind === 'error' || t >= copy.fetchedAt.getTime() + this.options.refreshMs || (next !== undefined && t >= next);
  }

  private async ask(
    url: string,
    cert: ParsedCertificate,
    issuer: ParsedCertificate,
    now: Date,
    scanStart: Date,
    signal: AbortSignal | undefined,
  ): Promise<OcspCopy> {
    await this.slot();
    try {
      const down = this.down.get(url);
      if (down && down.at.getTime() >= scanStart.getTime()) {
        return { answer: { kind: 'error', error: down.error!, responseStatus: 'unreachable' }, fetchedAt: now, attempt: down };
      }
      const query = ocspQuery(cert, issuer, true);
      const r = await httpFetch({
        url,
        method: 'POST',
        body: query.der,
        contentType: 'application/ocsp-request',
        accept: 'application/ocsp-response',
        timeoutMs: this.options.timeoutMs,
        maxBytes: MAX_OCSP_BYTES,
        signal,
      });
      if (r.kind !== 'ok') {
        const error = r.kind === 'failed' ? r.error : 'HTTP 304 to an OCSP request';
        const attempt: Attempt = { at: now, reachable: false, durationMs: r.durationMs, error };
        if (r.kind === 'failed' && r.status === null) this.down.set(url, attempt);
        return { answer: { kind: 'error', error, responseStatus: 'unreachable' }, fetchedAt: now, attempt };
      }
      const answer = readOcspResponse(r.body, cert, issuer, query.nonce, now);
      const error = answer.kind === 'error' ? answer.error : null;
      return { answer, fetchedAt: now, attempt: { at: now, reachable: true, durationMs: r.durationMs, error } };
    } finally {
      this.release();
    }
  }

  private slot(): Promise<void> {
    if (this.active < CONCURRENCY) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.queue.push(resolve));
  }

  private release(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.active--;
  }
}
