import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StartQueue, slowCap } from '../../src/probe/start-queue.js';

describe('StartQueue', () => {
  it('starts slow ones first, at most `cap` at once while others wait, then all of them', () => {
    const q = new StartQueue<string>();
    for (const name of ['a', 'b', 'c']) q.push(name, false);
    for (const name of ['s1', 's2', 's3']) q.push(name, true);
    assert.equal(q.size, 6);
    assert.deepEqual(q.take(0, 2), { item: 's1', slow: true });
    assert.deepEqual(q.take(1, 2), { item: 's2', slow: true });
    assert.deepEqual(q.take(2, 2), { item: 'a', slow: false }, 'two slow ones run: the rest of the fleet goes on');
    assert.deepEqual(q.take(1, 2), { item: 's3', slow: true }, 'one ended: the next slow one starts');
    assert.deepEqual(q.take(2, 2), { item: 'b', slow: false });
    assert.deepEqual(q.take(2, 2), { item: 'c', slow: false });
    assert.equal(q.take(2, 2), null);
    assert.equal(q.size, 0);
  });

  it('starts slow ones past the cap once nothing else waits', () => {
    const q = new StartQueue<number>();
    for (let i = 0; i < 3; i++) q.push(i, true);
    assert.deepEqual(
      [q.take(5, 1), q.take(6, 1), q.take(7, 1)],
      [0, 1, 2].map((item) => ({ item, slow: true })),
    );
  });

  it('keeps the order of each queue over many items', () => {
    const q = new StartQueue<number>();
    for (let i = 0; i < 5000; i++) q.push(i, i % 10 === 0);
    const slow: number[] = [];
    const other: number[] = [];
    for (let next = q.take(0, 1); next !== null; next = q.take(0, 1)) (next.slow ? slow : other).push(next.item);
    assert.deepEqual(
      slow,
      Array.from({ length: 500 }, (_, i) => i * 10),
    );
    assert.equal(other.length, 4500);
    assert.ok(other.every((v, i) => i === 0 || v > other[i - 1]!));
  });

  it('keeps an eighth of the connections, at least one, for the rest of the fleet', () => {
    assert.equal(slowCap(64), 56);
    assert.equal(slowCap(32), 28);
    assert.equal(slowCap(8), 7);
    assert.equal(slowCap(2), 1);
    assert.equal(slowCap(1), 1, 'one connection: the slow one still goes first');
  });
});
