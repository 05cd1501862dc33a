import type { Endpoint } from '../targets/types.js';

/** Why a probe obtained no chain: one kind per cause (a metric label and alert text; see docs/errors.md). */
export const ERROR_KINDS = [
  'dns',
  'refused',
  'timeout',
  'reset',
  'not_tls',
  'handshake',
  'unreachable',
  'oversized',
  'starttls',
  'client_certificate',
  'malformed_certificate',
  'cancelled',
  'internal',
] as const;

export type ErrorKind = (typeof ERROR_KINDS)[number];

export interface ProbeError {
  kind: ErrorKind;
  /** What happened, in words an operator can act on. */
  message: string;
}

export interface TlsInfo {
  /** Negotiated protocol, e.g. 'TLSv1.3'; null if the handshake never got that far. */
  version: string | null;
  /** Negotiated cipher suite (IANA/OpenSSL name); null if unknown. */
  cipher: string | null;
  /** True when the handshake finished. */
  completed: boolean;
  /** The TLS alert that ended the handshake, e.g. 'certificate_required'; null if none. */
  alert: string | null;
}

export interface ProbeResult {
  endpoint: Endpoint;
  startedAt: Date;
  durationMs: number;
  /** DER certificates exactly as the server's Certificate message listed them. */
  presented: Buffer[];
  /** Null when no TLS conversation took place. */
  tls: TlsInfo | null;
  /** The OCSP response the server stapled (DER), when it sent one; we always ask. */
  stapledOcsp: Buffer | null;
  /** Set when no chain was obtained. */
  error: ProbeError | null;
}
