import { CertificateParseError, type ParsedCertificate, parseCertificate, sha256Hex } from './certificate.js';

export type CacheEntry = ParsedCertificate | CertificateParseError;

/**
 * Fleets present the same intermediates and roots over and over: each distinct DER is parsed
 * once and shared. Bounded so that a hostile endpoint rotating junk certificates cannot grow it
 * without limit; the oldest entries go first.
 */
export class CertificateCache {
  private readonly entries = new Map<string, CacheEntry>();

  constructor(private readonly limit = 20_000) {}

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
    if (this.entries.size >= this.limit) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, entry);
    return entry;
  }

  get size(): number {
    return this.entries.size;
  }
}
