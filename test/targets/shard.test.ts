import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { assignTargets, parseShard, planShards, policyComponents, ShardSpecError, shardConfig } from '../../src/targets/shard.js';

interface GroupSpec {
  group: string;
  count: number;
}

function inventoryYaml(groups: GroupSpec[], policies: string): string {
  const targets = groups.flatMap(({ group, count }) =>
    Array.from({ length: count }, (_, i) => `  - name: ${group}-${i + 1}\n    group: ${group}\n    host: ${group}-${i + 1}.contoso.test\n`),
  );
  return `targets:\n${targets.join('')}${policies}`;
}

const LYNC_POLICIES = `policies:
  - name: pchat-web-same-ca
    reference: lync-internal
    members: [pchat-web]
  - name: edge-one-ca
    members: [edge-internal]
  - name: sql-mediation
    members: [sql, mediation]
`;

const LYNC_GROUPS: GroupSpec[] = [
  { group: 'lync-internal', count: 6 },
  { group: 'pchat-web', count: 3 },
  { group: 'edge-internal', count: 4 },
  { group: 'sql', count: 2 },
  { group: 'mediation', count: 2 },
  { group: 'misc', count: 30 },
];

function config(groups: GroupSpec[] = LYNC_GROUPS, policies = LYNC_POLICIES): Promise<Config> {
  return parseConfig(inventoryYaml(groups, policies), 'fleet.yaml');
}

function assertPartition(cfg: Config, count: number): void {
  const seen = new Map<string, number>();
  for (let index = 0; index < count; index++) {
    for (const t of shardConfig(cfg, { index, count }).config.targets) {
      assert.equal(seen.has(t.name), false, `${t.name} is on shard ${seen.get(t.name)} and ${index}`);
      seen.set(t.name, index);
    }
  }
  assert.deepEqual([...seen.keys()].sort(), cfg.targets.map((t) => t.name).sort(), 'every target on some shard');
}

describe('sharding', () => {
  for (const count of [2, 3]) {
    it(`${count} shards partition the targets exactly and keep every policy's groups on one shard`, async () => {
      const cfg = await config();
      assertPartition(cfg, count);
      const owner = assignTargets(cfg, count);
      for (const groups of [['lync-internal', 'pchat-web'], ['edge-internal'], ['sql', 'mediation']]) {
        const shards = new Set(cfg.targets.filter((t) => groups.includes(t.group)).map((t) => owner.get(t.name)));
        assert.equal(shards.size, 1, `${groups.join('+')} spread over shards ${[...shards].join(', ')}`);
      }
      const plan = planShards(cfg, count);
      assert.deepEqual(plan.splitPolicies, []);
      assert.deepEqual(plan.shards.flatMap((s) => s.policiesWhole).sort(), ['edge-one-ca', 'pchat-web-same-ca', 'sql-mediation']);
      // Lone targets spread: no shard is left without work.
      assert.ok(
        plan.shards.every((s) => s.targets.length > 0),
        JSON.stringify(plan.shards.map((s) => s.targets.length)),
      );
      for (let index = 0; index < count; index++) {
        const view = shardConfig(cfg, { index, count });
        for (const [policy, whole] of view.judgedLocally) assert.equal(whole, true, policy);
        assert.deepEqual([...view.judgedLocally.keys()].sort(), plan.shards[index]!.policiesWhole.slice().sort());
      }
    });
  }

  it('adding an unrelated target, or a new policy-less group, moves no other target', async () => {
    const before = await config();
    const after = await config([...LYNC_GROUPS, { group: 'misc-new', count: 1 }, { group: 'printers', count: 2 }]);
    for (const count of [2, 3, 5]) {
      const a = assignTargets(before, count);
      const b = assignTargets(after, count);
      for (const [name, shard] of a) assert.equal(b.get(name), shard, `${name} moved with ${count} shards`);
    }
  });

  it('is the same on every call (restarts and reloads) whatever the order of the targets in the file', async () => {
    const cfg = await config();
    const reversed = { ...cfg, targets: [...cfg.targets].reverse(), policies: [...cfg.policies].reverse() };
    assert.deepEqual([...assignTargets(cfg, 3)].sort(), [...assignTargets(reversed, 3)].sort());
  });

  it('splits a policy component too big for one shard by target and says the policy is not judged locally', async () => {
    const cfg = await config(
      [
        { group: 'big', count: 40 },
        { group: 'misc', count: 10 },
      ],
      'policies:\n  - name: big-one-ca\n    members: [big]\n',
    );
    const plan = planShards(cfg, 3);
    assert.equal(plan.capacity, 25);
    assert.deepEqual(plan.splitPolicies, ['big-one-ca']);
    assertPartition(cfg, 3);
    for (let index = 0; index < 3; index++) {
      const view = shardConfig(cfg, { index, count: 3 });
      assert.ok(
        view.config.targets.some((t) => t.group === 'big'),
        `shard ${index} has part of group big`,
      );
      assert.equal(view.judgedLocally.get('big-one-ca'), false);
    }
    assert.ok(plan.imbalance < 1.5, `imbalance ${plan.imbalance}`);
  });

  it('one shard is the whole config with every policy judged locally', async () => {
    const cfg = await config();
    const view = shardConfig(cfg, { index: 0, count: 1 });
    assert.deepEqual(view.config.targets, cfg.targets);
    assert.deepEqual([...view.judgedLocally.values()], [true, true, true]);
  });

  it('components: groups linked through a shared group are one component, lone targets their own', async () => {
    const cfg = await config(
      [
        { group: 'a', count: 1 },
        { group: 'b', count: 1 },
        { group: 'c', count: 1 },
        { group: 'd', count: 2 },
      ],
      'policies:\n  - name: p1\n    members: [a, b]\n  - name: p2\n    reference: c\n    members: [b]\n',
    );
    const sizes = policyComponents(cfg).map((c) =>
      c.targets
        .map((t) => t.name)
        .sort()
        .join(','),
    );
    assert.deepEqual(sizes.sort(), ['a-1,b-1,c-1', 'd-1', 'd-2']);
  });

  it('reads I/N and auto/N from a StatefulSet pod name, and refuses what cannot be a shard', () => {
    assert.deepEqual(parseShard('1/3', undefined), { index: 1, count: 3 });
    assert.deepEqual(parseShard('auto/3', 'chainwatch-2'), { index: 2, count: 3 });
    assert.deepEqual(parseShard('auto/4', 'chainwatch-eu-west-0'), { index: 0, count: 4 });
    assert.throws(
      () => parseShard('3/3', undefined),
      (e: Error) => e instanceof ShardSpecError && /out of range/.test(e.message),
    );
    assert.throws(() => parseShard('auto/3', 'chainwatch-3'), /out of range.*scaled beyond/);
    assert.throws(() => parseShard('auto/3', 'laptop'), /HOSTNAME is 'laptop'/);
    assert.throws(() => parseShard('0/0', undefined), /at least 1/);
    assert.throws(() => parseShard('1-3', undefined), /not I\/N/);
  });
});
