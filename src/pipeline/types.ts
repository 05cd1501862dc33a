import type { ChainAnalysis } from '../chain/types.js';
import type { CertChange, PolicyVerdict } from '../fleet/types.js';
import type { ProbeResult } from '../probe/types.js';

/** One endpoint after probe and chain analysis. analysis is null when no chain was obtained. */
export interface EndpointResult {
  probe: ProbeResult;
  analysis: ChainAnalysis | null;
}

/** Everything one scan found: what the outputs (report, metrics, alerts, status page) read. */
export interface ScanResult {
  startedAt: Date;
  finishedAt: Date;
  endpoints: EndpointResult[];
  policies: PolicyVerdict[];
  /** Changes against the baseline found by this scan. */
  changes: CertChange[];
}
