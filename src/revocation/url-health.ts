// Per URL, across every certificate of a scan that names it: reachable, stale, expiring, and
// which endpoints depend on it (what an operator needs when a CRL goes missing).
import type { CrlCopy } from './crl-store.js';
import { isFetchable } from './http.js';
import type { OcspCopy } from './ocsp-store.js';
import type { RevocationUrlHealth, RevocationUrlKind } from './types.js';

export class UrlHealthBook {
  private readonly byUrl = new Map<string, RevocationUrlHealth & { who: Set<string> }>();

  constructor(
    private readonly now: Date,
    private readonly staleWarningMs: number,
  ) {}

  /** `who` is the endpoint presenting a certificate that names the URL (null: named by a CRL). */
  depends(url: string, kind: RevocationUrlKind, who: string | null): void {
    let h = this.byUrl.get(url);
    if (!h) {
      const checked = isFetchable(url);
      h = {
        url,
        kind,
        checked,
        reachable: null,
        stale: false,
        expiring: false,
        thisUpdate: null,
        nextUpdate: null,
        fetchedAt: null,
        durationMs: null,
        ocspStatus: null,
        error: checked
          ? null
          : `${schemeOf(url)} is not fetched (not_checked): clients that can only use this location cannot check revocation; publish the CRL over HTTP as well`,
        endpoints: [],
        who: new Set(),
      };
      this.byUrl.set(url, h);
    }
    if (who !== null) h.who.add(who);
  }

  crl(url: string, copy: CrlCopy, problem: string | null): void {
    const h = this.byUrl.get(url);
    if (!h || h.fetchedAt !== null || h.reachable !== null) return;
    h.reachable = copy.attempt.reachable;
    h.durationMs = copy.attempt.durationMs;
    h.error = copy.attempt.error ?? problem;
    if (copy.crl) {
      h.fetchedAt = copy.fetchedAt?.toISOString() ?? null;
      h.thisUpdate = copy.crl.thisUpdate.toISOString();
      this.setNextUpdate(h, copy.crl.nextUpdate ?? null);
    }
  }

  ocsp(url: string, copy: OcspCopy): void {
    const h = this.byUrl.get(url);
    if (!h) return;
    // Many certificates share a responder: its health is the worst answer seen in this scan.
    if (h.reachable === false || (h.error !== null && copy.attempt.error === null)) return;
    h.reachable = copy.attempt.reachable;
    h.durationMs = copy.attempt.durationMs;
    h.fetchedAt = copy.fetchedAt.toISOString();
    h.error = copy.attempt.error;
    const a = copy.answer;
    h.ocspStatus = a.kind === 'answer' ? 'successful' : a.responseStatus;
    if (a.kind === 'answer') {
      h.thisUpdate = a.thisUpdate.toISOString();
      this.setNextUpdate(h, a.nextUpdate);
    }
  }

  list(): RevocationUrlHealth[] {
    return [...this.byUrl.values()].map(({ who, ...h }) => ({ ...h, endpoints: [...who].sort() })).sort((a, b) => a.url.localeCompare(b.url));
  }

  private setNextUpdate(h: RevocationUrlHealth, next: Date | null): void {
    h.nextUpdate = next?.toISOString() ?? null;
    if (!next) return;
    const left = next.getTime() - this.now.getTime();
    h.stale = left < 0;
    h.expiring = left >= 0 && left < this.staleWarningMs;
  }
}

function schemeOf(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(url);
  return m ? `${m[1]!.toLowerCase()}://` : `'${url}' (not a URL)`;
}
