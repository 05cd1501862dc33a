import type { PolicyMatch } from '../config/types.js';

/** A CA as a policy sees it: by key; the name is only for people. */
export interface CaRef {
  dn: string;
  keyId: string;
}

export interface PolicyIssuer extends CaRef {
  /** Endpoints (members, or reference endpoints for `expected`) that chain to it. */
  endpoints: number;
}

export interface PolicyMember {
  key: string;
  target: string;
  group: string;
  address: string | null;
}

export interface DivergentMember extends PolicyMember {
  issuer: CaRef;
}

export interface UnknownMember extends PolicyMember {
  /** Why this endpoint could not be judged (probe failed, no chain). */
  reason: string;
}

export interface PolicyVerdict {
  name: string;
  match: PolicyMatch;
  reference: string | null;
  /** True when every judged member matches and none is unknown-only... see fleet/policy.ts. */
  consistent: boolean;
  /** CAs seen among the members. */
  issuers: PolicyIssuer[];
  /** The allowed set: the reference group's CAs, the pins, or the members' majority CA. */
  expected: PolicyIssuer[];
  divergent: DivergentMember[];
  unknown: UnknownMember[];
  /** Members that matched. */
  matching: PolicyMember[];
  /** Things an operator should know about this policy, e.g. a reference group that holds several CAs. */
  notes: string[];
}

export type ChangeKind = 'renewal' | 'issuer_change' | 'chain_change';

export interface ChainSnapshot {
  leafSha256: string;
  /** SHA-256 of every presented certificate, in presented order. */
  chain: string[];
  issuer: CaRef | null;
  leafNotAfter: string | null;
  leafSubject: string | null;
}

export interface CertChange {
  key: string;
  target: string;
  group: string;
  address: string | null;
  kind: ChangeKind;
  at: string;
  from: ChainSnapshot;
  to: ChainSnapshot;
}

/** What the baseline remembers of one endpoint. */
export interface BaselineEntry {
  key: string;
  target: string;
  group: string;
  address: string | null;
  current: ChainSnapshot;
  firstSeen: string;
  /** ISO time of the last change; null while the chain has not changed since first seen. */
  lastChange: string | null;
  lastSeen: string;
  changes: number;
}
