import type { EndpointResult } from '../chain/types.js';
import type { BaselineEntry, CaRef, CertChange, ChainSnapshot, ChangeKind } from './types.js';

export interface BaselineState {
  entries: Map<string, BaselineEntry>;
  /** Newest last; bounded by the store. */
  recentChanges: CertChange[];
}

export interface DriftResult {
  state: BaselineState;
  changes: CertChange[];
  /** Keys dropped because their endpoint has been gone from the config longer than the grace. */
  dropped: string[];
}

/**
 * Compares one scan with the baseline and returns the next baseline. Pure. Only endpoints whose
 * chain was read move the baseline: a failed probe is no evidence that the certificate changed.
 */
export function applyScan(prev: BaselineState, results: EndpointResult[], now: Date, retentionMs: number): DriftResult {
  const at = now.toISOString();
  const entries = new Map(prev.entries);
  const changes: CertChange[] = [];
  const scanned = new Set<string>();
  for (const r of results) {
    const e = r.probe.endpoint;
    scanned.add(e.key);
    const old = entries.get(e.key);
    if (!r.analysis || r.probe.error) {
      if (old) entries.set(e.key, { ...old, lastSeen: at });
      continue;
    }
    const snapshot = snapshotOf(r);
    if (!old) {
      entries.set(e.key, {
        key: e.key,
        target: e.target,
        group: e.group,
        address: e.address,
        current: snapshot,
        firstSeen: at,
        lastChange: null,
        lastSeen: at,
        changes: 0,
      });
      continue;
    }
    const kind = classify(old.current, snapshot);
    if (kind === null) {
      entries.set(e.key, { ...old, group: e.group, current: snapshot, lastSeen: at });
      continue;
    }
    changes.push({ key: e.key, target: e.target, group: e.group, address: e.address, kind, at, from: old.current, to: snapshot });
    entries.set(e.key, { ...old, group: e.group, current: snapshot, lastChange: at, lastSeen: at, changes: old.changes + 1 });
  }
  const dropped: string[] = [];
  for (const [key, entry] of entries) {
    if (!scanned.has(key) && now.getTime() - Date.parse(entry.lastSeen) > retentionMs) {
      entries.delete(key);
      dropped.push(key);
    }
  }
  return { state: { entries, recentChanges: [...prev.recentChanges, ...changes] }, changes, dropped };
}

export function snapshotOf(r: EndpointResult): ChainSnapshot {
  const chain = r.analysis?.chain ?? [];
  const issuer = r.analysis?.issuer;
  return {
    leafSha256: chain[0]?.sha256 ?? '',
    chain: chain.map((c) => c.sha256),
    issuer: issuer ? { dn: issuer.dn, keyId: issuer.keyId } : null,
    leafNotAfter: chain[0]?.notAfter ?? null,
    leafSubject: chain[0]?.subject ?? null,
  };
}

/** renewal: new leaf, same issuing CA; issuer_change: new leaf from another CA; chain_change: same leaf, other CA certificates. */
export function classify(from: ChainSnapshot, to: ChainSnapshot): ChangeKind | null {
  if (from.leafSha256 !== to.leafSha256) return sameCa(from.issuer, to.issuer) ? 'renewal' : 'issuer_change';
  if (from.chain.length !== to.chain.length || from.chain.some((h, i) => h !== to.chain[i])) return 'chain_change';
  return null;
}

function sameCa(a: CaRef | null, b: CaRef | null): boolean {
  if (!a || !b) return false;
  // Without a key on either side only the name is left; that is the one case a name may decide.
  if (a.keyId === '' || b.keyId === '') return a.keyId === b.keyId && a.dn === b.dn;
  return a.keyId === b.keyId;
}
