// The revocation stage: after chain analysis, every distinct certificate on a presented path is
// checked once per scan against the sources its issuer publishes (a stapled OCSP response, the
// OCSP responder, the CRL and its delta), each answer verified with the issuer's key. Its caches
// and clock are its own: revocation status changes with time while a chain does not.
import type { ParsedCertificate } from '../chain/certificate.js';
import { type EndpointResult as AnalyzedEndpoint, PROBLEM_ORDER, type ProblemCode } from '../chain/types.js';
import { type CrlEntryFound, deltaFitsBase, findEntry, isDelta } from './crl.js';
import { type CrlCopy, CrlStore } from './crl-store.js';
import { isFetchable } from './http.js';
import { type OcspAnswer, readOcspResponse } from './ocsp.js';
import { OcspStore } from './ocsp-store.js';
import { deltaPointsOfCrl, type RevocationPoints, revocationPoints } from './points.js';
import type { CertificateRevocation, EndpointResult, RevocationOptions, RevocationSource, RevocationStatus, RevocationUrlHealth } from './types.js';
import { UrlHealthBook } from './url-health.js';

/** One source's answer for one certificate. */
interface Answer {
  source: RevocationSource;
  status: RevocationStatus;
  thisUpdate: Date | null;
  nextUpdate: Date | null;
  revokedAt: Date | null;
  reason: string | null;
  error: string | null;
}

interface CertificateCheck {
  revocation: CertificateRevocation;
  /** At least one source was asked (or the issuer needed to verify one was missing). */
  hadSource: boolean;
}

/** What the network sources said about a certificate (the staple is per endpoint). */
interface Fetched {
  crlUrl: string | null;
  ocspUrl: string | null;
  answers: Answer[];
  /** Set when the certificate names no usable source at all. */
  noSource: string | null;
}

export class RevocationChecker {
  private readonly crls: CrlStore;
  private readonly ocsp: OcspStore;

  constructor(
    private readonly options: RevocationOptions,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.crls = new CrlStore(options);
    this.ocsp = new OcspStore(options);
  }

  /**
   * One scan's checks, made endpoint by endpoint as the scan hands them over, so that fetching
   * CRLs and OCSP answers overlaps the probing of the rest of the fleet. `signal` cancels the
   * requests in flight (shutdown or reload); their sources then count as failed.
   */
  startPass(signal?: AbortSignal): ScanPass {
    return new ScanPass(this.options, this.crls, this.ocsp, this.clock(), signal);
  }
}

/** One scan's worth of checks: each certificate is looked up once, whoever presents it. */
export class ScanPass {
  private readonly health: UrlHealthBook;
  private readonly fetched = new Map<string, Promise<Fetched>>();
  private readonly points = new Map<string, RevocationPoints>();

  constructor(
    private readonly options: RevocationOptions,
    private readonly crls: CrlStore,
    private readonly ocsp: OcspStore,
    private readonly now: Date,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.health = new UrlHealthBook(now, options.staleWarningMs);
  }

  /** The health of every source the endpoints checked so far depend on. */
  urls(): RevocationUrlHealth[] {
    return this.health.list();
  }

  async endpoint(result: AnalyzedEndpoint): Promise<EndpointResult> {
    const analysis = result.analysis;
    if (!analysis) return result;
    const e = result.probe.endpoint;
    const who = e.address ? `${e.target} (${e.address})` : e.target;
    const path = analysis.path;
    const checks = await Promise.all(
      analysis.chain.map((info) =>
        // Whatever one certificate carries (a garbled extension, say) must not take the scan down.
        this.certificate(info.sha256, path, result, who).catch(
          (err: unknown): CertificateCheck => ({
            revocation: unknown(null, null, `its revocation sources cannot be read (${(err as Error).message})`),
            hadSource: true,
          }),
        ),
      ),
    );
    const revocation = checks.map((c) => c?.revocation ?? null);
    const problems = new Set<ProblemCode>(analysis.problems);
    if (revocation.some((r) => r?.status === 'revoked')) problems.add('revoked');
    // A certificate that names no source we check is reported, but only a source that failed is a problem.
    if (checks.some((c) => c?.revocation.status === 'unknown' && c.hadSource)) problems.add('revocation_unknown');
    return { ...result, analysis: { ...analysis, problems: PROBLEM_ORDER.filter((p) => problems.has(p)) }, revocation };
  }

