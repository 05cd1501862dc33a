// Splitting one inventory over N chainwatch instances. Pure: the same config and shard count give
// the same plan on every instance, at every start and reload, with no coordination between them.
//
// A policy can only be judged where all its members are scanned, so the unit of assignment is a
// policy component: the groups linked by any policy, with all their targets. A target whose group
// no policy names is a component on its own. Each component goes to the shard that ranks highest
// for its key (rendezvous hashing), so adding or removing an unrelated target moves nothing else
// and changing N moves only about 1/N of the fleet. A component larger than a shard should carry
// is split by target; its policies are then judged across shards by the PromQL rules.

import { createHash } from 'node:crypto';
import type { Config, PolicyConfig, TargetConfig } from '../config/types.js';

export interface Shard {
  /** 0-based. */
  index: number;
  count: number;
}

/** A `--shard` / CHAINWATCH_SHARD value that cannot be used; the message says what is expected. */
export class ShardSpecError extends Error {}

/**
 * A component is split by target when it holds more than this many times a shard's fair share:
 * below it, keeping a policy whole is worth some imbalance.
 */
const SPLIT_FACTOR = 1.5;

/**
 * Reads `I/N` (0 ≤ I < N) or `auto/N`, where I is the ordinal of a StatefulSet pod name
 * `NAME-ORDINAL` (Kubernetes sets HOSTNAME to it).
 */
export function parseShard(spec: string, hostname: string | undefined): Shard {
  const m = /^\s*(auto|\d+)\s*\/\s*(\d+)\s*$/.exec(spec);
  if (!m) throw new ShardSpecError(`shard '${spec}' is not I/N (e.g. 0/3) or auto/N`);
  const count = Number(m[2]);
  if (!Number.isSafeInteger(count) || count < 1) throw new ShardSpecError(`shard count in '${spec}' must be at least 1`);
  let index: number;
  if (m[1] === 'auto') {
    const ordinal = /-(\d+)$/.exec(hostname ?? '');
    if (!ordinal) {
      throw new ShardSpecError(
        `shard '${spec}' takes its index from a StatefulSet pod name NAME-ORDINAL in HOSTNAME, but HOSTNAME is '${hostname ?? ''}'; give the index instead (--shard I/${count})`,
      );
    }
    index = Number(ordinal[1]);
  } else {
    index = Number(m[1]);
  }
  if (index >= count) {
    throw new ShardSpecError(
      `shard index ${index} is out of range for ${count} shard(s) (0 to ${count - 1}); is the StatefulSet scaled beyond the shard count?`,
    );
  }
  return { index, count };
}

export function formatShard(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}

export interface ShardPlanEntry {
  index: number;
  /** Target names, in config order. */
  targets: string[];
  /** Policies with every member (and reference) target on this shard. */
  policiesWhole: string[];
  /** Policies with some but not all of their targets on this shard. */
  policiesPartial: string[];
}

export interface ShardPlan {
  count: number;
  totalTargets: number;
  /** Largest component kept whole; bigger ones are split by target. */
  capacity: number;
  shards: ShardPlanEntry[];
  /** Policies whose component was split by target (judged across shards by the PromQL rules). */
  splitPolicies: string[];
  /** Largest shard over the mean (1 = perfectly even). */
  imbalance: number;
}

type Inventory = Pick<Config, 'targets' | 'policies'>;

/** Assigns every target to exactly one shard; see the module comment for how. */
export function planShards(config: Inventory, count: number): ShardPlan {
  const owner = assignTargets(config, count);
  const capacity = capacityOf(config.targets.length, count);
  const shards: ShardPlanEntry[] = Array.from({ length: count }, (_, index) => ({ index, targets: [], policiesWhole: [], policiesPartial: [] }));
  for (const t of config.targets) shards[owner.get(t.name)!]!.targets.push(t.name);
  const splitPolicies: string[] = [];
  for (const p of config.policies) {
    const where = new Set(policyTargets(p, config.targets).map((t) => owner.get(t.name)!));
    if (where.size > 1) splitPolicies.push(p.name);
    for (const i of where) (where.size === 1 ? shards[i]!.policiesWhole : shards[i]!.policiesPartial).push(p.name);
  }
  const mean = config.targets.length / count;
  const largest = Math.max(...shards.map((s) => s.targets.length));
  return { count, totalTargets: config.targets.length, capacity, shards, splitPolicies, imbalance: mean === 0 ? 1 : largest / mean };
}

