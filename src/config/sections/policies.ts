import { isScalar, isSeq } from 'yaml';
import { type FirstUse, openNamedEntry } from '../mapping.js';
import { POLICY } from '../options.js';
import { type Ctx, type Field, readList } from '../reader.js';
import type { PolicyConfig } from '../types.js';

function groupList(groups: Set<string>): string {
  const sorted = [...groups].sort();
  return sorted.length === 0 ? 'no target has a group yet' : `groups in this config: ${sorted.join(', ')}`;
}

function readPolicy(ctx: Ctx, item: Field, index: number, seen: Map<string, FirstUse>, groups: Set<string>): PolicyConfig | null {
  const e = openNamedEntry(ctx, item, index, { key: 'policies', noun: 'policy', expected: 'name and members', spec: POLICY }, seen);
  if (!e) return null;
  const { name, reference, members } = e.values;

  if (reference !== null && !groups.has(reference)) e.bad(e.fields.get('reference')!, `no target has group '${reference}' (${groupList(groups)})`);
  const membersField = e.fields.get('members');
  if (members?.length === 0 && membersField) e.bad(membersField, 'members is empty: list the groups this policy checks');
  // Each unknown group is pointed at where it is written in the list.
  for (const member of membersField?.node && isSeq(membersField.node) ? (readList(ctx, membersField) ?? []) : []) {
    const group = member.node && isScalar(member.node) && typeof member.node.value === 'string' ? member.node.value.trim() : '';
    if (group !== '' && !groups.has(group)) e.bad(member, `no target has group '${group}' (${groupList(groups)})`);
  }

  if (!e.ok || name === undefined || members === undefined) return null;
  return { ...e.values, name, members };
}

export function readPolicies(ctx: Ctx, field: Field | undefined, groups: Set<string>): PolicyConfig[] {
  const seen = new Map<string, FirstUse>();
  const policies: PolicyConfig[] = [];
  (readList(ctx, field, 'a list of policies') ?? []).forEach((item, i) => {
    const policy = readPolicy(ctx, item, i, seen, groups);
    if (policy) policies.push(policy);
  });
  return policies;
}