  private async certificate(sha256: string, path: ParsedCertificate[], result: AnalyzedEndpoint, who: string): Promise<CertificateCheck | null> {
    const at = path.findIndex((c) => c.info.sha256 === sha256);
    if (at < 0) return null; // not on the path: nothing relies on it
    const cert = path[at]!;
    const issuer = path[at + 1];
    if (!issuer) {
      if (at > 0 || cert.selfIssued) return null; // the anchor, or a self-signed server certificate
      const error = `the issuer's certificate (${cert.info.issuer}) was neither presented nor found in the trust store, so no CRL or OCSP answer can be verified`;
      const points = this.pointsOf(cert);
      const named = [...points.crl, ...points.ocsp].some(isFetchable) || result.probe.stapledOcsp !== null;
      return { revocation: unknown(points.crl[0] ?? null, points.ocsp[0] ?? null, error), hadSource: named };
    }
    const fetched = await this.fetch(cert, issuer, who);
    const answers = [...fetched.answers];
    if (at === 0 && result.probe.stapledOcsp) answers.unshift(this.stapled(result.probe.stapledOcsp, cert, issuer));
    return { revocation: combine(fetched, answers), hadSource: answers.length > 0 };
  }

  /** A certificate's sources, read once per scan however many endpoints present it. */
  private pointsOf(cert: ParsedCertificate): RevocationPoints {
    let p = this.points.get(cert.info.sha256);
    if (!p) {
      p = revocationPoints(cert.cert);
      this.points.set(cert.info.sha256, p);
    }
    return p;
  }

  private fetch(cert: ParsedCertificate, issuer: ParsedCertificate, who: string): Promise<Fetched> {
    const points = this.pointsOf(cert);
    for (const url of points.crl) this.health.depends(url, 'crl', who);
    for (const url of points.deltaCrl) this.health.depends(url, 'delta_crl', who);
    if (this.options.ocsp) for (const url of points.ocsp) this.health.depends(url, 'ocsp', who);
    const key = `${cert.info.sha256}|${issuer.info.sha256}`;
    let f = this.fetched.get(key);
    if (!f) {
      f = this.lookUp(cert, issuer, points);
      this.fetched.set(key, f);
    }
    return f;
  }

  private async lookUp(cert: ParsedCertificate, issuer: ParsedCertificate, points: RevocationPoints): Promise<Fetched> {
    const crlUrls = points.crl.filter(isFetchable);
    const ocspUrls = this.options.ocsp ? points.ocsp.filter(isFetchable) : [];
    const [crl, ocsp] = await Promise.all([
      crlUrls.length > 0 ? this.fromCrl(crlUrls, [...points.deltaCrl], cert, issuer) : null,
      ocspUrls.length > 0 ? this.fromOcsp(ocspUrls[0]!, cert, issuer) : null,
    ]);
    const answers = [ocsp, crl].filter((a): a is Answer => a !== null);
    let noSource: string | null = null;
    if (answers.length === 0) {
      const named = [...points.crl, ...(this.options.ocsp ? points.ocsp : [])];
      noSource =
        named.length > 0
          ? `only ${named.join(', ')} ${named.length === 1 ? 'is' : 'are'} named, and only http(s) sources are checked (not_checked)`
          : points.ocsp.length > 0
            ? 'the certificate names no CRL distribution point, and OCSP checking is off (revocation.ocsp)'
            : 'the certificate names no CRL distribution point and no OCSP responder';
    }
    return { crlUrl: crlUrls[0] ?? points.crl[0] ?? null, ocspUrl: points.ocsp[0] ?? null, answers, noSource };
  }

  /** The first distribution point that yields the issuer's CRL answers; the errors of the others are kept. */
  private async fromCrl(urls: string[], deltaUrls: string[], cert: ParsedCertificate, issuer: ParsedCertificate): Promise<Answer> {
    const errors: string[] = [];
    // Delta CRLs the certificate names are fetched alongside the base, so the two share one timeout.
    for (const url of deltaUrls.filter(isFetchable)) void this.crls.get(url, this.now, this.now, this.signal);
    for (const url of urls) {
      const copy = await this.crls.get(url, this.now, this.now, this.signal);
      const problem = copy.crl ? await this.crls.verify(url, issuer) : null;
      this.health.crl(url, copy, problem);
      if (!copy.crl) {
        errors.push(`CRL ${url}: ${copy.attempt.error}`);
        continue;
      }
      if (problem) {
        errors.push(`CRL ${url}: ${problem}`);
        continue;
      }
      const crl = copy.crl;
      let entry = findEntry(crl, cert);
      const delta = await this.delta([...deltaUrls, ...deltaPointsOfCrl(crl)], copy, cert, issuer);
      if (typeof delta === 'string') errors.push(delta);
      else if (delta) entry = delta.reason === 'removeFromCRL' ? null : delta;
      const stale = crl.nextUpdate !== undefined && crl.nextUpdate.getTime() < this.now.getTime();
      if (!entry && stale) {
        errors.push(
          `CRL ${url}: it expired at its nextUpdate ${crl.nextUpdate!.toISOString()} (stale) and no newer one could be fetched${copy.attempt.error ? ` (${copy.attempt.error})` : ''}`,
        );
        break;
      }
      return {
        source: 'crl',
        status: entry ? 'revoked' : 'good',
        thisUpdate: crl.thisUpdate,
        nextUpdate: crl.nextUpdate ?? null,
        revokedAt: entry?.revokedAt ?? null,
        reason: entry?.reason ?? null,
        error: errors.length > 0 ? errors.join('; ') : null,
      };
    }
    return { source: 'crl', status: 'unknown', thisUpdate: null, nextUpdate: null, revokedAt: null, reason: null, error: errors.join('; ') };
  }

