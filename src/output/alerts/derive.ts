// The alerts one scan implies, as pure data: what is wrong right now, worded for the person who
// gets paged. No clocks, no I/O; the dispatcher decides what is new and what has ended.

import { caFullLabel, caLabel, commonName, keyPrefix } from '../../chain/ca-label.js';
import type { CertChange, PolicyVerdict } from '../../fleet/types.js';
import type { EndpointResult, ScanResult } from '../../pipeline/types.js';
import { targetPageLink } from '../links.js';
import { fingerprint } from './fingerprint.js';
import { daysText, endpointLabel, orList } from './text.js';
import type { Alert, AlertAnnotations, AlertName, Severity } from './types.js';

export interface DeriveOptions {
  /** Base URL of the status page; alerts link back to it. */
  externalUrl: string;
  /** A leaf closer than this to notAfter raises ChainwatchCertificateExpiringSoon. */
  expiryWarningMs: number;
  now: Date;
  /** How long a certificate change stays active as an alert. Default 1h. */
  changeHoldMs?: number;
  /** Below this, an expiring certificate is critical rather than a warning. Default 7 days. */
  expiryCriticalMs?: number;
  /** Consecutive failed scans before ChainwatchProbeFailing fires. Default 2. */
  probeFailingScans?: number;
}

export const DEFAULT_CHANGE_HOLD_MS = 3_600_000;
export const DEFAULT_EXPIRY_CRITICAL_MS = 7 * 86_400_000;
export const DEFAULT_PROBE_FAILING_SCANS = 2;

interface Draft {
  name: AlertName;
  severity: Severity;
  labels: Record<string, string>;
  annotations: AlertAnnotations;
  target: string;
  startsAt: Date;
  holdUntil: Date | null;
  forScans: number;
}

/** Every alert condition active in this scan (and the certificate changes it found). */
export function deriveAlerts(scan: ScanResult, opts: DeriveOptions): Alert[] {
  const drafts: Draft[] = [];
  for (const verdict of scan.policies) drafts.push(...divergenceAlerts(verdict, opts));
  for (const change of scan.changes) drafts.push(changeAlert(change, opts));
  for (const ep of scan.endpoints) {
    const expiring = expiryAlert(ep, opts);
    if (expiring) drafts.push(expiring);
    const failing = probeFailingAlert(ep, opts);
    if (failing) drafts.push(failing);
    drafts.push(...revokedAlerts(ep, opts));
  }
  drafts.push(...crlAlerts(scan, opts));
  const byFingerprint = new Map<string, Alert>();
  for (const d of drafts) {
    const alert = finish(d, opts.externalUrl);
    byFingerprint.set(alert.fingerprint, alert);
  }
  return [...byFingerprint.values()];
}

/**
 * Whether this scan could not tell if an alert's condition still holds: the endpoint was not
 * reachable, so its chain, and with it divergence and expiry, is unknown. The dispatcher keeps
 * such an alert as it was instead of resolving it, so a server that stops answering does not
 * look "fixed". The scan is indexed once, not searched per alert: when a whole fleet of 10,000
 * endpoints with firing alerts stops answering, every one of them is asked about.
 */
export function undeterminedIn(scan: ScanResult): (alert: Alert) => boolean {
  const at = (target: string, address: string | null | undefined) => `${target}\u0000${address ?? ''}`;
  const unreadEndpoints = new Set(scan.endpoints.filter((e) => e.analysis === null).map((e) => at(e.probe.endpoint.target, e.probe.endpoint.address)));
  const unjudgedMembers = new Set(scan.policies.flatMap((p) => p.unknown.map((m) => `${p.name}\u0000${at(m.target, m.address)}`)));
  return (alert) => {
    const { alertname, target, address, policy } = alert.labels;
    if (target === undefined) return false;
    if (alertname === 'ChainwatchIssuerDivergence') return policy !== undefined && unjudgedMembers.has(`${policy}\u0000${at(target, address)}`);
    if (alertname === 'ChainwatchCertificateExpiringSoon' || alertname === 'ChainwatchCertificateRevoked') return unreadEndpoints.has(at(target, address));
    return false;
  };
}