export interface ShardView {
  /** The config restricted to this shard: its targets, and the policies with a target here. */
  config: Config;
  /** Per policy kept: true when all its targets are on this shard (chainwatch_policy_judged_locally). */
  judgedLocally: Map<string, boolean>;
}

/** What one shard scans and judges. With one shard this is the whole config. */
export function shardConfig(config: Config, shard: Shard): ShardView {
  const owner = assignTargets(config, shard.count);
  const targets = config.targets.filter((t) => owner.get(t.name) === shard.index);
  const judgedLocally = new Map<string, boolean>();
  const policies: PolicyConfig[] = [];
  for (const p of config.policies) {
    const all = policyTargets(p, config.targets);
    const here = all.filter((t) => owner.get(t.name) === shard.index);
    // A policy none of whose targets are here is another shard's business; an empty policy
    // (groups without targets yet) is kept everywhere so each shard reports it the same way.
    if (here.length === 0 && all.length > 0) continue;
    policies.push(p);
    judgedLocally.set(p.name, here.length === all.length);
  }
  return { config: { ...config, targets, policies }, judgedLocally };
}

/** Target name → shard index, for every target of the config. */
export function assignTargets(config: Inventory, count: number): Map<string, number> {
  const capacity = capacityOf(config.targets.length, count);
  const owner = new Map<string, number>();
  for (const component of policyComponents(config)) {
    if (component.targets.length > capacity) {
      for (const t of component.targets) owner.set(t.name, rendezvous(`target\u0000${t.name}`, count));
    } else {
      const shard = rendezvous(component.key, count);
      for (const t of component.targets) owner.set(t.name, shard);
    }
  }
  return owner;
}

function capacityOf(total: number, count: number): number {
  return Math.max(1, Math.ceil((total / count) * SPLIT_FACTOR));
}

interface Component {
  key: string;
  targets: TargetConfig[];
}

/** Groups linked by a policy (union-find over group names), then lone targets. */
export function policyComponents(config: Inventory): Component[] {
  const parent = new Map<string, string>();
  const find = (g: string): string => {
    let root = g;
    while (parent.get(root) !== root) root = parent.get(root)!;
    parent.set(g, root);
    return root;
  };
  const add = (g: string) => {
    if (!parent.has(g)) parent.set(g, g);
  };
  for (const p of config.policies) {
    const groups = policyGroups(p);
    groups.forEach(add);
    for (const g of groups.slice(1)) {
      const a = find(groups[0]!);
      const b = find(g);
      if (a !== b) parent.set(b, a);
    }
  }
  const linked = new Map<string, { groups: Set<string>; targets: TargetConfig[] }>();
  for (const g of parent.keys()) {
    const root = find(g);
    const c = linked.get(root) ?? { groups: new Set<string>(), targets: [] };
    c.groups.add(g);
    linked.set(root, c);
  }
  const components: Component[] = [];
  for (const t of config.targets) {
    if (parent.has(t.group)) linked.get(find(t.group))!.targets.push(t);
    else components.push({ key: `target\u0000${t.name}`, targets: [t] });
  }
  for (const c of linked.values()) {
    if (c.targets.length > 0) components.push({ key: `groups\u0000${[...c.groups].sort().join('\u0000')}`, targets: c.targets });
  }
  return components;
}

function policyGroups(p: PolicyConfig): string[] {
  return [...new Set([...(p.reference === null ? [] : [p.reference]), ...p.members])];
}

function policyTargets(p: PolicyConfig, targets: TargetConfig[]): TargetConfig[] {
  const groups = new Set(policyGroups(p));
  return targets.filter((t) => groups.has(t.group));
}

/** Highest-random-weight choice of a shard for a key; ties (never in practice) go to the lower index. */
function rendezvous(key: string, count: number): number {
  if (count === 1) return 0;
  const h = createHash('sha256').update(key).digest();
  const a = h.readUInt32BE(0);
  const b = h.readUInt32BE(4);
  let best = 0;
  let bestScore = -1;
  for (let i = 0; i < count; i++) {
    const score = mix32(a ^ Math.imul(i + 1, 0x9e3779b9), b);
    if (score > bestScore) {
      best = i;
      bestScore = score;
    }
  }
  return best;
}

/** murmur3's finaliser over two words: every input bit moves every output bit. */
function mix32(x: number, seed: number): number {
  let h = (x ^ seed) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h ^ seed, 0x27d4eb2f);
  h ^= h >>> 15;
  return h >>> 0;
}