  /** The delta CRL's word on the certificate: an entry, null (not listed), or why it could not be used. */
  private async delta(urls: string[], base: CrlCopy, cert: ParsedCertificate, issuer: ParsedCertificate): Promise<CrlEntryFound | null | string> {
    const url = [...new Set(urls)].find(isFetchable);
    if (!url || !base.crl) return null;
    this.health.depends(url, 'delta_crl', null);
    const copy = await this.crls.get(url, this.now, this.now, this.signal);
    const problem = copy.crl ? ((await this.crls.verify(url, issuer)) ?? (isDelta(copy.crl) ? null : 'it is not a delta CRL')) : null;
    this.health.crl(url, copy, problem);
    if (!copy.crl) return `delta CRL ${url}: ${copy.attempt.error}`;
    if (problem) return `delta CRL ${url}: ${problem}`;
    if (!deltaFitsBase(copy.crl, base.crl)) return `delta CRL ${url}: it belongs to a newer base CRL than the one held`;
    return findEntry(copy.crl, cert);
  }

  private async fromOcsp(url: string, cert: ParsedCertificate, issuer: ParsedCertificate): Promise<Answer> {
    const copy = await this.ocsp.get(url, cert, issuer, this.now, this.now, this.signal);
    this.health.ocsp(url, copy);
    return fromOcspAnswer('ocsp', copy.answer, `OCSP ${url}`);
  }

  private stapled(der: Buffer, cert: ParsedCertificate, issuer: ParsedCertificate): Answer {
    return fromOcspAnswer('stapled', readOcspResponse(der, cert, issuer, null, this.now), 'stapled OCSP response');
  }
}

function fromOcspAnswer(source: RevocationSource, a: OcspAnswer, what: string): Answer {
  if (a.kind === 'error') return { source, status: 'unknown', thisUpdate: null, nextUpdate: null, revokedAt: null, reason: null, error: `${what}: ${a.error}` };
  return {
    source,
    status: a.status,
    thisUpdate: a.thisUpdate,
    nextUpdate: a.nextUpdate,
    revokedAt: a.revokedAt,
    reason: a.reason,
    error: a.status === 'unknown' ? `${what}: the responder does not know this certificate` : null,
  };
}

/** Revoked by any verified source wins; then good; otherwise unknown, saying why for each source. */
function combine(f: Fetched, answers: Answer[]): CertificateRevocation {
  const chosen = answers.find((a) => a.status === 'revoked') ?? answers.find((a) => a.status === 'good');
  const errors = answers.filter((a) => a !== chosen && a.error).map((a) => a.error!);
  if (!chosen) return unknown(f.crlUrl, f.ocspUrl, errors.length > 0 ? errors.join('; ') : (f.noSource ?? 'no source could answer'));
  if (chosen.error) errors.unshift(chosen.error);
  return {
    status: chosen.status,
    source: chosen.source,
    crlUrl: f.crlUrl,
    ocspUrl: f.ocspUrl,
    thisUpdate: iso(chosen.thisUpdate),
    nextUpdate: iso(chosen.nextUpdate),
    revokedAt: iso(chosen.revokedAt),
    reason: chosen.reason,
    error: errors.length > 0 ? errors.join('; ') : null,
  };
}

function unknown(crlUrl: string | null, ocspUrl: string | null, error: string): CertificateRevocation {
  return { status: 'unknown', source: null, crlUrl, ocspUrl, thisUpdate: null, nextUpdate: null, revokedAt: null, reason: null, error };
}

function iso(d: Date | null): string | null {
  return d ? d.toISOString() : null;
}