function finish(d: Draft, externalUrl: string): Alert {
  const labels: Record<string, string> = { alertname: d.name };
  const all: Record<string, string> = { ...d.labels, severity: d.severity };
  for (const [k, v] of Object.entries(all)) if (v !== '') labels[k] = v;
  return {
    labels,
    annotations: stored(d.annotations),
    startsAt: d.startsAt,
    generatorURL: flat(targetPageLink(externalUrl, d.target)),
    fingerprint: fingerprint(labels),
    holdUntil: d.holdUntil,
    forScans: d.forScans,
  };
}

/**
 * V8 keeps a string built by concatenation as a tree of its parts until something reads it
 * whole, then stores it flat. Alerts are kept from scan to scan, several texts for each of
 * thousands of endpoints (a daemon watching 10,000 expiring endpoints held 245,000 such parts,
 * 7.5 MB of its heap): reading one character of each stores them flat.
 */
function stored<T extends Record<string, string>>(texts: T): T {
  for (const text of Object.values(texts)) flat(text);
  return texts;
}

function flat(text: string): string {
  text.charCodeAt(0);
  return text;
}

function divergenceAlerts(v: PolicyVerdict, opts: DeriveOptions): Draft[] {
  const byRoot = v.match === 'root';
  return v.divergent.map((m) => {
    // A scoped policy expects a different CA in each scope: the member's own is the one to name.
    const expected = m.expected.map(caLabel);
    const where = m.scope !== null ? ` in ${v.scope} ${m.scope || '(none)'}` : '';
    const expectedText =
      expected.length > 0
        ? `${byRoot ? 'root ' : ''}${orList(expected)}${where}`
        : v.reference
          ? `one ${byRoot ? 'root' : 'CA'}${where}, and reference group ${v.reference} is split evenly between several (seen among members: ${orList(v.issuers.map(caLabel))})`
          : `all members to share one ${byRoot ? 'root' : 'CA'}${where}, and none is held by most of them (seen: ${orList(v.issuers.map(caLabel))})`;
    const expectedFull = m.expected.map(caFullLabel);
    const basis = v.reference
      ? `the most common CA of reference group ${v.reference}${where}`
      : expected.length > 0
        ? `the CA most of its members hold${where}, or its pinned CAs`
        : `a CA shared by all members${where}`;
    const ep = endpointLabel(m.target, m.address);
    const what = byRoot ? `chains to root ${caLabel(m.issuer)}` : `presents a certificate from ${caLabel(m.issuer)}`;
    const summary = `${ep} ${what}; policy ${v.name} expects ${expectedText}`;
    const lines = [
      `${ep}, in group ${m.group}, ${byRoot ? 'chains to root' : 'presents a certificate issued by'} ${caFullLabel(m.issuer)}.`,
      `Policy ${v.name} (match: ${v.match}) requires ${basis}${expectedFull.length > 0 ? `: ${orList(expectedFull)}.` : '.'}`,
      expected.length > 0
        ? `Bind a certificate issued by ${orList(m.expected.map((ca) => commonName(ca.dn)))} on ${m.target}, or, if the new CA is intended, update the policy.`
        : `Decide which CA is right, re-issue the others' certificates from it, or pin it with allowed_issuers.`,
      ...v.notes,
    ];
    return {
      name: 'ChainwatchIssuerDivergence' as const,
      severity: 'critical' as const,
      labels: { policy: v.name, target: m.target, address: m.address ?? '', group: m.group },
      annotations: { summary, description: lines.join(' ') },
      target: m.target,
      startsAt: opts.now,
      holdUntil: null,
      forScans: 1,
    };
  });
}

