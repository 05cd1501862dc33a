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
  /** The endpoint's value of the policy's scope label; null when the policy has no scope. */
  scope: string | null;
  /** True for an endpoint of the reference group: it is held to the same one-CA rule. */
  asReference: boolean;
}

export interface DivergentMember extends PolicyMember {
  issuer: CaRef;
  /** The CA this endpoint should chain to in its scope; empty when the scope has none (a tie). */
  expected: CaRef[];
}

export interface UnknownMember extends PolicyMember {
  /** Why this endpoint could not be judged (probe failed, no chain). */
  reason: string;
}

/** The judgement within one value of the scope label (the whole policy when it has no scope). */
export interface ScopeVerdict {
  /** The scope label's value; null when the policy has no scope. */
  value: string | null;
  consistent: boolean;
  /** The CA endpoints of this scope must chain to; empty when there is none (tie, no readable reference). */
  expected: PolicyIssuer[];
  /** CAs seen among this scope's members. */
  issuers: PolicyIssuer[];
  /** Counts of this scope's endpoints (members and reference) by outcome. */
  divergent: number;
  matching: number;
  unknown: number;
  notes: string[];
}

export interface PolicyVerdict {
  name: string;
  match: PolicyMatch;
  reference: string | null;
  /** The target label the policy is judged within, or null. */
  scope: string | null;
  /** False when any member or reference endpoint is divergent, in any scope. */
  consistent: boolean;
  /** CAs seen among the members, across scopes. */
  issuers: PolicyIssuer[];
  /** The expected CA of every scope (one per scope at most, or the pins), across scopes. */
  expected: PolicyIssuer[];
  /** Members, and reference endpoints, whose CA is not the one expected in their scope. */
  divergent: DivergentMember[];
  unknown: UnknownMember[];
  /** Members and reference endpoints that matched. */
  matching: PolicyMember[];
  /** Things an operator should know, e.g. a tie; prefixed with the scope value when scoped. */
  notes: string[];
  /** One entry per scope value, in order; a single entry (value null) without scope. */
  scopes: ScopeVerdict[];
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
