// CRLs by URL, kept across scans: a fleet whose servers share one issuing CA fetches its CRL once
// per refresh interval (never past the CRL's nextUpdate), with a conditional GET when the server
// gave validators. A failed fetch is not repeated within the same scan.

import type * as X509 from '@peculiar/x509';
import type { ParsedCertificate } from '../chain/certificate.js';
import { crlProblem, parseCrl } from './crl.js';
import { httpFetch } from './http.js';
import type { RevocationOptions } from './types.js';

/** The most recent request for a URL. */
export interface Attempt {
  at: Date;
  reachable: boolean;
  durationMs: number;
  error: string | null;
}

export interface CrlCopy {
  /** The CRL held, possibly stale; null when none was ever obtained. */
  crl: X509.X509Crl | null;
  fetchedAt: Date | null;
  attempt: Attempt;
}

interface Held {
  crl: X509.X509Crl;
  fetchedAt: Date;
  etag: string | null;
  lastModified: string | null;
  /** Verification against each issuer that relies on this CRL, once per CRL. */
  checks: Map<string, Promise<string | null>>;
}

interface Slot {
  held: Held | null;
  attempt: Attempt | null;
  pending: Promise<void> | null;
}

const MAX_URLS = 10_000;

export class CrlStore {
  private readonly slots = new Map<string, Slot>();

  constructor(private readonly options: Pick<RevocationOptions, 'refreshMs' | 'timeoutMs' | 'maxCrlBytes'>) {}

  /** The CRL at `url`, fetched when the held copy is due; `scanStart` marks what this scan already tried. */
  async get(url: string, now: Date, scanStart: Date, signal?: AbortSignal): Promise<CrlCopy> {
    const slot = this.slot(url);
    if (slot.pending) await slot.pending;
    if (this.due(slot, now, scanStart)) {
      slot.pending = this.fetch(url, slot, now, signal).finally(() => (slot.pending = null));
      await slot.pending;
    }
    return { crl: slot.held?.crl ?? null, fetchedAt: slot.held?.fetchedAt ?? null, attempt: slot.attempt! };
  }

  /** Null when the held CRL at `url` is `issuer`'s; otherwise why it is not believed. */
  verify(url: string, issuer: ParsedCertificate): Promise<string | null> {
    const held = this.slots.get(url)?.held;
    if (!held) return Promise.resolve('no CRL is held');
    let check = held.checks.get(issuer.info.sha256);
    if (!check) {
      check = crlProblem(held.crl, issuer);
      held.checks.set(issuer.info.sha256, check);
    }
    return check;
  }

  private due(slot: Slot, now: Date, scanStart: Date): boolean {
    if (slot.attempt && slot.attempt.at.getTime() >= scanStart.getTime()) return false;
    const held = slot.held;
    if (!held) return true;
    const t = now.getTime();
    const nextUpdate = held.crl.nextUpdate?.getTime();
    return t >= held.fetchedAt.getTime() + this.options.refreshMs || (nextUpdate !== undefined && t >= nextUpdate);
  }

  private async fetch(url: string, slot: Slot, now: Date, signal: AbortSignal | undefined): Promise<void> {
    const r = await httpFetch({
      signal,
      url,
      method: 'GET',
      accept: 'application/pkix-crl, application/x-pkcs7-crl, */*',
      etag: slot.held?.etag,
      lastModified: slot.held?.lastModified,
      timeoutMs: this.options.timeoutMs,
      maxBytes: this.options.maxCrlBytes,
    });
    const attempt = (reachable: boolean, error: string | null): Attempt => ({ at: now, reachable, durationMs: r.durationMs, error });
    switch (r.kind) {
      case 'failed':
        slot.attempt = attempt(false, r.error);
        return;
      case 'not_modified':
        slot.attempt = attempt(true, slot.held ? null : 'HTTP 304 for a CRL never fetched');
        if (slot.held) slot.held.fetchedAt = now;
        return;
      case 'ok': {
        const crl = parseCrl(r.body);
        if (typeof crl === 'string') {
          slot.attempt = attempt(true, crl);
          return;
        }
        slot.attempt = attempt(true, null);
        slot.held = { crl, fetchedAt: now, etag: r.etag, lastModified: r.lastModified, checks: new Map() };
      }
    }
  }

  private slot(url: string): Slot {
    let slot = this.slots.get(url);
    if (!slot) {
      if (this.slots.size >= MAX_URLS) this.slots.delete(this.slots.keys().next().value!);
      slot = { held: null, attempt: null, pending: null };
      this.slots.set(url, slot);
    }
    return slot;
  }
}
