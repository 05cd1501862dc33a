// What the daemon publishes after each scan for people and machines to read: the report of the
// last scan with the baseline's recent changes (the /api/v1/status document, serialised once),
// and the per-endpoint history the status page shows. Built once per scan, read by every request.

import type { BaselineEntry, CertChange } from '../fleet/types.js';
import type { ScanResult } from '../pipeline/types.js';
import type { BodyPart } from './body.js';
import { type Compressed, gzipPieces, inflated } from './gzip.js';
import { jsonPieces } from './json-pieces.js';
import { buildReport, type Report } from './report.js';

/** Recent baseline changes in /api/v1/status and on the status page. */
export const STATUS_CHANGES = 50;

export interface EndpointHistory {
  firstSeen: string;
  /** Null while the chain has not changed since first seen. */
  lastChange: string | null;
  changes: number;
}

export interface StatusSnapshot {
  /** The last scan; `changes` holds the baseline's recent changes, newest first. */
  report: Report;
  /** By endpoint key. */
  history: ReadonlyMap<string, EndpointHistory>;
  /**
   * The /api/v1/status body, gzip-compressed: at fleet scale the text is some 2 KB per endpoint
   * (21 MB at 10,000) and compresses about twentyfold, and it is kept until the next scan.
   * statusJson() gives either form.
   */
  json: Promise<Compressed>;
}

/** The /api/v1/status body: as kept when the client accepts gzip, else decompressed while sent. */
export async function statusJson(snapshot: StatusSnapshot, gzipped: boolean): Promise<BodyPart[]> {
  const json = await snapshot.json;
  return [gzipped ? json.gzip : inflated(json)];
}

export function buildStatus(scan: ScanResult, baseline: { entries: readonly BaselineEntry[]; recentChanges: readonly CertChange[] }): StatusSnapshot {
  const report: Report = { ...buildReport(scan), changes: [...baseline.recentChanges] };
  const history = new Map<string, EndpointHistory>();
  for (const e of baseline.entries) history.set(e.key, { firstSeen: e.firstSeen, lastChange: e.lastChange, changes: e.changes });
  const json = gzipPieces(jsonPieces(report, 'targets'));
  // Nothing awaits it until a request comes; a failure is that request's error, not the process's.
  json.catch(() => undefined);
  return { report, history, json };
}
