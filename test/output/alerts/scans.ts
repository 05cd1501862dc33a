// Hand-built scan results for the alerting tests: the fleet a policy judged, without running the
// probe and chain stages (those have their own tests; here the input must be exact).

import type { CertificateInfo } from '../../../src/chain/types.js';
import type { CaRef, CertChange, PolicyMember, PolicyVerdict } from '../../../src/fleet/types.js';
import type { EndpointResult, ScanResult } from '../../../src/pipeline/types.js';
import type { ErrorKind } from '../../../src/probe/types.js';
import type { Endpoint } from '../../../src/targets/types.js';

export const CONTOSO: CaRef = { dn: 'CN=Contoso Issuing CA 01, O=Contoso, C=US', keyId: '42d1a9c07be35f10c2d3e4f5a6b7c8d9e0f1a2b3' };
export const FABRIKAM: CaRef = { dn: 'CN=Fabrikam TLS CA, O=Fabrikam', keyId: '3f2a8877c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6' };

export const DAY = 86_400_000;

export function endpoint(target: string, group: string, address: string | null, port = 443): Endpoint {
  return {
    key: target,
    target,
    group,
    role: null,
    labels: {},
    host: `${target}.contoso.local`,
    port,
    address,
    sni: `${target}.contoso.local`,
    url: null,
    clientCert: null,
    starttls: null,
    resolveError: null,
  };
}

export function leafCert(target: string, issuer: CaRef, notAfter: Date, sha256 = 'aa'.repeat(32)): CertificateInfo {
  return {
    subject: `CN=${target}.contoso.local`,
    issuer: issuer.dn,
    serialNumber: '0badc0de',
    notBefore: new Date(notAfter.getTime() - 365 * DAY).toISOString(),
    notAfter: notAfter.toISOString(),
    sha256,
    spkiSha256: 'bb'.repeat(32),
    subjectKeyId: 'cc'.repeat(20),
    authorityKeyId: issuer.keyId,
    signatureAlgorithm: 'sha256WithRSAEncryption',
    publicKey: { algorithm: 'RSA', bits: 2048 },
    dnsNames: [`${target}.contoso.local`],
    ipAddresses: [],
    isCA: false,
  };
}

export function okResult(ep: Endpoint, issuer: CaRef, notAfter: Date, at: Date): EndpointResult {
  return {
    probe: {
      endpoint: ep,
      startedAt: at,
      durationMs: 12,
      presented: [Buffer.from('not a real certificate')],
      tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', completed: true, alert: null },
      stapledOcsp: null,
      error: null,
    },
    analysis: {
      chain: [leafCert(ep.target, issuer, notAfter)],
      issuer: { dn: issuer.dn, keyId: issuer.keyId, spkiSha256: null },
      root: null,
      trusted: true,
      hostnameMatch: true,
      problems: [],
      path: [],
    },
  };
}

export function failedResult(ep: Endpoint, kind: ErrorKind, message: string, at: Date): EndpointResult {
  return {
    probe: { endpoint: ep, startedAt: at, durationMs: 10_000, presented: [], tls: null, stapledOcsp: null, error: { kind, message } },
    analysis: null,
  };
}

function member(ep: Endpoint, reference: string | null = 'lync-internal'): PolicyMember {
  return { key: ep.key, target: ep.target, group: ep.group, address: ep.address, scope: null, asReference: ep.group === reference };
}

/** A policy over `members` whose allowed CA is `expected`; members whose CA differs are divergent. */
export function verdict(
  name: string,
  expected: CaRef,
  members: { ep: Endpoint; ca: CaRef | null }[],
  reference: string | null = 'lync-internal',
): PolicyVerdict {
  const judged = members.filter((m) => m.ca !== null) as { ep: Endpoint; ca: CaRef }[];
  const divergent = judged.filter((m) => m.ca.keyId !== expected.keyId);
  const issuers = new Map<string, { dn: string; keyId: string; endpoints: number }>();
  for (const m of judged) {
    const i = issuers.get(m.ca.keyId) ?? { ...m.ca, endpoints: 0 };
    i.endpoints++;
    issuers.set(m.ca.keyId, i);
  }
  return {
    name,
    match: 'issuer',
    reference,
    scope: null,
    consistent: divergent.length === 0 && judged.length === members.length,
    issuers: [...issuers.values()],
    expected: [{ ...expected, endpoints: 3 }],
    divergent: divergent.map((m) => ({ ...member(m.ep, reference), issuer: m.ca, expected: [expected] })),
    unknown: members.filter((m) => m.ca === null).map((m) => ({ ...member(m.ep, reference), reason: 'probe failed' })),
    matching: judged.filter((m) => m.ca.keyId === expected.keyId).map((m) => member(m.ep, reference)),
    notes: [],
    scopes: [],
  };
}

export function change(ep: Endpoint, kind: CertChange['kind'], from: CaRef, to: CaRef, at: Date, newLeaf = 'dd'.repeat(32)): CertChange {
  return {
    key: ep.key,
    target: ep.target,
    group: ep.group,
    address: ep.address,
    kind,
    at: at.toISOString(),
    from: {
      leafSha256: 'aa'.repeat(32),
      chain: ['aa'.repeat(32), 'ee'.repeat(32)],
      issuer: from,
      leafNotAfter: '2025-03-01T00:00:00.000Z',
      leafSubject: `CN=${ep.target}.contoso.local`,
    },
    to: {
      leafSha256: kind === 'chain_change' ? 'aa'.repeat(32) : newLeaf,
      chain: kind === 'chain_change' ? ['aa'.repeat(32)] : [newLeaf, 'ee'.repeat(32)],
      issuer: to,
      leafNotAfter: '2026-03-01T00:00:00.000Z',
      leafSubject: `CN=${ep.target}.contoso.local`,
    },
  };
}

export function scanOf(at: Date, endpoints: EndpointResult[], policies: PolicyVerdict[] = [], changes: CertChange[] = []): ScanResult {
  return { startedAt: new Date(at.getTime() - 1000), finishedAt: at, endpoints, policies, changes };
}

/**
 * The PChat web fleet: web1 and web3 on Contoso, web2 on Fabrikam (divergent) unless `fixed`.
 * Certificates are valid for a year from `at`.
 */
export function pchatScan(at: Date, opts: { fixed?: boolean; web2Down?: boolean } = {}): ScanResult {
  const web = ['web1', 'web2', 'web3'].map((t, i) => endpoint(t, 'pchat-web', `10.1.2.${4 + i}`));
  const cas = web.map((ep) => (ep.target === 'web2' && !opts.fixed ? FABRIKAM : CONTOSO));
  const results = web.map((ep, i) =>
    ep.target === 'web2' && opts.web2Down
      ? failedResult(ep, 'timeout', 'no TLS answer from 10.1.2.5:443 within 10s; check the server is up and the port is open', at)
      : okResult(ep, cas[i]!, new Date(at.getTime() + 365 * DAY), at),
  );
  const members = web.map((ep, i) => ({ ep, ca: ep.target === 'web2' && opts.web2Down ? null : cas[i]! }));
  return scanOf(at, results, [verdict('pchat-web-same-ca', CONTOSO, members)]);
}
