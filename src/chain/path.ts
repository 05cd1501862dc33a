import type { ParsedCertificate } from './certificate.js';
import type { TrustStore } from './trust-store.js';
import { x509 } from './x509.js';

export interface CertificationPath {
  /** Leaf first, then each verified issuer; ends at a self-signed certificate or where no issuer was found. */
  certs: ParsedCertificate[];
  /** The path reaches a trust anchor. */
  anchored: boolean;
  /** The last certificate of the path signs itself. */
  topSelfSigned: boolean;
}

/**
 * Builds the path a lenient client would: from the leaf, each issuer is looked for among the
 * trust anchors first and then among everything the server presented, in any order, and is
 * accepted only when its key verifies the signature (so a same-name CA with another key is never
 * taken for the real one). Duplicates and strays are simply not used.
 */
export async function buildPath(leaf: ParsedCertificate, others: ParsedCertificate[], store: TrustStore): Promise<CertificationPath> {
  const candidates = relevantCandidates(leaf, others, store);
  const byObject = new Map<x509.X509Certificate, ParsedCertificate>(candidates.map((c) => [c.cert, c]));
  byObject.set(leaf.cert, leaf);
  let certs: ParsedCertificate[] = [leaf];
  try {
    const builder = new x509.X509ChainBuilder({ certificates: candidates.map((c) => c.cert) });
    const built = await builder.build(leaf.cert);
    certs = built.map((c) => byObject.get(c)).filter((c): c is ParsedCertificate => c !== undefined);
  } catch {
    // A loop among the presented certificates: keep the leaf alone, which reports it as untrusted.
  }
  const top = certs[certs.length - 1] ?? leaf;
  const topSelfSigned = top.selfIssued && (await verifiesItself(top));
  return { certs, anchored: certs.some((c) => store.isAnchor(c)), topSelfSigned };
}

async function verifiesItself(cert: ParsedCertificate): Promise<boolean> {
  try {
    return await cert.cert.verify({ signatureOnly: true });
  } catch {
    return false;
  }
}

/**
 * Only anchors whose subject some certificate on the way could name as issuer are worth
 * handing to the builder; a system store holds well over a hundred roots.
 */
function relevantCandidates(leaf: ParsedCertificate, others: ParsedCertificate[], store: TrustStore): ParsedCertificate[] {
  const presented = dedupe(others.filter((c) => c.info.sha256 !== leaf.info.sha256));
  const wanted = new Set<string>([leaf.info.issuer, ...presented.map((c) => c.info.issuer)]);
  const anchors: ParsedCertificate[] = [];
  const taken = new Set<string>();
  for (let grew = true; grew; ) {
    grew = false;
    for (const anchor of store.anchors) {
      if (taken.has(anchor.info.sha256) || !wanted.has(anchor.info.subject)) continue;
      taken.add(anchor.info.sha256);
      anchors.push(anchor);
      if (!wanted.has(anchor.info.issuer)) {
        wanted.add(anchor.info.issuer);
        grew = true;
      }
    }
  }
  return [...anchors, ...presented.filter((c) => !taken.has(c.info.sha256))];
}

function dedupe(certs: ParsedCertificate[]): ParsedCertificate[] {
  const seen = new Set<string>();
  return certs.filter((c) => (seen.has(c.info.sha256) ? false : (seen.add(c.info.sha256), true)));
}
