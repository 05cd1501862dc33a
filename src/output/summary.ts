// The counts every output shows for one scan (the report's summary, the status page's headline,
// the "scan finished" log line), computed in one place so they cannot disagree.

import type { ScanResult } from '../pipeline/types.js';

export interface ScanSummary {
  endpoints: number;
  /** Endpoints whose probe obtained no chain. */
  failed: number;
  withProblems: number;
  policies: number;
  inconsistentPolicies: number;
  /**
   * Endpoints divergent in at least one policy: an endpoint that two policies find divergent is
   * one certificate to fix, so it counts once. Per-policy counts are in each verdict.
   */
  divergent: number;
  changes: number;
}

export function summarizeScan(scan: ScanResult): ScanSummary {
  const divergent = new Set<string>();
  for (const p of scan.policies) for (const d of p.divergent) divergent.add(d.key);
  return {
    endpoints: scan.endpoints.length,
    failed: scan.endpoints.filter((e) => e.probe.error !== null || e.analysis === null).length,
    withProblems: scan.endpoints.filter((e) => (e.analysis?.problems.length ?? 0) > 0).length,
    policies: scan.policies.length,
    inconsistentPolicies: scan.policies.filter((p) => !p.consistent).length,
    divergent: divergent.size,
    changes: scan.changes.length,
  };
}
