import { caLabel } from '../chain/ca-label.js';
import type { EndpointResult } from '../chain/types.js';
import type { PolicyConfig } from '../config/types.js';
import type { CaRef, DivergentMember, PolicyIssuer, PolicyMember, PolicyVerdict, ScopeVerdict, UnknownMember } from './types.js';

interface Identified {
  member: PolicyMember;
  ca: CaRef;
  spkiSha256: string | null;
}

type Judged = { known: Identified[]; unknown: UnknownMember[] };

/** One scope value's endpoints, split into the members and the reference group. */
interface Scoped {
  members: Judged;
  reference: Judged;
}

/**
 * Judges every policy against one scan. Pure: the verdicts depend only on the results given.
 * CAs are compared by key id, never by name, so a same-name CA rebuilt with a new key diverges.
 */
export function judgePolicies(policies: PolicyConfig[], results: EndpointResult[]): PolicyVerdict[] {
  return policies.map((p) => judgePolicy(p, results));
}

/**
 * The rule is always one CA per scope. With a reference group, its most common CA is the expected
 * one and reference endpoints on another CA are divergent as well, so a mixed reference never
 * passes; without one, the members' most common CA is. A tie leaves no expected CA: every
 * endpoint of that scope is divergent, because nothing says which CA is the right one.
 */
export function judgePolicy(policy: PolicyConfig, results: EndpointResult[]): PolicyVerdict {
  const byScope = new Map<string | null, Scoped>();
  const scoped = (value: string | null): Scoped => {
    const found = byScope.get(value);
    if (found) return found;
    const s: Scoped = { members: { known: [], unknown: [] }, reference: { known: [], unknown: [] } };
    byScope.set(value, s);
    return s;
  };
  for (const r of results) {
    const e = r.probe.endpoint;
    const asReference = policy.reference !== null && e.group === policy.reference;
    if (!asReference && !policy.members.includes(e.group)) continue;
    const value = policy.scope === null ? null : (e.labels[policy.scope] ?? '');
    const s = scoped(value);
    identify(policy, r, asReference, value, asReference ? s.reference : s.members);
  }
  // Without scope there is always the one verdict, even over no endpoints at all.
  if (policy.scope === null) scoped(null);

  // A scope without members has nothing this policy is about: its reference endpoints are left
  // to the policies that cover them (a site without Persistent Chat is not judged by its rule).
  const values = [...byScope.keys()]
    .filter((v) => v === null || byScope.get(v)!.members.known.length + byScope.get(v)!.members.unknown.length > 0)
    .sort((a, b) => cmp(a ?? '', b ?? ''));
  const verdict: PolicyVerdict = {
    name: policy.name,
    match: policy.match,
    reference: policy.reference,
    scope: policy.scope,
    consistent: true,
    issuers: tally(values.flatMap((v) => byScope.get(v)!.members.known)),
    expected: [],
    divergent: [],
    unknown: [],
    matching: [],
    notes: [],
    scopes: [],
  };
  for (const value of values) {
    const s = judgeScope(policy, byScope.get(value)!, verdict);
    verdict.scopes.push({ value, ...s });
    const prefix = value === null ? '' : `${policy.scope}=${value === '' ? '(none)' : value}: `;
    verdict.notes.push(...s.notes.map((n) => prefix + n));
    for (const e of s.expected) {
      const seen = verdict.expected.find((x) => x.keyId === e.keyId);
      if (seen) seen.endpoints += e.endpoints;
      else verdict.expected.push({ ...e });
    }
  }
  verdict.consistent = verdict.divergent.length === 0;
  return verdict;
}

