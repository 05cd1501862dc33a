import type { Endpoint } from '../targets/types.js';

export type ErrorKind = 'dns' | 'refused' | 'timeout' | 'reset' | 'not_tls' | 'handshake' | 'unreachable';

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
  /** Set when no chain was obtained. */
  error: ProbeError | null;
  /** The OCSP response the server stapled to its handshake (DER), or null when it sent none. */
  stapledOcsp: Buffer | null;
}
