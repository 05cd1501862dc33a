import { CertificateCache } from './cache.js';
import { CertificateParseError, type HeldCertificate, sha256Hex } from './certificate.js';
import { matchesHostname } from './hostname.js';
import { issuerIdentity, rootIdentity } from './identity.js';
import { buildPath, type CertificationPath } from './path.js';
import { structuralProblems, validityProblems } from './problems.js';
import { TrustStore } from './trust-store.js';
import { type CertificateInfo, type ChainAnalysis, isUnreadable, PROBLEM_ORDER, type ProblemCode, type UnreadableLeaf } from './types.js';

export interface AnalyzerOptions {
  /** PEM bundles of the configured anchors (trust.ca_files contents). */
  anchorsPem: string[];
  systemRoots: boolean;
  expiryWarningMs: number;
}

interface ReadableChain {
  path: CertificationPath;
  chain: CertificateInfo[];
  structural: ProblemCode[];
}

type ChainFacts = ReadableChain | UnreadableLeaf;

/**
 * Turns a presented chain into the per-endpoint findings of the report. Holds the parse cache, the trust
 * store and the result of path building per distinct presented chain, so a fleet whose members
 * share intermediates pays for each certificate and each chain once. Use one per config; call
 * scanFinished() after each scan so that what it holds is what the fleet presents now.
 */
export class ChainAnalyzer {
  private readonly cache = new CertificateCache();
  private readonly store: TrustStore;
  private readonly facts = new Map<string, Promise<ChainFacts>>();
  /** Keys of the chains presented since the last scanFinished(). */
  private readonly presentedNow = new Set<string>();

  constructor(private readonly options: AnalyzerOptions) {
    this.store = new TrustStore(options.anchorsPem, options.systemRoots, this.cache);
  }

  /**
   * `name` is what the hostname must match: the target's SNI override, else its host.
   *
   * Each entry of `presented` that parses is replaced by the cache's copy of the same bytes. A
   * chain from a probe process arrives as views into the message that carried a whole batch of
   * results, and one view keeps that message alive: at 10,000 endpoints about 20 MB until the
   * scan's results are dropped.
   */
  async analyze(presented: Buffer[], name: string, now: Date): Promise<ChainAnalysis | UnreadableLeaf> {
    if (presented.length === 0) return { unreadable: 'the server sent an empty certificate list' };
    const hashes = presented.map((der) => sha256Hex(der));
    const key = hashes.join(',');
    this.presentedNow.add(key);
    let facts = this.facts.get(key);
    if (!facts) {
      // A crash here is our bug: it rejects, for every endpoint presenting these certificates,
      // and the caller reports it as such (an unreadable leaf is not a crash).
      facts = this.computeFacts(presented);
      this.facts.set(key, facts);
    }
    const resolved = await facts;
    for (let i = 0; i < presented.length; i++) presented[i] = this.cache.held(hashes[i]!)?.der ?? presented[i]!;
    if (isUnreadable(resolved)) return resolved;
    const { path, chain, structural } = resolved;
    const problems = new Set<ProblemCode>([...structural, ...validityProblems(path, now, this.options.expiryWarningMs)]);
    const hostnameMatch = matchesHostname(chain[0]!, name);
    if (!hostnameMatch) problems.add('hostname_mismatch');
    return {
      chain,
      issuer: issuerIdentity(path),
      root: rootIdentity(path),
      trusted: path.anchored,
      hostnameMatch,
      problems: PROBLEM_ORDER.filter((p) => problems.has(p)),
      path: path.certs,
    };
  }

  /**
   * Forgets the chains and certificates no endpoint presented since the last call (renewed
   * leaves, endpoints gone from the config), so memory follows the fleet and not its history.
   * Call it when no analysis is in flight.
   */
  scanFinished(): void {
    const keep = new Set(this.store.anchors.map((a) => a.info.sha256));
    for (const key of this.facts.keys()) if (!this.presentedNow.has(key)) this.facts.delete(key);
    for (const key of this.presentedNow) for (const sha256 of key.split(',')) keep.add(sha256);
    this.presentedNow.clear();
    this.cache.retainOnly(keep);
  }

  private async computeFacts(presented: Buffer[]): Promise<ChainFacts> {
    const entries = presented.map((der) => this.cache.get(der));
    const leaf = entries[0];
    if (leaf instanceof CertificateParseError || leaf === undefined) {
      const reason = leaf?.message ?? 'missing';
      return { unreadable: `the server's own certificate (position 0) cannot be read: ${reason}` };
    }
    const parsed = entries.filter((e): e is HeldCertificate => !(e instanceof CertificateParseError));
    const path = await buildPath(leaf, parsed.slice(1), this.store);
    const structural = structuralProblems(parsed, path);
    if (parsed.length < entries.length || parsed.some((c) => c.unreadableExtension)) structural.push('malformed_certificate');
    const chain = entries.map((e, i) => (e instanceof CertificateParseError ? unparsableInfo(presented[i]!, e) : e.info));
    return { path, chain, structural };
  }
}

/** A placeholder that keeps the presented position visible in reports. */
function unparsableInfo(der: Buffer, err: CertificateParseError): CertificateInfo {
  return {
    subject: `(unparsable certificate: ${err.message})`,
    issuer: '',
    serialNumber: '',
    notBefore: '',
    notAfter: '',
    sha256: sha256Hex(der),
    spkiSha256: '',
    subjectKeyId: null,
    authorityKeyId: null,
    signatureAlgorithm: '',
    publicKey: { algorithm: 'unknown', bits: null },
    dnsNames: [],
    ipAddresses: [],
    isCA: false,
  };
}
