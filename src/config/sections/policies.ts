import { type FirstUse, openNamedEntry } from '../mapping.js';
import { POLICY } from '../options.js';
import { type Ctx, type Field, joinKey, readList } from '../reader.js';
import { isScalar, isSeq } from '../tree.js';
import type { PolicyConfig } from '../types.js';
import type { TargetsRead } from './targets.js';

function groupList(groups: Set<string>): string {
  const sorted = [...groups].sort();
  return sorted.length === 0 ? 'no target has a group yet' : `groups in this config: ${sorted.join(', ')}`;
}

function readPolicy(ctx: Ctx, item: Field, index: number, seen: Map<string, FirstUse>, targets: TargetsRead): PolicyConfig | null {
  const groups = targets.groups;
  const e = openNamedEntry(ctx, item, index, { key: 'policies', noun: 'policy', expected: 'name and members', spec: POLICY }, seen);
  if (!e) return null;
  const { name, reference, members, scope } = e.values;

  if (reference !== null && !groups.has(reference)) e.bad(e.fields.get('reference')!, `no target has group '${reference}' (${groupList(groups)})`);
  const membersField = e.fields.get('members');
  if (members?.length === 0 && membersField) e.bad(membersField, 'members is empty: list the groups this policy checks');
  // Each unknown group is pointed at where it is written in the list.
  for (const member of membersField?.node && isSeq(membersField.node) ? (readList(ctx, membersField) ?? []) : []) {
    const group = member.node && isScalar(member.node) && typeof member.node.value === 'string' ? member.node.value.trim() : '';
    if (group !== '' && !groups.has(group)) e.bad(member, `no target has group '${group}' (${groupList(groups)})`);
    else if (group !== '' && group === reference) {
      e.bad(
        member,
        `'${group}' is both the reference and a member: a group cannot be judged against itself; drop reference to judge the members by their most common CA`,
      );
    }
  }

  if (scope !== null) {
    const known = [...new Set(targets.read.flatMap((r) => Object.keys(r.target.labels)))].sort();
    if (!known.includes(scope)) {
      e.bad(
        e.fields.get('scope')!,
        `no target has label '${scope}' (${known.length === 0 ? 'no target has labels yet' : `label names in this config: ${known.join(', ')}`}); add labels: {${scope}: ...} to the targets, or leave scope out`,
      );
    } else if (name !== undefined) {
      // Every endpoint must land in a scope someone chose: one without the label would be judged
      // against nobody's CA, or silently against the wrong site's.
      for (const r of targets.read) {
        const t = r.target;
        if ((t.group === reference || members?.includes(t.group)) && t.labels[scope] === undefined) {
          ctx.report(
            r.at,
            joinKey(r.path, 'labels'),
            `policy '${name}' is judged per ${scope} (scope: ${scope}), but target '${t.name}' (group ${t.group}) has no '${scope}' label: add labels: {${scope}: ...} to it`,
          );
          e.ok = false;
        }
      }
    }
  }

  if (!e.ok || name === undefined || members === undefined) return null;
  return { ...e.values, name, members };
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
