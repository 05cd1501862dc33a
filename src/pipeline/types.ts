import type { EndpointResult } from '../chain/types.js';
import type { CertChange, PolicyVerdict } from '../fleet/types.js';

export type { EndpointResult };

/** Everything one scan found: what the outputs (report, metrics, alerts, status page) read. */
export interface ScanResult {
  startedAt: Date;
  finishedAt: Date;
  endpoints: EndpointResult[];
  policies: PolicyVerdict[];
  /** Changes against the baseline found by this scan. */
  changes: CertChange[];
}
