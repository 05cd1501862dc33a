// The fleet half of /metrics: the endpoint and policy series of one scan, written straight into
// Prometheus text (format 0.0.4) once per scan. A fleet of 10,000 endpoints is ~130,000 series;
// going through a client library's label maps would cost a hash per series and keep every
// label object alive until the next scan, so this writes text and keeps only the bytes.

import type { CertificateInfo } from '../chain/types.js';
import type { BaselineEntry, PolicyMember, PolicyVerdict } from '../fleet/types.js';
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

/** A hostile server could present hundreds of certificates; the scrape stays bounded. */
export const MAX_CERT_SERIES_PER_ENDPOINT = 16;
/** Label values are truncated so one odd subject cannot bloat every scrape. */
const MAX_LABEL_LENGTH = 256;

type FamilyKey = keyof typeof FLEET_FAMILIES;
const FAMILY_KEYS = Object.keys(FLEET_FAMILIES) as FamilyKey[];

/** One series: its labels as written between the braces, and its value. */
type Series = readonly [labels: string, value: number];

/**
 * The fleet series of one scan as exposition text, in pieces of about CHUNK characters, made as
 * the consumer (the compressor) asks for them. The text format keeps each family's lines
 * together, so the fleet is walked once per family: a 10,000-endpoint scan never holds its
 * 17 MB of text, only the piece being compressed.
 */
