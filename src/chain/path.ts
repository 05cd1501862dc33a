import type * as X509 from '@peculiar/x509';
import type { ParsedCertificate } from './certificate.js';
import { refusesCriticalExtension } from './extensions.js';
import type { TrustStore } from './trust-store.js';

export interface CertificationPath {
  /** Leaf first, then each verified issuer; ends at a self-signed certificate or where no issuer was found. */
  certs: ParsedCertificate[];
  /**
   * The path reaches a trust anchor and every certificate on it is acceptable to a client (no
   * critical extension a client must refuse).
   */
  anchored: boolean;
  /** The last certificate of the path signs itself. */
  topSelfSigned: boolean;
  /** Signature checks spent; never more than MAX_SIGNATURE_CHECKS. */
  signatureChecks: number;
}

/**
 * Signature checks one chain may cost. A good chain needs one per certificate plus a few for
 * strays; a server presenting a hundred same-name CAs without key ids would otherwise cost
 * seconds of CPU per endpoint while every other probe waits.
 */
export const MAX_SIGNATURE_CHECKS = 64;
/** Longer paths than this are not built (no real PKI is this deep). */
const MAX_DEPTH = 12;

/**
 * Builds the path a lenient client would: from the leaf, each issuer is looked for among the
 * trust anchors first and then among everything the server presented, in any order, and is
 * accepted only when its key verifies the signature (so a same-name CA with another key is never
 * taken for the real one). Dead ends are backtracked, within MAX_SIGNATURE_CHECKS; when the budget
 * runs out the best path found so far is the answer, which then reads as untrusted.
 */
export async function buildPath(leaf: ParsedCertificate, others: ParsedCertificate[], store: TrustStore): Promise<CertificationPath> {
  const search = new PathSearch(relevantCandidates(leaf, others, store), store);
  const { certs, topSelfSigned } = await search.from(leaf);
  const anchored = certs.some((c) => store.isAnchor(c)) && certs.every((c) => !refusesCriticalExtension(c));
  return { certs, anchored, topSelfSigned, signatureChecks: search.checks };
}

interface Found {
  certs: ParsedCertificate[];
  topSelfSigned: boolean;
}

class PathSearch {
  checks = 0;
  private best: Found | null = null;
  private readonly verdicts = new Map<string, Promise<boolean>>();
  private readonly keys = new Map<string, Promise<CryptoKey | null>>();

  constructor(
    private readonly candidates: ParsedCertificate[],
    private readonly store: TrustStore,
  ) {}

  async from(leaf: ParsedCertificate): Promise<Found> {
    await this.extend([leaf]);
    return this.best ?? { certs: [leaf], topSelfSigned: false };
  }

  /** True once an anchored path is found (the search stops there). */
  private async extend(path: ParsedCertificate[]): Promise<boolean> {
    const current = path[path.length - 1]!;
    if (current.selfIssued && (await this.signs(current, current))) return this.complete(path, true);
    if (path.length < MAX_DEPTH) {
      for (const issuer of this.issuersOf(current, path)) {
        if (!(await this.signs(issuer, current))) continue;
        if (await this.extend([...path, issuer])) return true;
      }
    }
    return this.complete(path, false);
  }

  private complete(path: ParsedCertificate[], topSelfSigned: boolean): boolean {
    const anchored = path.some((c) => this.store.isAnchor(c));
    // Prefer an anchored path, then the longest: it shows the most of what the server sent.
    if (anchored || this.best === null || path.length > this.best.certs.length) this.best = { certs: path, topSelfSigned };
    return anchored;
  }

  /** Same-name candidates not on the path yet; those whose key id matches the authority key id first. */
  private issuersOf(cert: ParsedCertificate, path: ParsedCertificate[]): ParsedCertificate[] {
    const onPath = new Set(path.map((c) => c.info.sha256));
    const aki = cert.info.authorityKeyId;
    const named = this.candidates.filter((c) => c.info.subject === cert.info.issuer && !onPath.has(c.info.sha256));
    if (aki === null) return named;
    // A candidate with a different key id cannot be the issuer; one without a key id might be.
    return [...named.filter((c) => c.info.subjectKeyId === aki), ...named.filter((c) => c.info.subjectKeyId === null)];
  }

  /** Whether `issuer`'s key verifies `cert`'s signature, within the budget (over budget: no). */
  private signs(issuer: ParsedCertificate, cert: ParsedCertificate): Promise<boolean> {
    const id = `${issuer.info.sha256}>${cert.info.sha256}`;
    let verdict = this.verdicts.get(id);
    if (!verdict) {
      if (this.checks >= MAX_SIGNATURE_CHECKS) return Promise.resolve(false);
      this.checks += 1;
      verdict = this.verify(issuer, cert);
      this.verdicts.set(id, verdict);
    }
    return verdict;
  }

  private async verify(issuer: ParsedCertificate, cert: ParsedCertificate): Promise<boolean> {
    try {
      const algorithm = { ...issuer.cert.publicKey.algorithm, ...cert.cert.signatureAlgorithm };
      const keyId = `${issuer.info.sha256}/${JSON.stringify(algorithm)}`;
      let key = this.keys.get(keyId);
      if (!key) {
        key = issuer.cert.publicKey.export(algorithm, ['verify']).catch(() => null);
        this.keys.set(keyId, key);
      }
      const publicKey = await key;
      return publicKey !== null && (await cert.cert.verify({ publicKey, signatureOnly: true }));
    } catch {
      return false;
    }
  }
}

/**
 * Only anchors whose subject some certificate on the way could name as issuer are worth
 * searching; a system store holds well over a hundred roots.
 */
function relevantCandidates(leaf: ParsedCertificate, others: ParsedCertificate[], store: TrustStore): ParsedCertificate[] {
  const presented = dedupe(others.filter((c) => c.info.sha256 !== leaf.info.sha256));
  const wanted = new Set<string>([leaf.info.issuer, ...presented.map((c) => c.info.issuer)]);
  const anchors: ParsedCertificate[] = [];
  const taken = new Set<string>();
  for (let grew = true; grew; ) {
    grew = false;
    for (const anchor of store.anchorsWhere((subject) => wanted.has(subject))) {
      if (taken.has(anchor.info.sha256)) continue;
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
  return certs.filter((c) => {
    if (seen.has(c.info.sha256)) return false;
    seen.add(c.info.sha256);
    return true;
  });
}

type CryptoKey = Awaited<ReturnType<X509.PublicKey['export']>>;
