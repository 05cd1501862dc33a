import { rootCertificates } from 'node:tls';
import { pemCertificatesDer } from '../util/pem.js';
import type { CertificateCache } from './cache.js';
import { CertificateParseError, type ParsedCertificate, sha256Hex } from './certificate.js';
import { x509 } from './x509.js';

/** What the store needs of an anchor before parsing it: its subject, and what isAnchor compares. */
interface IndexedAnchor {
  der: Buffer;
  sha256: string;
  subject: string;
  spkiSha256: string;
  /** Parsed on first use; null when it does not parse. */
  parsed?: ParsedCertificate | null;
}

/**
 * The anchors a path may end in: the configured CA bundles plus, unless disabled, Node's bundled
 * Mozilla roots. Any certificate in a configured bundle is an anchor, intermediates included, so
 * an operator who trusts only an issuing CA gets what they asked for.
 *
 * Parsing the 140-odd bundled roots costs more than starting the process; a path needs one or
 * two of them. So each anchor is indexed by its subject and keys (read straight from the DER)
 * and parsed in full only when a path asks for an anchor of its subject.
 */
export class TrustStore {
  private readonly indexed: IndexedAnchor[] = [];
  private readonly bySha256 = new Set<string>();
  private readonly byNameAndKey = new Set<string>();

  constructor(
    pems: string[],
    systemRoots: boolean,
    private readonly cache: CertificateCache,
  ) {
    const all = [...pems.flatMap(pemCertificatesDer), ...(systemRoots ? rootCertificates.flatMap(pemCertificatesDer) : [])];
    for (const der of all) {
      const anchor = indexAnchor(der) ?? this.indexParsed(der);
      if (anchor === null || this.bySha256.has(anchor.sha256)) continue; // load-time validation already named bad files
      this.indexed.push(anchor);
      this.bySha256.add(anchor.sha256);
      this.byNameAndKey.add(`${anchor.subject}\n${anchor.spkiSha256}`);
    }
  }

  /** An anchor the quick index cannot read is parsed in full right away. */
  private indexParsed(der: Buffer): IndexedAnchor | null {
    const parsed = this.cache.get(der);
    if (parsed instanceof CertificateParseError) return null;
    const { sha256, subject, spkiSha256 } = parsed.info;
    return { der, sha256, subject, spkiSha256, parsed };
  }

  /**
   * The anchors (in store order) whose subject `wanted` accepts, parsed. A generator: `wanted` is
   * asked as the walk reaches each anchor, so what the caller learns from one anchor counts for
   * the anchors after it.
   */
  *anchorsWhere(wanted: (subject: string) => boolean): Generator<ParsedCertificate> {
    for (const anchor of this.indexed) {
      if (!wanted(anchor.subject)) continue;
      if (anchor.parsed === undefined) {
        const parsed = this.cache.get(anchor.der);
        anchor.parsed = parsed instanceof CertificateParseError ? null : parsed;
      }
      if (anchor.parsed) yield anchor.parsed;
    }
  }

  /** The anchors parsed so far (a path asked for their subject); the others are only indexed. */
  get anchors(): ParsedCertificate[] {
    return this.indexed.flatMap((anchor) => (anchor.parsed ? [anchor.parsed] : []));
  }

  /** A re-issued anchor (same name, same key, new validity) is the same anchor. */
  isAnchor(cert: ParsedCertificate): boolean {
    return this.bySha256.has(cert.info.sha256) || this.byNameAndKey.has(`${cert.info.subject}\n${cert.info.spkiSha256}`);
  }
}

/** One DER element: where its value starts and where it ends. */
function element(der: Buffer, at: number): { tag: number; start: number; end: number } | null {
  if (at + 2 > der.length) return null;
  let length = der[at + 1]!;
  let start = at + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 4) return null;
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + der[start++]!;
  }
  const end = start + length;
  return end <= der.length ? { tag: der[at]!, start, end } : null;
}

/**
 * Subject (as the parser names it) and keys of a certificate, from the DER without decoding the
 * rest: Certificate → TBSCertificate → [version], serial, signature, issuer, validity, subject,
 * subjectPublicKeyInfo. Null when the DER is not laid out so; the full parser then decides.
 */
function indexAnchor(der: Buffer): IndexedAnchor | null {
  try {
    const cert = element(der, 0);
    const tbs = cert && cert.tag === 0x30 ? element(der, cert.start) : null;
    if (tbs?.tag !== 0x30) return null;
    let at = tbs.start;
    const first = element(der, at);
    if (first?.tag === 0xa0) at = first.end; // version
    for (const tag of [0x02, 0x30, 0x30, 0x30]) {
      // serial, signature, issuer, validity
      const e = element(der, at);
      if (!e || e.tag !== tag) return null;
      at = e.end;
    }
    const subject = element(der, at);
    const spki = subject ? element(der, subject.end) : null;
    if (subject?.tag !== 0x30 || !spki || spki.tag !== 0x30) return null;
    return {
      der,
      sha256: sha256Hex(der),
      subject: new x509.Name(der.subarray(at, subject.end)).toString(),
      spkiSha256: sha256Hex(der.subarray(subject.end, spki.end)),
    };
  } catch {
    return null;
  }
}
