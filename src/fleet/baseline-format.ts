// The on-disk form of the baseline, read defensively: the file may be old, hand-edited, or written
// by a buggy version. One bad entry must not poison every later scan (a negative counter makes
// prom-client throw on each scan, a missing group breaks every label), so each entry is checked
// on its own and a bad one is returned apart from the good ones.

import type { BaselineState } from './drift.js';
import type { BaselineEntry, CertChange, ChainSnapshot } from './types.js';

export const FORMAT_VERSION = 1;

export interface RejectedEntry {
  /** The entry as it was in the file. */
  entry: unknown;
  reason: string;
}

export interface ParsedBaseline {
  state: BaselineState;
  rejected: RejectedEntry[];
  /** recentChanges records that were not valid changes (dropped: they are only a display cache). */
  droppedChanges: number;
}

/** Throws when the document as a whole is not a baseline (the caller sets the file aside). */
export function parseBaseline(text: string): ParsedBaseline {
  const doc: unknown = JSON.parse(text);
  if (!isObject(doc) || doc.version !== FORMAT_VERSION || !Array.isArray(doc.entries) || !Array.isArray(doc.recentChanges)) {
    throw new Error(`not a chainwatch baseline of format version ${FORMAT_VERSION}`);
  }
  const entries = new Map<string, BaselineEntry>();
  const rejected: RejectedEntry[] = [];
  for (const e of doc.entries) {
    const reason = entryProblem(e);
    const entry = e as BaselineEntry;
    if (reason !== null) rejected.push({ entry: e, reason });
    else if (entries.has(entry.key)) rejected.push({ entry: e, reason: `a second entry for key '${entry.key}'` });
    else entries.set(entry.key, entry);
  }
  const recentChanges = doc.recentChanges.filter(isChange);
  return { state: { entries, recentChanges }, rejected, droppedChanges: doc.recentChanges.length - recentChanges.length };
}

/** Why this is not a usable baseline entry, or null when it is. */
export function entryProblem(v: unknown): string | null {
  if (!isObject(v)) return 'not an object';
  for (const field of ['key', 'target', 'group'] as const) {
    if (typeof v[field] !== 'string' || v[field] === '') return `'${field}' is missing or not a non-empty string`;
  }
  if (v.address !== null && typeof v.address !== 'string') return "'address' is neither a string nor null";
  for (const field of ['firstSeen', 'lastSeen'] as const) {
    if (!isTime(v[field])) return `'${field}' is not an ISO time`;
  }
  if (v.lastChange !== null && !isTime(v.lastChange)) return "'lastChange' is neither an ISO time nor null";
  if (typeof v.changes !== 'number' || !Number.isSafeInteger(v.changes) || v.changes < 0) return "'changes' is not a whole number of at least 0";
  if (!isSnapshot(v.current)) return "'current' is not a chain snapshot (leafSha256, chain, issuer, leafNotAfter, leafSubject)";
  return null;
}

function isChange(v: unknown): v is CertChange {
  return (
    isObject(v) &&
    typeof v.key === 'string' &&
    typeof v.target === 'string' &&
    typeof v.group === 'string' &&
    (v.address === null || typeof v.address === 'string') &&
    (v.kind === 'renewal' || v.kind === 'issuer_change' || v.kind === 'chain_change') &&
    isTime(v.at) &&
    isSnapshot(v.from) &&
    isSnapshot(v.to)
  );
}

function isSnapshot(v: unknown): v is ChainSnapshot {
  if (!isObject(v)) return false;
  const issuerOk = v.issuer === null || (isObject(v.issuer) && typeof v.issuer.dn === 'string' && typeof v.issuer.keyId === 'string');
  return (
    typeof v.leafSha256 === 'string' &&
    Array.isArray(v.chain) &&
    v.chain.every((h) => typeof h === 'string') &&
    issuerOk &&
    (v.leafNotAfter === null || typeof v.leafNotAfter === 'string') &&
    (v.leafSubject === null || typeof v.leafSubject === 'string')
  );
}

function isTime(v: unknown): v is string {
  return typeof v === 'string' && !Number.isNaN(Date.parse(v));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
