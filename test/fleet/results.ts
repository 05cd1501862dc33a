// Hand-built scan results for the pure fleet stages: the fields policies and drift read, nothing more.
import type { ChainAnalysis } from '../../src/chain/types.js';
import type { EndpointResult } from '../../src/pipeline/types.js';

export interface FakeEndpoint {
  target: string;
  group: string;
  address?: string;
  issuer?: { dn: string; keyId: string; spki?: string };
  root?: { dn: string; keyId: string };
  leaf?: string;
  chain?: string[];
  error?: boolean;
  labels?: Record<string, string>;
}

export function result(f: FakeEndpoint): EndpointResult {
  const address = f.address ?? '127.0.0.1';
  const key = f.address ? `${f.target}@${f.address}` : f.target;
  const endpoint = {
    key,
    target: f.target,
    group: f.group,
    role: null,
    labels: f.labels ?? {},
    host: `${f.target}.test`,
    port: 443,
    address,
    sni: `${f.target}.test`,
    url: null,
    clientCert: null,
    starttls: null,
    resolveError: null,
  };
  const probe = {
    endpoint,
    startedAt: new Date(0),
    durationMs: 1,
    presented: [],
    stapledOcsp: null,
    tls: f.error ? null : { version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', completed: true, alert: null },
    error: f.error ? { kind: 'refused' as const, message: 'connection refused' } : null,
  };
  if (f.error) return { probe, analysis: null };
  const leaf = f.leaf ?? `leaf-${f.target}`;
  const cert = (sha256: string) => ({
    subject: `CN=${sha256}`,
    issuer: f.issuer?.dn ?? '',
    serialNumber: '01',
    notBefore: '2026-01-01T00:00:00.000Z',
    notAfter: '2027-01-01T00:00:00.000Z',
    sha256,
    spkiSha256: `spki-${sha256}`,
    subjectKeyId: null,
    authorityKeyId: f.issuer?.keyId ?? null,
    signatureAlgorithm: 'sha256WithRSAEncryption',
    publicKey: { algorithm: 'RSA', bits: 2048 },
    dnsNames: [],
    ipAddresses: [],
    isCA: false,
  });
  const analysis: ChainAnalysis = {
    chain: [leaf, ...(f.chain ?? [])].map(cert),
    issuer: f.issuer ? { dn: f.issuer.dn, keyId: f.issuer.keyId, spkiSha256: f.issuer.spki ?? null } : null,
    root: f.root ? { dn: f.root.dn, sha256: `sha-${f.root.keyId}`, spkiSha256: `spki-${f.root.keyId}`, keyId: f.root.keyId } : null,
    trusted: true,
    hostnameMatch: true,
    problems: [],
    path: [],
  };
  return { probe, analysis };
}

export const CA01 = { dn: 'CN=Contoso Issuing CA 01, O=Contoso', keyId: 'aa01' };
export const CA01_TWIN = { dn: 'CN=Contoso Issuing CA 01, O=Contoso', keyId: 'bb01' };
export const CA02 = { dn: 'CN=Contoso Issuing CA 02, O=Contoso', keyId: 'aa02' };
export const FABRIKAM = { dn: 'CN=Fabrikam TLS CA, O=Fabrikam', keyId: 'ff01' };
export const ROOT = { dn: 'CN=Contoso Root CA, O=Contoso', keyId: 'r001' };