/** Judges one scope, appending its endpoints to the verdict's lists; returns the scope's summary. */
function judgeScope(policy: PolicyConfig, s: Scoped, into: PolicyVerdict): Omit<ScopeVerdict, 'value'> {
  const notes: string[] = [];
  const pins = new Set(policy.allowedIssuers);
  const pinned = (i: Identified): boolean => pins.has(i.ca.keyId) || (i.spkiSha256 !== null && pins.has(i.spkiSha256));
  const unknown = [...s.members.unknown, ...s.reference.unknown];
  let judgeable = [...s.members.known, ...s.reference.known];
  let expected: PolicyIssuer[];
  let allowed: (i: Identified) => boolean;

  if (policy.reference !== null) {
    const counts = tally(s.reference.known);
    const top = counts[0];
    if (top === undefined) {
      expected = [];
      allowed = () => false;
      if (s.members.known.length > 0) {
        notes.push(`reference group ${policy.reference} has no endpoint with a readable chain here, so its members cannot be judged`);
      }
      unknown.push(...s.members.known.map((i) => ({ ...i.member, reason: `no readable chain in reference group ${policy.reference}` })));
      judgeable = [];
    } else if (tied(counts)) {
      expected = [];
      allowed = () => false;
      notes.push(
        `no expected ${what(policy)}: reference group ${policy.reference} is split evenly between ${tiedAtTop(counts).map(caLabel).join(' and ')}, so every endpoint is divergent until one CA is in the majority`,
      );
    } else {
      expected = [top];
      if (counts.length > 1) {
        notes.push(
          `reference group ${policy.reference} holds ${counts.length} different ${what(policy)}s; ${caLabel(top)} is the most common and expected, the others are divergent`,
        );
      }
      if (pins.size > 0 && !pins.has(top.keyId) && !s.reference.known.some((i) => i.ca.keyId === top.keyId && pinned(i))) {
        notes.push(`the reference's ${what(policy)} ${caLabel(top)} is not pinned in allowed_issuers, so nothing here can match`);
      }
      allowed = (i) => i.ca.keyId === top.keyId && (pins.size === 0 || pinned(i));
    }
  } else if (pins.size > 0) {
    expected = policy.allowedIssuers.map((pin) => {
      const users = judgeable.filter((i) => i.ca.keyId === pin || i.spkiSha256 === pin);
      return { dn: users[0]?.ca.dn ?? '(pinned key, not seen in this scan)', keyId: users[0]?.ca.keyId ?? pin, endpoints: users.length };
    });
    allowed = pinned;
  } else {
    const counts = tally(judgeable);
    const top = counts[0];
    if (top !== undefined && tied(counts)) {
      expected = [];
      notes.push(`no majority: ${tiedAtTop(counts).map(caLabel).join(' and ')} are equally common, so every member is divergent`);
    } else expected = top ? [top] : [];
    allowed = (i) => expected.some((e) => e.keyId === i.ca.keyId);
  }

  let divergent = 0;
  let matching = 0;
  const expectedRefs = expected.map((e) => ({ dn: e.dn, keyId: e.keyId }));
  for (const i of judgeable) {
    if (allowed(i)) {
      into.matching.push(i.member);
      matching += 1;
    } else {
      const d: DivergentMember = { ...i.member, issuer: i.ca, expected: expectedRefs };
      into.divergent.push(d);
      divergent += 1;
    }
  }
  into.unknown.push(...unknown);
  return { consistent: divergent === 0, expected, issuers: tally(s.members.known), divergent, matching, unknown: unknown.length, notes };
}

function identify(policy: PolicyConfig, r: EndpointResult, asReference: boolean, scope: string | null, into: Judged): void {
  const e = r.probe.endpoint;
  const member: PolicyMember = { key: e.key, target: e.target, group: e.group, address: e.address, scope, asReference };
  const a = r.analysis;
  if (r.probe.error || !a) {
    into.unknown.push({ ...member, reason: r.probe.error ? `probe failed (${r.probe.error.kind}): ${r.probe.error.message}` : 'no chain' });
    return;
  }
  const ca =
    policy.match === 'root'
      ? a.root && { dn: a.root.dn, keyId: a.root.keyId ?? a.root.spkiSha256, spki: a.root.spkiSha256 }
      : a.issuer && { dn: a.issuer.dn, keyId: a.issuer.keyId, spki: a.issuer.spkiSha256 };
  if (!ca || ca.keyId === '') {
    into.unknown.push({
      ...member,
      reason: `the ${what(policy)} of this chain cannot be identified by key (no authority key id and the issuer was neither sent nor trusted)`,
    });
    return;
  }
  into.known.push({ member, ca: { dn: ca.dn, keyId: ca.keyId }, spkiSha256: ca.spki });
}

/** CAs by key with how many endpoints use each, most used first, then by name for stable output. */
function tally(items: Identified[]): PolicyIssuer[] {
  const byKey = new Map<string, PolicyIssuer>();
  for (const i of items) {
    const entry = byKey.get(i.ca.keyId) ?? { dn: i.ca.dn, keyId: i.ca.keyId, endpoints: 0 };
    entry.endpoints += 1;
    byKey.set(i.ca.keyId, entry);
  }
  return [...byKey.values()].sort((a, b) => b.endpoints - a.endpoints || cmp(a.dn, b.dn) || cmp(a.keyId, b.keyId));
}

function tiedAtTop(counts: PolicyIssuer[]): PolicyIssuer[] {
  return counts.filter((c) => c.endpoints === counts[0]!.endpoints);
}

function tied(counts: PolicyIssuer[]): boolean {
  return counts.length > 1 && counts[1]!.endpoints === counts[0]!.endpoints;
}

function what(policy: PolicyConfig): string {
  return policy.match === 'root' ? 'root CA' : 'issuing CA';
}

/** Code-point order: the same on every machine, whatever its locale. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
