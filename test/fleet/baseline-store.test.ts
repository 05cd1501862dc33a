import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createLogger, type LogSink } from '../../src/log/logger.js';
import { BaselineStore } from '../../src/fleet/baseline-store.js';
import { CA01, CA02, result } from './results.js';

const DAY = 86_400_000;
const dirs: string[] = [];
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'chainwatch-state-'));
  dirs.push(d);
  return d;
}

function capture(): { log: ReturnType<typeof createLogger>; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const sink: LogSink = { write: (s: string) => out.push(s) };
  return { log: createLogger({ sink, format: 'json', level: 'debug' }), lines: () => out.join('').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const scan = (leaf: string, issuer = CA01, chain: string[] = ['ca01']) => [result({ target: 'web', group: 'pchat-web', issuer, leaf, chain })];

describe('baseline store', () => {
  it('classifies renewal, issuer change and chain change, and persists them across a restart', async () => {
    const dir = await tempDir();
    const { log } = capture();
    const store = await BaselineStore.open(dir, log);
    assert.deepEqual(store.apply(scan('L1'), new Date('2026-01-01T00:00:00Z'), 7 * DAY), [], 'first sight is no change');
    assert.equal(store.get('web')?.lastChange, null);
    assert.deepEqual(store.apply(scan('L1'), new Date('2026-01-02T00:00:00Z'), 7 * DAY), []);
    assert.deepEqual(store.apply(scan('L2'), new Date('2026-01-03T00:00:00Z'), 7 * DAY).map((c) => c.kind), ['renewal']);
    assert.deepEqual(store.apply(scan('L3', CA02, ['ca02']), new Date('2026-01-04T00:00:00Z'), 7 * DAY).map((c) => c.kind), ['issuer_change']);
    assert.deepEqual(store.apply(scan('L3', CA02, ['ca02', 'root']), new Date('2026-01-05T00:00:00Z'), 7 * DAY).map((c) => c.kind), ['chain_change']);
    await store.save();

    const reopened = await BaselineStore.open(dir, log);
    const entry = reopened.get('web')!;
    assert.equal(entry.changes, 3);
    assert.equal(entry.lastChange, '2026-01-05T00:00:00.000Z');
    assert.equal(entry.firstSeen, '2026-01-01T00:00:00.000Z');
    assert.deepEqual(reopened.recentChanges().map((c) => c.kind), ['chain_change', 'issuer_change', 'renewal']);
    assert.deepEqual(reopened.apply(scan('L3', CA02, ['ca02', 'root']), new Date('2026-01-06T00:00:00Z'), 7 * DAY), [], 'a restart reports no change that did not happen');
    const history = (await readFile(join(dir, 'history.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l).kind);
    assert.deepEqual(history, ['renewal', 'issuer_change', 'chain_change']);
  });

  it('keeps the last chain of an endpoint whose probe failed, and reports no change for it', async () => {
    const store = await BaselineStore.open(await tempDir(), capture().log);
    store.apply(scan('L1'), new Date('2026-01-01T00:00:00Z'), 7 * DAY);
    assert.deepEqual(store.apply([result({ target: 'web', group: 'pchat-web', error: true })], new Date('2026-01-02T00:00:00Z'), 7 * DAY), []);
    assert.equal(store.get('web')?.current.leafSha256, 'L1');
    assert.deepEqual(store.apply(scan('L1'), new Date('2026-01-03T00:00:00Z'), 7 * DAY), []);
  });

  it('drops an endpoint only after it has been gone from the config longer than the grace', async () => {
    const { log, lines } = capture();
    const store = await BaselineStore.open(await tempDir(), log);
    store.apply([...scan('L1'), result({ target: 'gone', group: 'g', issuer: CA01 })], new Date('2026-01-01T00:00:00Z'), 7 * DAY);
    store.apply(scan('L1'), new Date('2026-01-05T00:00:00Z'), 7 * DAY);
    assert.ok(store.get('gone'), 'kept within the grace');
    store.apply(scan('L1'), new Date('2026-01-09T00:00:00Z'), 7 * DAY);
    assert.equal(store.get('gone'), undefined);
    assert.ok(lines().some((l) => Array.isArray(l.endpoints) && (l.endpoints as string[]).includes('gone')));
  });

  for (const [name, content] of [
    ['garbage', '\u0000\u0001 not json at all'],
    ['a torn write', '{"version":1,"savedAt":"2026-01-01","entries":[{"key":"web","tar'],
    ['valid JSON of the wrong shape', '{"version":1,"entries":[{"nope":true}],"recentChanges":[]}'],
  ] as const) {
    it(`moves aside a state file holding ${name}, logs it, and starts fresh`, async () => {
      const dir = await tempDir();
      await writeFile(join(dir, 'baseline.json'), content);
      const { log, lines } = capture();
      const store = await BaselineStore.open(dir, log);
      assert.deepEqual(store.entries(), []);
      const files = await readdir(dir);
      assert.ok(files.some((f) => f.startsWith('baseline.json.corrupt-')), `moved aside: ${files.join(', ')}`);
      const line = lines().find((l) => l.level === 'error');
      assert.match(String(line?.msg), /moved aside/);
      store.apply(scan('L1'), new Date(), 7 * DAY);
      await store.save();
      assert.equal((await BaselineStore.open(dir, log)).get('web')?.current.leafSha256, 'L1');
    });
  }

  it('survives being killed while writing, many times: always loadable, never a spurious change', async () => {
    const dir = await tempDir();
    const rounds = 25;
    let lastGeneration = 0;
    for (let round = 0; round < rounds; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/fleet/crash-writer.ts', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
      // Kill at a different moment each round, after the writer has started saving.
      await new Promise<void>((resolve) => {
        child.stdout.once('data', () => setTimeout(() => { child.kill('SIGKILL'); resolve(); }, 5 + ((round * 37) % 120)));
      });
      await new Promise((resolve) => child.once('exit', resolve));

      const { log, lines } = capture();
      const store = await BaselineStore.open(dir, log);
      assert.ok(!lines().some((l) => l.level === 'error'), `round ${round}: the state loaded without being set aside`);
      const generations = new Set(store.entries().map((e) => e.current.leafSha256));
      assert.equal(store.entries().length, 50, `round ${round}: every endpoint is there`);
      assert.equal(generations.size, 1, `round ${round}: one consistent generation, not a mix`);
      const generation = Number([...generations][0]!.split('-')[1]);
      assert.ok(generation >= lastGeneration, `round ${round}: never goes back (${generation} < ${lastGeneration})`);
      lastGeneration = generation;
      const same = Array.from({ length: 50 }, (_, i) => result({ target: `t${i}`, group: 'g', issuer: CA01, leaf: `gen-${generation}` }));
      assert.deepEqual(store.apply(same, new Date(), 7 * DAY), [], `round ${round}: no spurious change after restart`);
    }
    assert.ok(lastGeneration > rounds, `the writer made progress (${lastGeneration} generations)`);
  });
});