function changeAlert(c: CertChange, opts: DeriveOptions): Draft {
  const ep = endpointLabel(c.target, c.address);
  const from = c.from;
  const to = c.to;
  const leaf = (s: typeof from) =>
    `${s.leafSubject ?? 'an unnamed certificate'} (SHA-256 ${keyPrefix(s.leafSha256)}${s.leafNotAfter ? `, valid until ${s.leafNotAfter}` : ''})`;
  const ca = (s: typeof from) => (s.issuer ? caLabel(s.issuer) : 'an unidentified CA');
  let summary: string;
  let description: string;
  let severity: Severity = 'info';
  switch (c.kind) {
    case 'renewal':
      summary = `${ep}: new certificate, renewed under the same CA ${ca(to)}`;
      description = `The leaf changed from ${leaf(from)} to ${leaf(to)}; the issuing CA is unchanged. Nothing to do if this renewal was planned.`;
      break;
    case 'issuer_change':
      severity = 'warning';
      summary = `${ep}: new certificate from a different CA: ${ca(to)}, previously ${ca(from)}`;
      description =
        `The leaf changed from ${leaf(from)} to ${leaf(to)}, and the issuing CA changed from ${ca(from)} to ${ca(to)}. ` +
        `If this was not planned, check which certificate is bound on ${c.target}; policies that include it will raise ChainwatchIssuerDivergence if the CA is not allowed.`;
      break;
    case 'chain_change':
      summary = `${ep}: same leaf certificate, different chain presented (${from.chain.length} → ${to.chain.length} certificates)`;
      description =
        `The server still presents ${leaf(to)} but sends a different set of CA certificates with it. ` +
        `Clients that relied on the old intermediates may fail to build a path; check the chain bound on ${c.target}.`;
      break;
  }
  const at = new Date(c.at);
  const startsAt = Number.isNaN(at.getTime()) ? opts.now : at;
  return {
    name: 'ChainwatchCertificateChanged',
    severity,
    labels: { target: c.target, address: c.address ?? '', group: c.group, change: c.kind, leaf_sha256: to.leafSha256 },
    annotations: { summary, description },
    target: c.target,
    startsAt,
    holdUntil: new Date(startsAt.getTime() + (opts.changeHoldMs ?? DEFAULT_CHANGE_HOLD_MS)),
    forScans: 1,
  };
}

function expiryAlert(r: EndpointResult, opts: DeriveOptions): Draft | null {
  const leaf = r.analysis?.chain[0];
  if (!leaf) return null;
  const notAfter = new Date(leaf.notAfter);
  if (Number.isNaN(notAfter.getTime())) return null;
  const left = notAfter.getTime() - opts.now.getTime();
  if (left >= opts.expiryWarningMs) return null;
  const e = r.probe.endpoint;
  const ep = endpointLabel(e.target, e.address);
  const cn = commonName(leaf.subject);
  const expired = left <= 0;
  const summary = expired
    ? `${ep}: certificate ${cn} expired ${daysText(left)} ago (${leaf.notAfter})`
    : `${ep}: certificate ${cn} expires in ${daysText(left)} (${leaf.notAfter})`;
  const description =
    `Leaf certificate ${leaf.subject}, serial ${leaf.serialNumber}, issued by ${leaf.issuer}, is valid until ${leaf.notAfter}. ` +
    (expired
      ? `Clients reject it now: renew it and bind the new certificate on ${e.host}:${e.port}.`
      : `Renew it and bind the new certificate on ${e.host}:${e.port} before then.`);
  return {
    name: 'ChainwatchCertificateExpiringSoon',
    severity: left < (opts.expiryCriticalMs ?? DEFAULT_EXPIRY_CRITICAL_MS) ? 'critical' : 'warning',
    labels: { target: e.target, address: e.address ?? '', group: e.group },
    annotations: {
      summary,
      description,
      days_left: String(Math.floor(left / 86_400_000)),
      not_after: leaf.notAfter,
    },
    target: e.target,
    startsAt: opts.now,
    holdUntil: null,
    forScans: 1,
  };
}

function probeFailingAlert(r: EndpointResult, opts: DeriveOptions): Draft | null {
  const err = r.probe.error;
  if (!err) return null;
  const e = r.probe.endpoint;
  const where = `${e.host}:${e.port}${e.address && e.address !== e.host ? ` at ${e.address}` : ''}`;
  return {
    name: 'ChainwatchProbeFailing',
    severity: 'warning',
    labels: { target: e.target, address: e.address ?? '', group: e.group, kind: err.kind },
    annotations: {
      summary: `${e.target} (${where}) cannot be probed: ${err.kind}`,
      description: `${err.message} Until it answers with TLS, chainwatch cannot check its certificate chain, its policies or its expiry.`,
    },
    target: e.target,
    startsAt: opts.now,
    holdUntil: null,
    forScans: Math.max(1, opts.probeFailingScans ?? DEFAULT_PROBE_FAILING_SCANS),
  };
}

