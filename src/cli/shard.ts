// The command-line side of sharding: where the shard comes from, and the plan as people read it.
import type { Config } from '../config/types.js';
import { parseShard, planShards, type Shard, ShardSpecError } from '../targets/shard.js';
import { UsageError } from './usage.js';

/** `--shard` wins over CHAINWATCH_SHARD; `auto/N` reads the pod ordinal from HOSTNAME. */
export function shardFromArgs(flag: string | undefined, command: string, env: NodeJS.ProcessEnv = process.env): Shard | undefined {
  const spec = flag ?? (env.CHAINWATCH_SHARD?.trim() || undefined);
  if (spec === undefined) return undefined;
  try {
    return parseShard(spec, env.HOSTNAME);
  } catch (err) {
    if (err instanceof ShardSpecError) throw new UsageError(`${flag === undefined ? 'CHAINWATCH_SHARD' : '--shard'}: ${err.message}`, command);
    throw err;
  }
}

export function parseShardCount(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`--shards must be a whole number of at least 1, not '${text}'`, 'check-config');
  return n;
}

/** What `check-config --shards N` prints after the summary. */
export function formatShardPlan(config: Config, count: number): string {
  const plan = planShards(config, count);
  const out = [`shard plan for ${count} shard(s): ${plan.totalTargets} targets, policy components of more than ${plan.capacity} targets are split by target`];
  for (const s of plan.shards) {
    const whole = s.policiesWhole.length > 0 ? s.policiesWhole.join(', ') : '-';
    const partial = s.policiesPartial.length > 0 ? `; partly: ${s.policiesPartial.join(', ')}` : '';
    out.push(`  shard ${s.index}/${count}: ${s.targets.length} targets; policies judged here: ${whole}${partial}`);
  }
  out.push(`  imbalance: largest shard is ${plan.imbalance.toFixed(2)}× the mean`);
  if (plan.splitPolicies.length > 0) {
    out.push(`  spanning shards (judged together only by the Prometheus rules): ${plan.splitPolicies.join(', ')}`);
  }
  return out.join('\n');
}
