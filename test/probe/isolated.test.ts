import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { type ServedEndpoint, serveChain } from '../../src/demo/servers.js';
import { concurrencyShares, probeAllIsolated, probeProcessCount } from '../../src/probe/isolated.js';
import { probeAll } from '../../src/probe/probe.js';
import type { Endpoint } from '../../src/targets/types.js';
import { chainPems, standardPki } from '../helpers/fixtures.js';
import { closedPort, serveAcceptLog, serveBlackHole, serveGarbage } from '../helpers/servers.js';
import { endpointFor } from './endpoint.js';

const servers: ServedEndpoint[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** The processes this one has started and that still run. */
async function children(): Promise<number[]> {
  const text = await readFile(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8');
  return text.trim().split(/\s+/).filter(Boolean).map(Number);
}

describe('probeAllIsolated', () => {
  let fleet: Endpoint[];
  let good: Endpoint[];
  let hole: ServedEndpoint;

  before(async () => {
    const pki = await standardPki();
    good = [];
    for (const [i, version] of (['TLSv1.3', 'TLSv1.2'] as const).entries()) {
      const name = `pc0${i + 1}.contoso.test`;
      const leaf = await pki.leaf(pki.contosoIssuing01, name);
      // Presented in an odd order, with the root: the child must hand back exactly what was sent.
      const chain = i === 0 ? chainPems(leaf, pki.contosoIssuing01) : [leaf.pem, pki.contosoRoot.pem, pki.contosoIssuing01.pem];
      const s = await serveChain({ host: '127.0.0.1', key: leaf.keyPem, chain, maxVersion: version });
      servers.push(s);
      for (let n = 0; n < 4; n++) good.push(endpointFor(s, { host: name, sni: name, target: `${name}-${n}`, key: `${name}-${n}` }));
    }
    hole = await serveBlackHole();
    const garbage = await serveGarbage();
    servers.push(hole, garbage);
    const closed = await closedPort();
    fleet = [
      ...good.slice(0, 3),
      endpointFor(closed, { target: 'closed', key: 'closed' }),
      ...good.slice(3),
      endpointFor(garbage, { target: 'garbage', key: 'garbage' }),
    ];
  });

  it('gives the results the in-process probe gives, in input order, with the caller’s Endpoint objects', async () => {
    const progress: number[] = [];
    const [inside, isolated] = await Promise.all([
      probeAll(fleet, { timeoutMs: 5000, concurrency: 4 }),
      probeAllIsolated(fleet, { timeoutMs: 5000, concurrency: 4, onResult: (_r, done, total) => progress.push(done * 100 + total) }),
    ]);
    assert.equal(isolated.length, fleet.length);
    for (const [i, r] of isolated.entries()) assert.equal(r.endpoint, fleet[i], 'the same object, not a copy');
    assert.deepEqual(
      isolated.map((r) => [r.endpoint.key, r.error?.kind ?? 'ok', r.tls?.version ?? null, r.presented.map((d) => d.toString('base64'))]),
      inside.map((r) => [r.endpoint.key, r.error?.kind ?? 'ok', r.tls?.version ?? null, r.presented.map((d) => d.toString('base64'))]),
    );
    assert.deepEqual(
      isolated.map((r) => r.error?.kind ?? 'ok'),
      fleet.map((e) => (e.target === 'closed' ? 'refused' : e.target === 'garbage' ? 'not_tls' : 'ok')),
    );
    assert.ok(isolated.every((r) => r.startedAt instanceof Date && r.presented.every((d) => Buffer.isBuffer(d))));
    assert.equal(isolated.filter((r) => r.presented.length === 3).length, 4, 'the misordered chain keeps its three certificates');
    assert.deepEqual(
      progress,
      fleet.map((_, i) => (i + 1) * 100 + fleet.length),
    );
    assert.deepEqual(await children(), [], 'the probe process is gone after the scan');
  });

  it('an abort cancels the probes in flight and those not started', async () => {
    const endpoints = Array.from({ length: 6 }, (_, i) => endpointFor(hole, { target: `slow-${i}`, key: `slow-${i}` }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 500);
    const started = performance.now();
    const results = await probeAllIsolated(endpoints, { timeoutMs: 60_000, concurrency: 2, signal: controller.signal });
    assert.ok(performance.now() - started < 10_000);
    assert.deepEqual(
      results.map((r) => r.error?.kind),
      endpoints.map(() => 'cancelled'),
    );
  });

  it('a probe process killed mid-scan leaves an internal error on each endpoint it had not answered', async () => {
    const endpoints = [...fleet.slice(0, 2), ...Array.from({ length: 3 }, (_, i) => endpointFor(hole, { target: `hole-${i}`, key: `hole-${i}` }))];
    const answered: string[] = [];
    const scan = probeAllIsolated(endpoints, { timeoutMs: 60_000, concurrency: 5, onResult: (r) => answered.push(r.endpoint.key) });
    // Wait until the two good endpoints are back, then kill the child as the OOM killer would.
    while (answered.length < 2) await new Promise((r) => setTimeout(r, 20));
    const [pid] = await children();
    assert.ok(pid, 'the scan runs in a child process');
    process.kill(pid, 'SIGKILL');
    const results = await scan;
    assert.deepEqual(
      results.map((r) => r.error?.kind ?? 'ok'),
      ['ok', 'ok', 'internal', 'internal', 'internal'],
    );
    assert.match(results[4]!.error!.message, /probe process ended early \(SIGKILL\) before this endpoint was probed/);
  });

  it('several probe processes share a fleet and give what one process gives', async () => {
    // 300 endpoints: enough for three processes of 128 or more endpoints each.
    const endpoints = Array.from({ length: 300 }, (_, i) => ({ ...fleet[i % fleet.length]!, key: `many-${i}`, target: `many-${i}` }));
    const seen = new Set<number>();
    let watching = true;
    const watch = (async () => {
      while (watching) {
        for (const pid of await children()) seen.add(pid);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const [one, three] = await Promise.all([
      probeAllIsolated(endpoints, { timeoutMs: 5000, concurrency: 6 }),
      probeAllIsolated(endpoints, { timeoutMs: 5000, concurrency: 6, processes: 3 }),
    ]);
    watching = false;
    await watch;
    assert.equal(seen.size, 4, 'one process for the first scan and three for the second');
    for (const [i, r] of three.entries()) assert.equal(r.endpoint, endpoints[i]);
    const summary = (rs: typeof one) => rs.map((r) => [r.endpoint.key, r.error?.kind ?? 'ok', r.presented.map((d) => d.toString('base64')).join()]);
    assert.deepEqual(summary(three), summary(one));
    assert.deepEqual(await children(), []);
  });

  it('when one of several probe processes dies, the others probe the rest of the fleet', async () => {
    const endpoints = Array.from({ length: 300 }, (_, i) => ({ ...good[i % good.length]!, key: `rest-${i}`, target: `rest-${i}` }));
    const answered: string[] = [];
    const scan = probeAllIsolated(endpoints, { timeoutMs: 5000, concurrency: 4, processes: 2, onResult: (r) => answered.push(r.endpoint.key) });
    while (answered.length < 40) await new Promise((r) => setTimeout(r, 5));
    const pids = await children();
    assert.equal(pids.length, 2);
    process.kill(pids[0]!, 'SIGKILL');
    const results = await scan;
    const lost = results.filter((r) => r.error !== null);
    // A process holds four endpoints per connection and 64 more: at most 72 endpoints.
    assert.ok(lost.length >= 1 && lost.length <= 72, `${lost.length} endpoints lost`);
    assert.ok(lost.every((r) => r.error?.kind === 'internal' && /ended early \(SIGKILL\)/.test(r.error.message)));
    assert.equal(results.filter((r) => r.error === null).length, 300 - lost.length, 'every other endpoint was probed');
  });

  it('spreads the endpoints to start first over the probe processes', async () => {
    const log: string[] = [];
    const quick = await Promise.all(Array.from({ length: 254 }, (_, i) => serveAcceptLog(`q${i}`, log, { silent: false })));
    const slow = await Promise.all(['slowA', 'slowB'].map((name) => serveAcceptLog(name, log, { silent: true })));
    servers.push(...quick, ...slow);
    // Enough endpoints for two processes, one connection each; the slow two come last in the list.
    const list = [
      ...quick.map((s, i) => endpointFor(s, { target: `q${i}`, key: `q${i}` })),
      ...slow.map((s, i) => endpointFor(s, { target: `slow${i}`, key: `slow${i}` })),
    ];
    const results = await probeAllIsolated(list, { timeoutMs: 1500, concurrency: 2, processes: 2, first: [254, 255] });
    // Each process opens with one of them. Had one process been given both, it would start the
    // second only after the first timed out, long after the other process's first connection.
    assert.deepEqual(log.slice(0, 2).sort(), ['slowA', 'slowB']);
    assert.equal(log.length, 256);
    assert.deepEqual(
      results.map((r) => r.endpoint.target),
      list.map((e) => e.target),
    );
    assert.ok(results.slice(254).every((r) => r.error?.kind === 'timeout'));
  });

  it('an empty list starts no process', async () => {
    assert.deepEqual(await probeAllIsolated([], { timeoutMs: 1000, concurrency: 4 }), []);
    assert.deepEqual(await children(), []);
  });
});

describe('probe process count and concurrency shares', () => {
  it('one process per 128 endpoints at most, never more than the connections in flight', () => {
    assert.equal(probeProcessCount(1, 64, 4), 1);
    assert.equal(probeProcessCount(128, 64, 4), 1);
    assert.equal(probeProcessCount(129, 64, 4), 2);
    assert.equal(probeProcessCount(10_000, 64, 4), 4);
    assert.equal(probeProcessCount(10_000, 2, 4), 2);
    assert.equal(probeProcessCount(10_000, 64, 0), 1);
  });

  it('the shares add up to the configured concurrency', () => {
    assert.deepEqual(concurrencyShares(64, 2), [32, 32]);
    assert.deepEqual(concurrencyShares(7, 3), [3, 2, 2]);
    assert.deepEqual(concurrencyShares(1, 1), [1]);
  });
});
