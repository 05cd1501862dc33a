import type { CertificateInfo, ProblemCode } from '../chain/types.js';
import type { CertChange, PolicyVerdict } from '../fleet/types.js';
import type { EndpointResult, ScanResult } from '../pipeline/types.js';
import type { ProbeError, TlsInfo } from '../probe/types.js';
import type { CertificateRevocation, RevocationUrlHealth } from '../revocation/types.js';
import { type ScanSummary, summarizeScan } from './summary.js';

/** A presented certificate with its revocation status (null: not checked, e.g. the root). */
export type ReportedCertificate = CertificateInfo & { revocation: CertificateRevocation | null };

/** One (target, address) in the JSON report (docs/report.md). */
export interface EndpointReport {
  target: string;
  group: string;
  role: string | null;
  labels: Record<string, string>;
  key: string;
  host: string;
  port: number;
  address: string | null;
  sni: string | null;
  url: string | null;
  ok: boolean;
  error: ProbeError | null;
  durationMs: number;
  tls: TlsInfo | null;
  chain: ReportedCertificate[];
  issuer: { dn: string; keyId: string; spkiSha256: string | null } | null;
  root: { dn: string; sha256: string; spkiSha256: string; keyId: string | null } | null;
  trusted: boolean;
  hostnameMatch: boolean;
  problems: ProblemCode[];
}

/** The report of a scan (`scan --format json`, `/api/v1/status`): endpoints, verdicts, a summary and the changes. */
export interface Report {
  startedAt: string;
  finishedAt: string;
  summary: ScanSummary;
  targets: EndpointReport[];
  policies: PolicyVerdict[];
  changes: CertChange[];
  /** Every CRL and OCSP URL the presented certificates name, with its health; null when revocation checking is off. */
  revocation: { urls: RevocationUrlHealth[] } | null;
}

export function buildReport(scan: ScanResult): Report {
  const reported = new ReportedCertificates();
  const targets = scan.endpoints.map((r) => endpointReport(r, reported));
  return {
    startedAt: scan.startedAt.toISOString(),
    finishedAt: scan.finishedAt.toISOString(),
    summary: summarizeScan(scan),
    targets,
    policies: scan.policies,
    changes: scan.changes,
    revocation: scan.revocationUrls ? { urls: scan.revocationUrls } : null,
  };
}

/**
 * One reported object per certificate and revocation answer (equal answers are one): a fleet
 * presenting one intermediate, and often one leaf, shows the same certificate on thousands of
 * endpoints, and the daemon keeps the report until the next scan.
 */
class ReportedCertificates {
  private readonly byCertificate = new Map<CertificateInfo, Map<string, ReportedCertificate>>();

  of(info: CertificateInfo, revocation: CertificateRevocation | null): ReportedCertificate {
    let byRevocation = this.byCertificate.get(info);
    if (byRevocation === undefined) {
      byRevocation = new Map();
      this.byCertificate.set(info, byRevocation);
    }
    const key = revocation === null ? '' : JSON.stringify(revocation);
    let reported = byRevocation.get(key);
    if (reported === undefined) {
      reported = { ...info, revocation };
      byRevocation.set(key, reported);
    }
    return reported;
  }
}

function endpointReport(r: EndpointResult, reported: ReportedCertificates): EndpointReport {
  const e = r.probe.endpoint;
  const a = r.analysis;
  return {
    target: e.target,
    group: e.group,
    role: e.role,
    labels: e.labels,
    key: e.key,
    host: e.host,
    port: e.port,
    address: e.address,
    sni: e.sni,
    url: e.url,
    ok: r.probe.error === null && a !== null,
    error: r.probe.error,
    durationMs: Math.round(r.probe.durationMs * 10) / 10,
    tls: r.probe.tls,
    chain: (a?.chain ?? []).map((c, i) => reported.of(c, r.revocation?.[i] ?? null)),
    issuer: a?.issuer ?? null,
    root: a?.root ?? null,
    trusted: a?.trusted ?? false,
    hostnameMatch: a?.hostnameMatch ?? false,
    problems: a?.problems ?? [],
  };
}

export type EndpointStatus = 'FAIL' | 'MTLS' | 'ABORTED' | 'WARN' | 'OK';

/** One word for an endpoint, as the table and the status page show it. */
export function endpointStatus(t: EndpointReport): EndpointStatus {
  if (!t.ok) return 'FAIL';
  // The chain was read but the server ended the handshake: on MTLS ports that is the server
  // asking for a client certificate we did not send, which is expected there.
  if (t.tls && !t.tls.completed) return t.tls.alert === 'certificate_required' || t.tls.alert === 'handshake_failure' ? 'MTLS' : 'ABORTED';
  return t.problems.length > 0 ? 'WARN' : 'OK';
}

/** `scan` exits 1 on any finding: a failed probe, a problem, or a divergent policy member. */
export function hasFindings(report: Report): boolean {
  const s = report.summary;
  return s.failed > 0 || s.withProblems > 0 || s.divergent > 0;
}
