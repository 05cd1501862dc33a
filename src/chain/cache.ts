import { CertificateParseError, type HeldCertificate, parseCertificate, sha256Hex } from './certificate.js';

export type CacheEntry = HeldCertificate | CertificateParseError;

/**
 * Fleets present the same intermediates and roots over and over: each distinct DER is parsed
 * once and shared. The owner says after each scan which certificates are still presented
 * (retainOnly), so the cache is as large as the fleet's distinct certificates: a hostile
 * endpoint rotating junk certificates adds at most its own chain per scan.
 */
export class CertificateCache {
  private readonly entries = new Map<string, CacheEntry>();

  get(der: Buffer): CacheEntry {
    const key = sha256Hex(der);
    const hit = this.entries.get(key);
    if (hit !== undefined) return hit;
    let entry: CacheEntry;
    try {
      entry = parseCertificate(der);
    } catch (err) {
      entry = err instanceof CertificateParseError ? err : new CertificateParseError(String(err));
    }
    this.entries.set(key, entry);
    return entry;
  }

  /** The parsed certificate with this SHA-256, when it is held; never parses. */
  held(sha256: string): HeldCertificate | undefined {
    const entry = this.entries.get(sha256);
    return entry instanceof CertificateParseError ? undefined : entry;
  }

  /**
   * Forgets every certificate whose SHA-256 is not in `keep`, and lets the kept ones drop their
   * decoded structure until it is next needed (see HeldCertificate).
   */
  retainOnly(keep: ReadonlySet<string>): void {
    for (const [key, entry] of this.entries) {
      if (!keep.has(key)) this.entries.delete(key);
      else if (!(entry instanceof CertificateParseError)) entry.release();
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
