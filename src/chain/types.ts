import type { ProbeResult } from '../probe/types.js';
import type { ParsedCertificate } from './certificate.js';

export type ProblemCode =
  | 'expired'
  | 'not_yet_valid'
  | 'expires_soon'
  | 'untrusted'
  | 'hostname_mismatch'
  | 'incomplete_chain'
  | 'misordered_chain'
  | 'weak_signature'
  | 'weak_key'
  | 'self_signed'
  /** A presented certificate that is not valid X.509; it stays in the chain as a placeholder. */
  | 'malformed_certificate'
  | 'revoked'
  | 'revocation_unknown';

/** Problems in the order reports list them. */
export const PROBLEM_ORDER: readonly ProblemCode[] = [
  'expired',
  'not_yet_valid',
  'expires_soon',
  'untrusted',
  'hostname_mismatch',
  'incomplete_chain',
  'misordered_chain',
  'weak_signature',
  'weak_key',
  'self_signed',
  'malformed_certificate',
  'revoked',
  'revocation_unknown',
];

export interface PublicKeyInfo {
  algorithm: string; // 'RSA' | 'EC' | 'Ed25519' | ...
  bits: number | null;
  curve?: string;
}

/** One certificate as the report shows it. Hex is lowercase without colons. */
export interface CertificateInfo {
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  sha256: string;
  spkiSha256: string;
  subjectKeyId: string | null;
  authorityKeyId: string | null;
  signatureAlgorithm: string;
  publicKey: PublicKeyInfo;
  dnsNames: string[];
  ipAddresses: string[];
  isCA: boolean;
}

/** The CA that signed the leaf, known by its key, never by its name alone. */
export interface IssuerIdentity {
  dn: string;
  /** Subject key id of the issuing CA (or the leaf's authority key id when the CA was not seen). */
  keyId: string;
  /** SPKI SHA-256 of the issuing CA when its certificate is known (presented or in the trust store). */
  spkiSha256: string | null;
}

/** The top of the path: a trust anchor when trusted, else the top of what was presented. */
export interface RootIdentity {
  dn: string;
  sha256: string;
  spkiSha256: string;
  keyId: string | null;
}

export interface ChainAnalysis {
  chain: CertificateInfo[];
  issuer: IssuerIdentity | null;
  root: RootIdentity | null;
  trusted: boolean;
  hostnameMatch: boolean;
  problems: ProblemCode[];
  /** The verified path, leaf first (trust-store certificates included): who issued what, for revocation checks. */
  path: ParsedCertificate[];
}

/** One endpoint after probe and chain analysis; analysis is null when no chain was obtained. */
export interface EndpointResult {
  probe: ProbeResult;
  analysis: ChainAnalysis | null;
}

/** The leaf itself could not be read: no chain analysis is possible for this endpoint. */
export interface UnreadableLeaf {
  unreadable: string;
}

export function isUnreadable<T extends object>(r: T | UnreadableLeaf): r is UnreadableLeaf {
  return 'unreadable' in r;
}
