// What the revocation stage reports: per presented certificate, and per CRL / OCSP URL.
import type { EndpointResult as AnalyzedEndpoint } from '../chain/types.js';
import type { RevocationConfig } from '../config/types.js';

export type RevocationStatus = 'good' | 'revoked' | 'unknown';
export type RevocationSource = 'crl' | 'ocsp' | 'stapled';

/** The revocation status of one presented certificate, as the JSON report shows it. */
export interface CertificateRevocation {
  status: RevocationStatus;
  /** Which answer the status comes from; null when no source could answer. */
  source: RevocationSource | null;
  /** The distribution point used (the first HTTP one named), if any. */
  crlUrl: string | null;
  /** The OCSP responder named in Authority Information Access, if any. */
  ocspUrl: string | null;
  /** Validity of the answer the status comes from (ISO). */
  thisUpdate: string | null;
  nextUpdate: string | null;
  revokedAt: string | null;
  /** RFC 5280 reason name (keyCompromise, superseded, …) when revoked and the CA gave one. */
  reason: string | null;
  /** Why no source could answer; when the status is known, what another source got wrong. */
  error: string | null;
}

export type RevocationUrlKind = 'crl' | 'delta_crl' | 'ocsp';

/** The health of one CRL distribution point or OCSP responder, across every certificate naming it. */
export interface RevocationUrlHealth {
  url: string;
  kind: RevocationUrlKind;
  /** False for schemes that are never fetched (ldap://, file://, …): reported, not checked. */
  checked: boolean;
  /** The last request got an answer (HTTP 2xx or 304, or an OCSP response); null when not checked. */
  reachable: boolean | null;
  /** The CRL or OCSP answer in use is past its nextUpdate. */
  stale: boolean;
  /** nextUpdate falls within revocation.stale_warning. */
  expiring: boolean;
  thisUpdate: string | null;
  nextUpdate: string | null;
  /** When the answer in use was fetched (ISO); cached answers keep their time. */
  fetchedAt: string | null;
  /** Duration of the last request actually made, in milliseconds. */
  durationMs: number | null;
  /** OCSP only: the responder's responseStatus (successful, tryLater, …), or unreachable / invalid. */
  ocspStatus: string | null;
  error: string | null;
  /** Endpoints whose presented certificates name this URL, as "target (address)". */
  endpoints: string[];
}

/** Settings of the stage: the revocation section of the config. */
export type RevocationOptions = Omit<RevocationConfig, 'enabled'>;

/** An endpoint after chain analysis and the revocation stage. */
export interface EndpointResult extends AnalyzedEndpoint {
  /**
   * Per presented certificate, at the positions of analysis.chain; null where nothing is checked
   * (the top of the path, certificates off the path). Absent when revocation checking is off or
   * no chain was obtained.
   */
  revocation?: (CertificateRevocation | null)[];
}
