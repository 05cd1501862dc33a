import { defaultOf } from '../defaults.js';
import { joinKey, openNamedEntry, readList, readString, readStringList, required, type Ctx, type Field, type FirstUse } from '../reader.js';
import type { PolicyConfig, PolicyMatch } from '../types.js';
import { labelNameProblem, type TargetsRead } from './targets.js';

/**
 * A pinned issuer as lowercase hex without separators, or null. Liberal on purpose: key ids are
 * copied from certutil, openssl or browsers in every spelling; 40 hex digits is a SHA-1 key id,
 * 64 an SPKI SHA-256, and other even lengths from 16 to 128 are accepted as key ids too.
 */
export function normaliseKeyId(text: string): string | null {
  const hex = text.replace(/[\s:]/g, '').toLowerCase();
  if (!/^[0-9a-f]+$/.test(hex) || hex.length % 2 !== 0 || hex.length < 16 || hex.length > 128) return null;
  return hex;
}

function groupList(groups: Set<string>): string {
  const sorted = [...groups].sort();
  return sorted.length === 0 ? 'no target has a group yet' : `groups in this config: ${sorted.join(', ')}`;
}

function readPolicy(ctx: Ctx, item: Field, index: number, seen: Map<string, FirstUse>, targets: TargetsRead): PolicyConfig | null {
  const groups = targets.groups;
  const e = openNamedEntry(ctx, item, index, { key: 'policies', noun: 'policy', expected: 'name and members' }, seen);
  if (!e) return null;
  const { node, path, fields: f, name } = e;
  const bad = (field: Field, message: string): void => e.bad(field, message);

  const referenceField = f.get('reference');
  const reference = readString(ctx, referenceField, 'a group name') ?? null;
  if (reference !== null && !groups.has(reference)) bad(referenceField!, `no target has group '${reference}' (${groupList(groups)})`);
  if (referenceField?.node && reference === null) e.ok = false;

  const membersField = required(ctx, f, 'members', node, path);
  const members: string[] = [];
  const memberItems = readStringList(ctx, membersField, 'a list of group names');
  if (!memberItems) e.ok = false;
  else if (memberItems.length === 0 && membersField) bad(membersField, 'members is empty: list the groups this policy checks');
  for (const { value, field } of memberItems ?? []) {
    if (!groups.has(value)) bad(field, `no target has group '${value}' (${groupList(groups)})`);
    else if (value === reference) bad(field, `'${value}' is both the reference and a member: a group cannot be judged against itself; drop reference to judge the members by their most common CA`);
    else if (!members.includes(value)) members.push(value);
  }

  const matchField = f.get('match');
  const matchText = readString(ctx, matchField);
  let match = defaultOf('policies[].match') as PolicyMatch;
  if (matchText !== undefined) {
    if (matchText === 'issuer' || matchText === 'root') match = matchText;
    else bad(matchField!, `'${matchText}' is not a match mode: use issuer or root`);
  } else if (matchField?.node) e.ok = false;

  const scopeField = f.get('scope');
  const scopeText = readString(ctx, scopeField, 'a target label name, or none');
  let scope: string | null = null;
  if (scopeText !== undefined && scopeText !== 'none') {
    const problem = labelNameProblem(scopeText);
    const known = [...new Set(targets.read.flatMap((r) => Object.keys(r.target.labels)))].sort();
    if (problem) bad(scopeField!, `scope ${problem}`);
    else if (!known.includes(scopeText)) {
      bad(scopeField!, `no target has label '${scopeText}' (${known.length === 0 ? 'no target has labels yet' : `label names in this config: ${known.join(', ')}`}); add labels: {${scopeText}: ...} to the targets, or leave scope out`);
    } else scope = scopeText;
  } else if (scopeField?.node && scopeText === undefined) e.ok = false;
  if (scope !== null && name !== undefined) {
    // Every endpoint must land in a scope someone chose: one without the label would be judged
    // against nobody's CA, or silently against the wrong site's.
    for (const r of targets.read) {
      const t = r.target;
      if ((t.group === reference || members.includes(t.group)) && t.labels[scope] === undefined) {
        ctx.report(r.at, joinKey(r.path, 'labels'), `policy '${name}' is judged per ${scope} (scope: ${scope}), but target '${t.name}' (group ${t.group}) has no '${scope}' label: add labels: {${scope}: ...} to it`);
        e.ok = false;
      }
    }
  }

  const allowedIssuers: string[] = [];
  const pinsField = f.get('allowed_issuers');
  const pins = readStringList(ctx, pinsField, 'a list of hex key ids (in quotes)');
  if (pinsField?.node && !pins) e.ok = false;
  for (const { value, field } of pins ?? []) {
    const hex = normaliseKeyId(value);
    if (hex === null) bad(field, `'${value}' is not a key id: expected hex (an issuing CA's key id, 40 hex digits, or its SPKI SHA-256, 64); colons are fine`);
    else if (!allowedIssuers.includes(hex)) allowedIssuers.push(hex);
  }

  if (!e.ok || name === undefined) return null;
  return { name, reference, members, match, scope, allowedIssuers };
}

export function readPolicies(ctx: Ctx, field: Field | undefined, targets: TargetsRead): PolicyConfig[] {
  const seen = new Map<string, FirstUse>();
  const policies: PolicyConfig[] = [];
  (readList(ctx, field, 'a list of policies') ?? []).forEach((item, i) => {
    const policy = readPolicy(ctx, item, i, seen, targets);
    if (policy) policies.push(policy);
  });
  return policies;
}
