// The fleet half of /metrics: the endpoint and policy series of one scan, written straight into
// Prometheus text (format 0.0.4) once per scan. A fleet of 10,000 endpoints is ~130,000 series;
// going through a client library's label maps would cost a hash per series and keep every
// label object alive until the next scan, so this writes text and keeps only the bytes.

import type { CertificateInfo } from '../chain/types.js';
import type { BaselineEntry, PolicyMember } from '../fleet/types.js';
import type { EndpointResult, ScanResult } from '../pipeline/types.js';
import { ERROR_KINDS } from '../probe/types.js';
import type { RevocationUrlHealth } from '../revocation/types.js';

export interface FleetFamily {
  name: string;
  type: 'gauge' | 'counter';
  help: string;
  /** Label names in the order they are written. */
  labels: readonly string[];
}

const ENDPOINT = ['target', 'group', 'address'] as const;
const POSITION = [...ENDPOINT, 'position'] as const;
const CERT = [...POSITION, 'subject', 'issuer', 'serial', 'sha256'] as const;

const family = (name: string, help: string, labels: readonly string[], type: FleetFamily['type'] = 'gauge'): FleetFamily => ({ name, type, help, labels });

/** Every fleet series family, in the order a scrape lists them. */
export const FLEET_FAMILIES = {
  probeSuccess: family('chainwatch_probe_success', 'Whether the last probe obtained the presented chain (1) or not (0).', ENDPOINT),
  probeDuration: family('chainwatch_probe_duration_seconds', 'Duration of the last probe: TCP connect plus TLS handshake.', ENDPOINT),
  probeError: family('chainwatch_probe_error_info', `Why the last probe obtained no chain; kind is one of ${ERROR_KINDS.join(', ')} (see docs/errors.md).`, [
    ...ENDPOINT,
    'kind',
  ]),
  certNotAfter: family(
    'chainwatch_cert_not_after_timestamp_seconds',
    'notAfter of each presented certificate (position 0 = leaf, in presented order), Unix seconds.',
    CERT,
  ),
  // The certificate's identity is on not_after only: repeating it here doubled the largest family
  // of a fleet's scrape. Both series of one certificate share target, group, address and position.
  certNotBefore: family(
    'chainwatch_cert_not_before_timestamp_seconds',
    'notBefore of each presented certificate (position 0 = leaf, in presented order), Unix seconds; the not_after series of the same position names the certificate.',
    POSITION,
  ),
  chainInfo: family('chainwatch_chain_info', 'The presented leaf and the CA that issued it, identified by key; carries the target labels too.', [
    ...ENDPOINT,
    'leaf_sha256',
    'issuer_dn',
    'issuer_key_id',
    'root_dn',
  ]),
  chainTrusted: family('chainwatch_chain_trusted', 'Whether a path from the leaf to a configured trust anchor was built and verified.', ENDPOINT),
  chainHostname: family('chainwatch_chain_hostname_match', 'Whether the leaf is valid for the configured host (or sni).', ENDPOINT),
  chainProblem: family('chainwatch_chain_problem', 'A problem found in the presented chain, one series per problem.', [...ENDPOINT, 'problem']),
  tlsInfo: family('chainwatch_tls_info', 'Negotiated TLS version and cipher suite of the last probe.', [...ENDPOINT, 'version', 'cipher']),
  certChanges: family(
    'chainwatch_cert_changes_total',
    'Changes of the presented chain since the endpoint was first seen (persisted across restarts).',
    ENDPOINT,
    'counter',
  ),
  certLastChange: family(
    'chainwatch_cert_last_change_timestamp_seconds',
    'When the presented chain last changed, Unix seconds; 0 = never changed since first seen.',
    ENDPOINT,
  ),
  policyConsistent: family('chainwatch_policy_consistent', 'Whether every judged member of the policy chains to an allowed CA.', ['policy']),
  policyIssuers: family('chainwatch_policy_issuers', 'Number of distinct CAs (by key) seen among the policy members.', ['policy']),
  policyDivergent: family('chainwatch_policy_divergent_endpoints', 'Number of policy members whose CA is not an allowed one.', ['policy']),
  policyMemberDivergent: family(
    'chainwatch_policy_member_divergent',
    'Per policy member and reference endpoint: 1 divergent, 0 matching; endpoints that could not be judged have no series. Carries the target labels, so a scoped policy can be read per site.',
    ['policy', ...ENDPOINT],
  ),
  certRevoked: family('chainwatch_cert_revoked', 'Per presented certificate whose revocation status is known: 1 revoked, 0 good (position 0 = leaf).', [
    ...ENDPOINT,
    'position',
  ]),
  crlFetchSuccess: family(
    'chainwatch_crl_fetch_success',
    "Whether the last fetch of the CRL at url gave a CRL verified with its issuer's key (1) or not (0).",
    ['url'],
  ),
  crlNextUpdate: family('chainwatch_crl_next_update_timestamp_seconds', 'nextUpdate of the CRL held for url, Unix seconds.', ['url']),
  crlFetchDuration: family('chainwatch_crl_fetch_duration_seconds', 'Duration of the last request for the CRL at url.', ['url']),
  ocspResponseStatus: family(
    'chainwatch_ocsp_response_status',
    'The last answer of the OCSP responder at url: successful, tryLater, unauthorized, …, or unreachable / invalid.',
    ['url', 'status'],
  ),
} as const;