export function* renderFleet(scan: ScanResult, baseline: readonly BaselineEntry[]): Generator<string> {
  const fleet = new FleetLabels(scan);
  for (const key of FAMILY_KEYS) {
    const { name, help, type } = FLEET_FAMILIES[key];
    let text = `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
    for (const [labels, value] of SERIES[key](fleet, scan, baseline)) {
      text += `${name}{${labels}} ${formatValue(value)}\n`;
      if (text.length > CHUNK) {
        yield text;
        text = '';
      }
    }
    yield text;
  }
}

/** The label text shared by several families, built once per scan. */
class FleetLabels {
  /** Per endpoint result, in scan order: target, group, address. */
  readonly endpoint: string[];
  /** The target labels from the config, by endpoint key (empty values where a target lacks one). */
  readonly target = new Map<string, string>();
  /** For a policy member whose endpoint is not in this scan. */
  readonly noTarget: string;
  /** The labels of a certificate are the same on every endpoint presenting it: written once. */
  private readonly certs = new Map<string, CertSeries>();

  constructor(scan: ScanResult) {
    // Every series of a family carries the same label names, so all targets' label names are used.
    const names = [...new Set(scan.endpoints.flatMap((r) => Object.keys(r.probe.endpoint.labels)))].sort();
    this.endpoint = scan.endpoints.map((r) => {
      const ep = r.probe.endpoint;
      this.target.set(ep.key, names.map((n) => `,${n}="${escapeLabel(ep.labels[n] ?? '')}"`).join(''));
      return endpointLabels(ep.target, ep.group, ep.address);
    });
    this.noTarget = names.map((n) => `,${n}=""`).join('');
  }

  cert(cert: CertificateInfo): CertSeries {
    let own = this.certs.get(cert.sha256);
    if (own === undefined) {
      own = { labels: certificateLabels(cert), notAfter: seconds(cert.notAfter), notBefore: seconds(cert.notBefore) };
      this.certs.set(cert.sha256, own);
    }
    return own;
  }
}

/** What every endpoint presenting one certificate shares in its series. */
interface CertSeries {
  labels: string;
  notAfter: number;
  notBefore: number;
}

type SeriesOf = (fleet: FleetLabels, scan: ScanResult, baseline: readonly BaselineEntry[]) => Iterable<Series>;

/** Each endpoint's series of one family: `of` gives them for one result and its labels. */
function perEndpoint(of: (result: EndpointResult, labels: string, fleet: FleetLabels) => Iterable<Series>): SeriesOf {
  return function* (fleet, scan) {
    for (let i = 0; i < scan.endpoints.length; i++) yield* of(scan.endpoints[i]!, fleet.endpoint[i]!, fleet);
  };
}

/** Each endpoint with a chain: the certificates it presented (at most MAX_CERT_SERIES_PER_ENDPOINT), with their position labels. */
function perCertificate(of: (cert: CertSeries, at: string) => Series): SeriesOf {
  return function* (fleet, scan) {
    for (let i = 0; i < scan.endpoints.length; i++) {
      const chain = scan.endpoints[i]!.analysis?.chain ?? [];
      for (let position = 0; position < Math.min(chain.length, MAX_CERT_SERIES_PER_ENDPOINT); position++) {
        yield of(fleet.cert(chain[position]!), `${fleet.endpoint[i]!},position="${position}"`);
      }
    }
  };
}

/** The endpoints present in this scan, by the baseline's record of them. */
function* baselineSeries(scan: ScanResult, baseline: readonly BaselineEntry[], value: (entry: BaselineEntry) => number): Iterable<Series> {
  const present = new Set(scan.endpoints.map((r) => r.probe.endpoint.key));
  for (const entry of baseline) {
    // The baseline keeps departed endpoints for a grace period; their series must go.
    if (present.has(entry.key)) yield [endpointLabels(entry.target, entry.group, entry.address), value(entry)];
  }
}

function* perPolicy(scan: ScanResult, value: (policy: PolicyVerdict) => number): Iterable<Series> {
  for (const policy of scan.policies) yield [`policy="${escapeLabel(policy.name)}"`, value(policy)];
}

function* perRevocationUrl(scan: ScanResult, of: (u: RevocationUrlHealth, url: string) => Series | null): Iterable<Series> {
  for (const u of scan.revocationUrls ?? []) {
    const series = u.checked ? of(u, `url="${escapeLabel(u.url)}"`) : null;
    if (series !== null) yield series;
  }
}

const SERIES: Record<FamilyKey, SeriesOf> = {
  probeSuccess: perEndpoint(({ probe }, l) => [[l, probe.error === null ? 1 : 0]]),
  probeDuration: perEndpoint(({ probe }, l) => [[l, msToSeconds(probe.durationMs)]]),
  probeError: perEndpoint(({ probe }, l) => (probe.error === null ? [] : [[`${l},kind="${probe.error.kind}"`, 1]])),
  certNotAfter: perCertificate((cert, at) => [`${at},${cert.labels}`, cert.notAfter]),
  certNotBefore: perCertificate((cert, at) => [at, cert.notBefore]),
  chainInfo: perEndpoint(({ probe, analysis }, l, fleet) => {
    if (analysis === null) return [];
    const leaf = analysis.chain[0];
    const labels =
      `${l},leaf_sha256="${leaf?.sha256 ?? ''}",issuer_dn="${escapeLabel(analysis.issuer?.dn ?? '')}",` +
      `issuer_key_id="${escapeLabel(analysis.issuer?.keyId ?? '')}",root_dn="${escapeLabel(analysis.root?.dn ?? '')}"${fleet.target.get(probe.endpoint.key)}`;
    return [[labels, 1]];
  }),
  chainTrusted: perEndpoint(({ analysis }, l) => (analysis === null ? [] : [[l, analysis.trusted ? 1 : 0]])),
  chainHostname: perEndpoint(({ analysis }, l) => (analysis === null ? [] : [[l, analysis.hostnameMatch ? 1 : 0]])),
  chainProblem: perEndpoint(({ analysis }, l) => [...new Set(analysis?.problems ?? [])].map((problem): Series => [`${l},problem="${problem}"`, 1])),
  tlsInfo: perEndpoint(({ probe }, l) =>
    probe.tls === null || probe.tls.version === null
      ? []
      : [[`${l},version="${escapeLabel(probe.tls.version)}",cipher="${escapeLabel(probe.tls.cipher ?? '')}"`, 1]],
  ),
  certChanges: (_, scan, baseline) => baselineSeries(scan, baseline, (e) => e.changes),
  certLastChange: (_, scan, baseline) => baselineSeries(scan, baseline, (e) => (e.lastChange === null ? 0 : seconds(e.lastChange))),
  policyConsistent: (_, scan) => perPolicy(scan, (p) => (p.consistent ? 1 : 0)),
  policyIssuers: (_, scan) => perPolicy(scan, (p) => p.issuers.length),
  policyDivergent: (_, scan) => perPolicy(scan, (p) => p.divergent.length),
  policyMemberDivergent: function* (fleet, scan) {
    for (const policy of scan.policies) {
      const p = `policy="${escapeLabel(policy.name)}"`;
      const member = (m: PolicyMember) => `${p},${endpointLabels(m.target, m.group, m.address)}${fleet.target.get(m.key) ?? fleet.noTarget}`;
      for (const m of policy.matching) yield [member(m), 0];
      for (const m of policy.divergent) yield [member(m), 1];
    }
  },
  certRevoked: perEndpoint(({ revocation }, l) =>
    (revocation ?? [])
      .slice(0, MAX_CERT_SERIES_PER_ENDPOINT)
      .flatMap((r, position): Series[] => (r && r.status !== 'unknown' ? [[`${l},position="${position}"`, r.status === 'revoked' ? 1 : 0]] : [])),
  ),
  crlFetchSuccess: (_, scan) => perRevocationUrl(scan, (u, url) => (u.kind === 'ocsp' ? null : [url, u.reachable === true && u.error === null ? 1 : 0])),
  crlNextUpdate: (_, scan) => perRevocationUrl(scan, (u, url) => (u.kind === 'ocsp' || !u.nextUpdate ? null : [url, seconds(u.nextUpdate)])),
  crlFetchDuration: (_, scan) => perRevocationUrl(scan, (u, url) => (u.kind === 'ocsp' || u.durationMs === null ? null : [url, msToSeconds(u.durationMs)])),
  ocspResponseStatus: (_, scan) =>
    perRevocationUrl(scan, (u, url) => (u.kind === 'ocsp' && u.ocspStatus ? [`${url},status="${escapeLabel(u.ocspStatus)}"`, 1] : null)),
};

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
