import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BaselineStore } from '../../src/fleet/baseline-store.js';
import { StateLockedError } from '../../src/fleet/state-lock.js';
import { createLogger, type LogSink } from '../../src/log/logger.js';
import { createMetrics } from '../../src/output/metrics.js';
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
  return {
    log: createLogger({ sink, format: 'json', level: 'debug' }),
    lines: () =>
      out
        .join('')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
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
    assert.deepEqual(
      store.apply(scan('L2'), new Date('2026-01-03T00:00:00Z'), 7 * DAY).map((c) => c.kind),
      ['renewal'],
    );
    assert.deepEqual(
      store.apply(scan('L3', CA02, ['ca02']), new Date('2026-01-04T00:00:00Z'), 7 * DAY).map((c) => c.kind),
      ['issuer_change'],
    );
    assert.deepEqual(
      store.apply(scan('L3', CA02, ['ca02', 'root']), new Date('2026-01-05T00:00:00Z'), 7 * DAY).map((c) => c.kind),
      ['chain_change'],
    );
    await store.save();

    const reopened = await BaselineStore.open(dir, log);
    const entry = reopened.get('web')!;
    assert.equal(entry.changes, 3);
    assert.equal(entry.lastChange, '2026-01-05T00:00:00.000Z');
    assert.equal(entry.firstSeen, '2026-01-01T00:00:00.000Z');
    assert.deepEqual(
      reopened.recentChanges().map((c) => c.kind),
      ['chain_change', 'issuer_change', 'renewal'],
    );
    assert.deepEqual(
      reopened.apply(scan('L3', CA02, ['ca02', 'root']), new Date('2026-01-06T00:00:00Z'), 7 * DAY),
      [],
      'a restart reports no change that did not happen',
    );
    const history = (await readFile(join(dir, 'history.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).kind);
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
    ['valid JSON of the wrong shape', '{"version":1,"entries":{"nope":true},"recentChanges":[]}'],
  ] as const) {
    it(`moves aside a state file holding ${name}, logs it, and starts fresh`, async () => {
      const dir = await tempDir();
      await writeFile(join(dir, 'baseline.json'), content);
      const { log, lines } = capture();
      const store = await BaselineStore.open(dir, log);
      assert.deepEqual(store.entries(), []);
      const files = await readdir(dir);
      assert.ok(
        files.some((f) => f.startsWith('baseline.json.corrupt-')),
        `moved aside: ${files.join(', ')}`,
      );
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
        child.stdout.once('data', () =>
          setTimeout(
            () => {
              child.kill('SIGKILL');
              resolve();
            },
            5 + ((round * 37) % 120),
          ),
        );
      });
      await new Promise((resolve) => child.once('exit', resolve));

      const { log, lines } = capture();
      // The killed writer's lock is stale: taken over, never refused.
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
      // A change recorded now lands on whole lines of its own, even after a torn last line.
      const marker = `after-crash-${round}`;
      store.apply([result({ target: 't0', group: 'g', issuer: CA01, leaf: marker })], new Date(), 7 * DAY);
      await store.save();
      await store.close();
      const history = (await readFile(join(dir, 'history.jsonl'), 'utf8')).split('\n');
      assert.equal(history.pop(), '', `round ${round}: history ends with a newline`);
      assert.equal((JSON.parse(history.pop()!) as { to: { leafSha256: string } }).to.leafSha256, marker, `round ${round}: the new record is whole`);
      const unreadable = history.filter((l) => !parses(l)).length;
      assert.ok(unreadable <= round + 1, `round ${round}: at most one torn line per crash (${unreadable})`);
      // Put t0 back in step with the others for the next writer.
      const restore = await BaselineStore.open(dir, log);
      restore.apply([result({ target: 't0', group: 'g', issuer: CA01, leaf: `gen-${generation}` })], new Date(), 7 * DAY);
      await restore.save();
      await restore.close();
    }
    assert.ok(lastGeneration > rounds, `the writer made progress (${lastGeneration} generations)`);
  });

  it('sets aside an entry with a negative change count or without a group, keeps the rest, and the next scan publishes', async () => {
    const dir = await tempDir();
    const good = {
      key: 'web1',
      target: 'web1',
      group: 'pchat-web',
      address: '127.0.0.1',
      firstSeen: '2026-01-01T00:00:00.000Z',
      lastSeen: '2026-01-02T00:00:00.000Z',
      lastChange: null,
      changes: 2,
      current: { leafSha256: 'L1', chain: ['L1', 'ca01'], issuer: CA01, leafNotAfter: null, leafSubject: null },
    };
    const negative = { ...good, key: 'web2', target: 'web2', changes: -1 };
    const { group: _, ...groupless } = { ...good, key: 'web3', target: 'web3' };
    await writeFile(
      join(dir, 'baseline.json'),
      JSON.stringify({ version: 1, savedAt: '2026-01-02T00:00:00.000Z', entries: [good, negative, groupless], recentChanges: [{ nope: 1 }] }),
    );
    const { log, lines } = capture();
    const store = await BaselineStore.open(dir, log);
    assert.deepEqual(
      store.entries().map((e) => e.key),
      ['web1'],
    );
    const errors = lines().filter((l) => l.level === 'error');
    assert.deepEqual(
      errors.map((l) => [l.endpoint, l.reason]),
      [
        ['web2', "'changes' is not a whole number of at least 0"],
        ['web3', "'group' is missing or not a non-empty string"],
      ],
    );
    assert.match(String(errors[0]!.msg), /set aside.*the rest of the baseline is kept/);
    const aside = (await readdir(dir)).find((f) => f.startsWith('baseline.json.rejected-'));
    assert.ok(aside, 'the bad entries are kept in a file for inspection');
    assert.deepEqual(
      (JSON.parse(await readFile(join(dir, aside), 'utf8')) as { entries: { entry: { key: string } }[] }).entries.map((r) => r.entry.key),
      ['web2', 'web3'],
    );
    // What used to throw on every scan: a failing probe of the group-less endpoint, and metrics
    // built from a negative counter.
    const results = [
      result({ target: 'web1', group: 'pchat-web', issuer: CA01, leaf: 'L1', chain: ['ca01'] }),
      result({ target: 'web2', group: 'pchat-web', issuer: CA01 }),
      result({ target: 'web3', group: 'pchat-web', error: true }),
    ];
    const now = new Date('2026-01-03T00:00:00Z');
    const changes = store.apply(results, now, 7 * DAY);
    assert.deepEqual(changes, []);
    const metrics = createMetrics({ version: 'test', processMetrics: false });
    await metrics.updateFromScan({ startedAt: now, finishedAt: now, endpoints: results, policies: [], changes }, store.entries());
    assert.match(await metrics.render(), /chainwatch_cert_changes_total\{target="web1",group="pchat-web",address="127.0.0.1"\} 2/);
    await store.save();
    await store.close();
    const reopened = capture();
    await BaselineStore.open(dir, reopened.log).then((s) => s.close());
    assert.deepEqual(
      reopened.lines().filter((l) => l.level === 'error'),
      [],
      'the saved baseline no longer holds them',
    );
  });

  it('ends a torn last line of history.jsonl before appending, so the next record is not glued to it', async () => {
    const dir = await tempDir();
    const { log } = capture();
    const store = await BaselineStore.open(dir, log);
    store.apply(scan('L1'), new Date('2026-01-01T00:00:00Z'), 7 * DAY);
    await writeFile(join(dir, 'history.jsonl'), '{"key":"web","target":"web","kind":"ren');
    store.apply(scan('L2'), new Date('2026-01-02T00:00:00Z'), 7 * DAY);
    await store.save();
    await store.close();
    const lines = (await readFile(join(dir, 'history.jsonl'), 'utf8')).split('\n');
    assert.equal(lines.length, 3);
    assert.equal(lines[0], '{"key":"web","target":"web","kind":"ren');
    assert.equal((JSON.parse(lines[1]!) as { kind: string }).kind, 'renewal');
    assert.equal(lines[2], '');
  });

  it('with history.jsonl unwritable, says the baseline was saved and writes the record at a later save', async () => {
    const dir = await tempDir();
    const { log, lines } = capture();
    const store = await BaselineStore.open(dir, log);
    store.apply(scan('L1'), new Date('2026-01-01T00:00:00Z'), 7 * DAY);
    await store.save();
    await mkdir(join(dir, 'history.jsonl')); // a directory where the file should be: no append possible
    store.apply(scan('L2'), new Date('2026-01-02T00:00:00Z'), 7 * DAY);
    await store.save(); // resolves: the baseline itself was saved
    const warning = lines().find((l) => l.level === 'warn');
    assert.match(String(warning?.msg), /^the baseline was saved, but history\.jsonl could not be appended/);
    assert.equal(warning?.queued, 1);
    assert.equal((await BaselineStore.open(dir, log, { readOnly: true })).get('web')?.current.leafSha256, 'L2');
    await rmdir(join(dir, 'history.jsonl'));
    await store.save();
    await store.close();
    const history = (await readFile(join(dir, 'history.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; to: { leafSha256: string } });
    assert.deepEqual(
      history.map((h) => [h.kind, h.to.leafSha256]),
      [['renewal', 'L2']],
    );
  });

  it('refuses a second writer while the first lives, names it, and takes over once it is killed', async () => {
    const dir = await tempDir();
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fleet/crash-writer.ts', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((resolve) => child.stdout.once('data', resolve));
    const { log, lines } = capture();
    await assert.rejects(BaselineStore.open(dir, log), (err: Error) => {
      assert.ok(err instanceof StateLockedError);
      assert.match(err.message, new RegExp(`in use by another chainwatch \\(pid ${child.pid} on `));
      assert.match(err.message, /give each its own state\.path/);
      return true;
    });
    // A reader (chainwatch scan without --save) needs no lock.
    const reader = await BaselineStore.open(dir, log, { readOnly: true });
    assert.equal(reader.entries().length, 50);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const store = await BaselineStore.open(dir, log);
    assert.match(String(lines().find((l) => l.level === 'warn')?.msg), /took over the state lock/);
    await store.close();
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.endsWith('.lock')),
      [],
      'close() releases the lock',
    );
  });
});

function parses(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}
