import { rootCertificates } from 'node:tls';
import { pemCertificatesDer } from '../util/pem.js';
import type { CertificateCache } from './cache.js';
import { CertificateParseError, type ParsedCertificate } from './certificate.js';

/**
 * The anchors a path may end in: the configured CA bundles plus, unless disabled, Node's bundled
 * Mozilla roots. Any certificate in a configured bundle is an anchor, intermediates included, so
 * an operator who trusts only an issuing CA gets what they asked for.
 */
export class TrustStore {
  readonly anchors: ParsedCertificate[] = [];
  private readonly bySha256 = new Set<string>();
  private readonly byNameAndKey = new Set<string>();

  constructor(pems: string[], systemRoots: boolean, cache: CertificateCache) {
    const all = [...pems.flatMap(pemCertificatesDer), ...(systemRoots ? rootCertificates.flatMap(pemCertificatesDer) : [])];
    for (const der of all) {
      const parsed = cache.get(der);
      if (parsed instanceof CertificateParseError) continue; // load-time validation already named bad files
      if (this.bySha256.has(parsed.info.sha256)) continue;
      this.anchors.push(parsed);
      this.bySha256.add(parsed.info.sha256);
      this.byNameAndKey.add(nameAndKey(parsed));
    }
  }

  /** A re-issued anchor (same name, same key, new validity) is the same anchor. */
  isAnchor(cert: ParsedCertificate): boolean {
    return this.bySha256.has(cert.info.sha256) || this.byNameAndKey.has(nameAndKey(cert));
  }
}

function nameAndKey(cert: ParsedCertificate): string {
  return `${cert.info.subject}\n${cert.info.spkiSha256}`;
}
