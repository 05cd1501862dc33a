import { caLabel } from '../chain/ca-label.js';
import type { PolicyConfig } from '../config/types.js';
import type { EndpointResult } from '../chain/types.js';
import type { CaRef, DivergentMember, PolicyIssuer, PolicyMember, PolicyVerdict, UnknownMember } from './types.js';

interface Identified {
  member: PolicyMember;
  ca: CaRef;
  spkiSha256: string | null;
}

type Judged = { known: Identified[]; unknown: UnknownMember[] };

/**
 * Judges every policy against one scan. Pure: the verdicts depend only on the results given.
 * CAs are compared by key id, never by name, so a same-name CA rebuilt with a new key diverges.
 */
export function judgePolicies(policies: PolicyConfig[], results: EndpointResult[]): PolicyVerdict[] {
  return policies.map((p) => judgePolicy(p, results));
}

export function judgePolicy(policy: PolicyConfig, results: EndpointResult[]): PolicyVerdict {
  const members = identify(policy, results.filter((r) => policy.members.includes(r.probe.endpoint.group)));
  const notes: string[] = [];
  const pins = new Set(policy.allowedIssuers);
  const pinned = (i: Identified): boolean => pins.has(i.ca.keyId) || (i.spkiSha256 !== null && pins.has(i.spkiSha256));

  let expected: PolicyIssuer[];
  let allowed: (i: Identified) => boolean;
  const unknown = [...members.unknown];
  let judgeable = members.known;

  if (policy.reference !== null) {
    const reference = identify(policy, results.filter((r) => r.probe.endpoint.group === policy.reference));
    expected = tally(reference.known);
    if (expected.length > 1) {
      notes.push(`reference group ${policy.reference} itself holds ${expected.length} different ${what(policy)}s: ${expected.map(caLabel).join('; ')}`);
    }
    for (const ref of reference.known) {
      if (pins.size > 0 && !pinned(ref)) notes.push(`reference endpoint ${label(ref.member)} uses ${caLabel(ref.ca)}, which is not pinned in allowed_issuers`);
    }
    if (expected.length === 0) {
      notes.push(`reference group ${policy.reference} has no endpoint with a readable chain, so members cannot be judged`);
      unknown.push(...judgeable.map((i) => ({ ...i.member, reason: `no readable chain in reference group ${policy.reference}` })));
      judgeable = [];
    }
    const keys = new Set(expected.map((e) => e.keyId));
    allowed = (i) => keys.has(i.ca.keyId) && (pins.size === 0 || pinned(i));
  } else if (pins.size > 0) {
    expected = policy.allowedIssuers.map((pin) => {
      const users = judgeable.filter((i) => i.ca.keyId === pin || i.spkiSha256 === pin);
      return { dn: users[0]?.ca.dn ?? '(pinned key, not seen in this scan)', keyId: users[0]?.ca.keyId ?? pin, endpoints: users.length };
    });
    allowed = pinned;
  } else {
    // No reference: the most common CA is the baseline; a tie at the top leaves no baseline.
    const counts = tally(judgeable);
    const top = counts[0];
    const tied = top !== undefined && counts.filter((c) => c.endpoints === top.endpoints).length > 1;
    expected = top && !tied ? [top] : [];
    if (tied) notes.push(`no majority: ${counts.filter((c) => c.endpoints === top!.endpoints).map(caLabel).join(' and ')} are equally common, so every member is divergent`);
    allowed = (i) => expected.some((e) => e.keyId === i.ca.keyId);
  }

  const divergent: DivergentMember[] = [];
  const matching: PolicyMember[] = [];
  for (const i of judgeable) {
    if (allowed(i)) matching.push(i.member);
    else divergent.push({ ...i.member, issuer: i.ca });
  }
  return {
    name: policy.name,
    match: policy.match,
    reference: policy.reference,
    consistent: divergent.length === 0,
    issuers: tally(members.known),
    expected,
    divergent,
    unknown,
    matching,
    notes,
  };
}

function identify(policy: PolicyConfig, results: EndpointResult[]): Judged {
  const known: Identified[] = [];
  const unknown: UnknownMember[] = [];
  for (const r of results) {
    const e = r.probe.endpoint;
    const member: PolicyMember = { key: e.key, target: e.target, group: e.group, address: e.address };
    const a = r.analysis;
    if (r.probe.error || !a) {
      unknown.push({ ...member, reason: r.probe.error ? `probe failed (${r.probe.error.kind}): ${r.probe.error.message}` : 'no chain' });
      continue;
    }
    const ca = policy.match === 'root'
      ? a.root && { dn: a.root.dn, keyId: a.root.keyId ?? a.root.spkiSha256, spki: a.root.spkiSha256 }
      : a.issuer && { dn: a.issuer.dn, keyId: a.issuer.keyId, spki: a.issuer.spkiSha256 };
    if (!ca || ca.keyId === '') {
      unknown.push({ ...member, reason: `the ${what(policy)} of this chain cannot be identified by key (no authority key id and the issuer was neither sent nor trusted)` });
      continue;
    }
    known.push({ member, ca: { dn: ca.dn, keyId: ca.keyId }, spkiSha256: ca.spki });
  }
  return { known, unknown };
}

/** CAs by key with how many endpoints use each, most used first, then by name for stable output. */
function tally(items: Identified[]): PolicyIssuer[] {
  const byKey = new Map<string, PolicyIssuer>();
  for (const i of items) {
    const entry = byKey.get(i.ca.keyId) ?? { dn: i.ca.dn, keyId: i.ca.keyId, endpoints: 0 };
    entry.endpoints += 1;
    byKey.set(i.ca.keyId, entry);
  }
  return [...byKey.values()].sort((a, b) => b.endpoints - a.endpoints || a.dn.localeCompare(b.dn) || a.keyId.localeCompare(b.keyId));
}

function what(policy: PolicyConfig): string {
  return policy.match === 'root' ? 'root CA' : 'issuing CA';
}

function label(m: PolicyMember): string {
  return m.address && m.key !== m.target ? `${m.target} (${m.address})` : m.target;
}
