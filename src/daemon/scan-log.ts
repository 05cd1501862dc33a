// What the daemon says in its log about each finished scan: one summary line, one line per
// certificate change, and divergence only when it begins, moves to another CA, or ends.

import { caFullLabel } from '../chain/ca-label.js';
import type { CertChange } from '../fleet/types.js';
import type { Logger } from '../log/logger.js';
import type { ScanSummary } from '../output/summary.js';
import type { ScanResult } from '../pipeline/types.js';
import type { ScanReason } from './scheduler.js';

interface DivergenceState {
  divergent: boolean;
  issuer: string | null;
}

export class ScanLog {
  /** Last known verdict per (policy, endpoint), to log transitions only. */
  private divergence = new Map<string, DivergenceState>();

  constructor(private readonly log: Logger) {}

  finished(scan: ScanResult, summary: ScanSummary, reason: ScanReason): void {
    this.log.info('scan finished', {
      reason,
      endpoints: summary.endpoints,
      failures: summary.failed,
      problems: summary.withProblems,
      divergent: summary.divergent,
      changes: summary.changes,
      durationMs: scan.finishedAt.getTime() - scan.startedAt.getTime(),
    });
    for (const c of scan.changes) this.change(c);
    this.transitions(scan);
  }

  private change(c: CertChange): void {
    const fields = {
      target: c.target,
      group: c.group,
      address: c.address ?? '',
      kind: c.kind,
      fromLeaf: c.from.leafSha256,
      toLeaf: c.to.leafSha256,
      fromIssuer: c.from.issuer ? caFullLabel(c.from.issuer) : null,
      toIssuer: c.to.issuer ? caFullLabel(c.to.issuer) : null,
      toNotAfter: c.to.leafNotAfter,
    };
    if (c.kind === 'renewal') this.log.info('certificate renewed under the same issuing CA', fields);
    else if (c.kind === 'issuer_change') this.log.warn('certificate changed to a different issuing CA', fields);
    else this.log.warn('presented chain changed (same leaf, different intermediates)', fields);
  }

  /** An endpoint that could not be judged keeps its previous state. */
  private transitions(scan: ScanResult): void {
    const next = new Map<string, DivergenceState>();
    for (const p of scan.policies) {
      for (const d of p.divergent) {
        // Per member: a scoped policy expects a different CA in each scope.
        const expected = d.expected.map(caFullLabel).join(', ') || 'none (no CA is in the majority)';
        const id = `${p.name}\u0000${d.key}`;
        const issuer = caFullLabel(d.issuer);
        const before = this.divergence.get(id);
        next.set(id, { divergent: true, issuer });
        if (!before?.divergent || before.issuer !== issuer) {
          this.log.warn('endpoint became divergent: its issuing CA is not the one the policy expects', {
            policy: p.name,
            target: d.target,
            group: d.group,
            address: d.address ?? '',
            issuer,
            expected,
            ...(d.scope !== null ? { scope: `${p.scope}=${d.scope}` } : {}),
          });
        }
      }
      for (const m of p.matching) {
        const id = `${p.name}\u0000${m.key}`;
        next.set(id, { divergent: false, issuer: null });
        if (this.divergence.get(id)?.divergent) {
          this.log.info('endpoint back to consistent: its issuing CA matches the policy again', {
            policy: p.name,
            target: m.target,
            group: m.group,
            address: m.address ?? '',
          });
        }
      }
      for (const u of p.unknown) {
        const id = `${p.name}\u0000${u.key}`;
        const before = this.divergence.get(id);
        if (before) next.set(id, before);
      }
    }
    this.divergence = next;
  }
}