type FamilyKey = keyof typeof FLEET_FAMILIES;

/** A hostile server could present hundreds of certificates; the scrape stays bounded. */
export const MAX_CERT_SERIES_PER_ENDPOINT = 16;
/** Label values are truncated so one odd subject cannot bloat every scrape. */
const MAX_LABEL_LENGTH = 256;

/** The fleet series of one scan as exposition text, UTF-8, in parts sent one after the other. */
export function renderFleet(scan: ScanResult, baseline: readonly BaselineEntry[]): Buffer[] {
  const out = new FamilyWriter();
  // The labels of a certificate are the same on every endpoint presenting it: written once.
  const certLabels = new Map<string, CertSeries>();
  const present = new Set<string>();
  // Target labels go on chain_info and member_divergent under their own names; every series of a
  // family carries the same label names, empty where a target lacks one.
  const labelNames = [...new Set(scan.endpoints.flatMap((r) => Object.keys(r.probe.endpoint.labels)))].sort();
  const targetLabels = new Map<string, string>();
  for (const result of scan.endpoints) {
    const ep = result.probe.endpoint;
    present.add(ep.key);
    targetLabels.set(ep.key, labelNames.map((n) => `,${n}="${escapeLabel(ep.labels[n] ?? '')}"`).join(''));
    writeEndpoint(out, result, certLabels, targetLabels.get(ep.key)!);
  }
  const noLabels = labelNames.map((n) => `,${n}=""`).join('');
  for (const entry of baseline) {
    // The baseline keeps departed endpoints for a grace period; their series must go.
    if (!present.has(entry.key)) continue;
    const labels = endpointLabels(entry.target, entry.group, entry.address);
    out.add('certChanges', labels, entry.changes);
    out.add('certLastChange', labels, entry.lastChange === null ? 0 : seconds(entry.lastChange));
  }
  for (const policy of scan.policies) {
    const p = `policy="${escapeLabel(policy.name)}"`;
    out.add('policyConsistent', p, policy.consistent ? 1 : 0);
    out.add('policyIssuers', p, policy.issuers.length);
    out.add('policyDivergent', p, policy.divergent.length);
    const member = (m: PolicyMember) => `${p},${endpointLabels(m.target, m.group, m.address)}${targetLabels.get(m.key) ?? noLabels}`;
    for (const m of policy.matching) out.add('policyMemberDivergent', member(m), 0);
    for (const m of policy.divergent) out.add('policyMemberDivergent', member(m), 1);
  }
  for (const u of scan.revocationUrls ?? []) writeRevocationUrl(out, u);
  return out.toParts();
}

/** What every endpoint presenting one certificate shares in its series. */
interface CertSeries {
  labels: string;
  notAfter: number;
  notBefore: number;
}