function revokedAlerts(r: EndpointResult, opts: DeriveOptions): Draft[] {
  const e = r.probe.endpoint;
  const chain = r.analysis?.chain ?? [];
  const drafts: Draft[] = [];
  r.revocation?.forEach((rev, position) => {
    const cert = chain[position];
    if (rev?.status !== 'revoked' || !cert) return;
    const ep = endpointLabel(e.target, e.address);
    const what = position === 0 ? 'certificate' : `CA certificate at position ${position}`;
    const when = rev.revokedAt ? ` on ${rev.revokedAt}` : '';
    drafts.push({
      name: 'ChainwatchCertificateRevoked',
      severity: 'critical',
      labels: { target: e.target, address: e.address ?? '', group: e.group, position: String(position) },
      annotations: {
        summary: `${ep}: ${what} ${commonName(cert.subject)} was revoked${when}${rev.reason ? ` (${rev.reason})` : ''}`,
        description:
          `${cert.subject}, serial ${cert.serialNumber}, issued by ${cert.issuer}, is revoked according to its ${sourceText(rev.source)}. ` +
          `Clients that check revocation (Lync and Skype for Business clients do) refuse it: bind a newly issued certificate on ${e.host}:${e.port}.`,
      },
      target: e.target,
      startsAt: opts.now,
      holdUntil: null,
      forScans: 1,
    });
  });
  return drafts;
}

function sourceText(source: string | null): string {
  return source === 'crl' ? "CA's CRL" : source === 'stapled' ? 'stapled OCSP response' : 'OCSP responder';
}

/** A CRL that is stale, about to be, or cannot be fetched: every certificate naming it is at risk. */
function crlAlerts(scan: ScanResult, opts: DeriveOptions): Draft[] {
  const drafts: Draft[] = [];
  for (const u of scan.revocationUrls ?? []) {
    if (!u.checked || u.kind === 'ocsp') continue;
    const who = u.endpoints.length > 0 ? u.endpoints.join(', ') : 'no endpoint directly (a delta CRL named by a CRL)';
    const common = { labels: { url: u.url }, target: u.endpoints[0]?.replace(/ \(.*\)$/, '') ?? '', startsAt: opts.now, holdUntil: null };
    if (u.stale || u.expiring) {
      drafts.push({
        ...common,
        name: 'ChainwatchCrlStale',
        severity: u.stale ? 'critical' : 'warning',
        forScans: 1,
        annotations: {
          summary: u.stale ? `CRL ${u.url} is stale: its nextUpdate ${u.nextUpdate} has passed` : `CRL ${u.url} expires at ${u.nextUpdate}`,
          description:
            `${u.stale ? 'Clients treat the certificates it covers as unverifiable and may refuse them' : 'If the CA does not publish a new CRL before then, clients will refuse the certificates it covers'}. ` +
            `Check that the issuing CA publishes its CRL to ${u.url}. Endpoints depending on it: ${who}.`,
          endpoints: u.endpoints.join(', '),
        },
      });
    }
    if (u.reachable === false || u.error !== null) {
      drafts.push({
        ...common,
        name: 'ChainwatchCrlUnreachable',
        severity: 'warning',
        forScans: Math.max(1, opts.probeFailingScans ?? DEFAULT_PROBE_FAILING_SCANS),
        annotations: {
          summary: `CRL ${u.url} cannot be obtained: ${u.error ?? 'no answer'}`,
          description: `Clients that check revocation cannot fetch a valid CRL from ${u.url} and may refuse the certificates that name it. Endpoints depending on it: ${who}.`,
          endpoints: u.endpoints.join(', '),
        },
      });
    }
  }
  return drafts;
}
