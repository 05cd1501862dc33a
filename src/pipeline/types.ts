import type { CertChange, PolicyVerdict } from '../fleet/types.js';
import type { EndpointResult, RevocationUrlHealth } from '../revocation/types.js';

export type { EndpointResult };

/** Everything one scan found: what the outputs (report, metrics, alerts, status page) read. */
export interface ScanResult {
  startedAt: Date;
  finishedAt: Date;
  endpoints: EndpointResult[];
  policies: PolicyVerdict[];
  /** Changes against the baseline found by this scan. */
  changes: CertChange[];
  /** Health of every CRL and OCSP URL the presented certificates name; absent when revocation checking is off. */
  revocationUrls?: RevocationUrlHealth[];
}