function writeEndpoint(out: FamilyWriter, result: EndpointResult, certLabels: Map<string, CertSeries>, targetLabels: string): void {
  const { probe, analysis } = result;
  const ep = probe.endpoint;
  const labels = endpointLabels(ep.target, ep.group, ep.address);
  out.add('probeSuccess', labels, probe.error === null ? 1 : 0);
  out.add('probeDuration', labels, msToSeconds(probe.durationMs));
  if (probe.error !== null) out.add('probeError', `${labels},kind="${probe.error.kind}"`, 1);
  if (probe.tls !== null && probe.tls.version !== null) {
    out.add('tlsInfo', `${labels},version="${escapeLabel(probe.tls.version)}",cipher="${escapeLabel(probe.tls.cipher ?? '')}"`, 1);
  }
  if (analysis === null) return;
  const certs = analysis.chain.length > MAX_CERT_SERIES_PER_ENDPOINT ? analysis.chain.slice(0, MAX_CERT_SERIES_PER_ENDPOINT) : analysis.chain;
  for (let position = 0; position < certs.length; position++) {
    const cert = certs[position]!;
    let own = certLabels.get(cert.sha256);
    if (own === undefined) {
      own = { labels: certificateLabels(cert), notAfter: seconds(cert.notAfter), notBefore: seconds(cert.notBefore) };
      certLabels.set(cert.sha256, own);
    }
    const at = `${labels},position="${position}"`;
    out.add('certNotAfter', `${at},${own.labels}`, own.notAfter);
    out.add('certNotBefore', at, own.notBefore);
  }
  const leaf = analysis.chain[0];
  out.add(
    'chainInfo',
    `${labels},leaf_sha256="${leaf?.sha256 ?? ''}",issuer_dn="${escapeLabel(analysis.issuer?.dn ?? '')}",` +
      `issuer_key_id="${escapeLabel(analysis.issuer?.keyId ?? '')}",root_dn="${escapeLabel(analysis.root?.dn ?? '')}"${targetLabels}`,
    1,
  );
  out.add('chainTrusted', labels, analysis.trusted ? 1 : 0);
  out.add('chainHostname', labels, analysis.hostnameMatch ? 1 : 0);
  for (const problem of new Set(analysis.problems)) out.add('chainProblem', `${labels},problem="${problem}"`, 1);
  result.revocation?.slice(0, MAX_CERT_SERIES_PER_ENDPOINT).forEach((r, position) => {
    if (r && r.status !== 'unknown') out.add('certRevoked', `${labels},position="${position}"`, r.status === 'revoked' ? 1 : 0);
  });
}

function writeRevocationUrl(out: FamilyWriter, u: RevocationUrlHealth): void {
  if (!u.checked) return;
  const url = `url="${escapeLabel(u.url)}"`;
  if (u.kind === 'ocsp') {
    if (u.ocspStatus) out.add('ocspResponseStatus', `${url},status="${escapeLabel(u.ocspStatus)}"`, 1);
    return;
  }
  out.add('crlFetchSuccess', url, u.reachable === true && u.error === null ? 1 : 0);
  if (u.nextUpdate) out.add('crlNextUpdate', url, seconds(u.nextUpdate));
  if (u.durationMs !== null) out.add('crlFetchDuration', url, msToSeconds(u.durationMs));
}

/**
 * Collects series per family so each family's lines stay together, in FLEET_FAMILIES order.
 * Text is appended to a string and turned into bytes every CHUNK characters: one copy of each
 * byte, no array of 100,000 line strings and no join over megabytes.
 */
class FamilyWriter {
  private readonly families = new Map<FamilyKey, { chunks: Buffer[]; text: string }>(
    Object.keys(FLEET_FAMILIES).map((k) => [k as FamilyKey, { chunks: [], text: '' }]),
  );

  add(key: FamilyKey, labels: string, value: number): void {
    const f = this.families.get(key)!;
    f.text += `${FLEET_FAMILIES[key].name}{${labels}} ${formatValue(value)}\n`;
    if (f.text.length > CHUNK) {
      f.chunks.push(Buffer.from(f.text, 'utf8'));
      f.text = '';
    }
  }

  /** Never concatenated: a copy of the whole text would be one more 20 MB for the collector at fleet scale. */
  toParts(): Buffer[] {
    const parts: Buffer[] = [];
    for (const [key, f] of this.families) {
      const { name, help, type } = FLEET_FAMILIES[key];
      parts.push(Buffer.from(`# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`, 'utf8'), ...f.chunks, Buffer.from(f.text, 'utf8'));
    }
    return parts;
  }
}

const CHUNK = 64 * 1024;

function endpointLabels(target: string, group: string, address: string | null): string {
  return `target="${escapeLabel(target)}",group="${escapeLabel(group)}",address="${escapeLabel(address ?? '')}"`;
}

function certificateLabels(cert: CertificateInfo): string {
  return `subject="${escapeLabel(cert.subject)}",issuer="${escapeLabel(cert.issuer)}",serial="${escapeLabel(cert.serialNumber)}",sha256="${cert.sha256}"`;
}

/** Bounded, then escaped as the text format requires (backslash, double quote, newline). */
function escapeLabel(value: string): string {
  const bounded = value.length > MAX_LABEL_LENGTH ? `${value.slice(0, MAX_LABEL_LENGTH - 1)}…` : value;
  return /[\\"\n]/.test(bounded) ? bounded.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : bounded;
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/**
 * Durations are measured to 0.1 ms; dividing that count of tenths by 10,000 gives the shortest
 * decimal (0.0123), where ms / 1000 writes a quarter of them as 0.012300000000000002.
 */
function msToSeconds(ms: number): number {
  return Math.round(ms * 10) / 10_000;
}

function seconds(iso: string): number {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? 0 : ms / 1000;
}
