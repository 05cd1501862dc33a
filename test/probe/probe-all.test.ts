import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type ServedEndpoint, serveChain } from '../../src/demo/servers.js';
import { probeAll } from '../../src/probe/probe.js';
import type { ProbeResult } from '../../src/probe/types.js';
import type { Endpoint } from '../../src/targets/types.js';
import { chainPems, standardPki } from '../helpers/fixtures.js';
import { closedPort, serveAcceptLog, serveBlackHole } from '../helpers/servers.js';
import { endpointFor } from './endpoint.js';

const servers: ServedEndpoint[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/**
 * Accepts connections and never speaks. `inFlight` is given the number of probes finished so
 * far; at every accepted connection it records accepted − finished, the probes in flight.
 */
async function countingBlackHole(): Promise<{ host: string; port: number; finished: () => void; maxInFlight: () => number; accepted: () => number }> {
  let accepted = 0;
  let finished = 0;
  let max = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    max = Math.max(max, ++accepted - finished);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push({
    host: '127.0.0.1',
    port: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  });
  return {
    host: '127.0.0.1',
    port: (server.address() as { port: number }).port,
    finished: () => void finished++,
    maxInFlight: () => max,
    accepted: () => accepted,
  };
}

describe('probeAll', () => {
  let fleet: Endpoint[];
  let blackHoleIndex: number;

  before(async () => {
    const pki = await standardPki();
    const hosts = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];
    const good: Endpoint[] = [];
    for (const [i, host] of hosts.entries()) {
      const name = `fe0${i + 1}.contoso.test`;
      const leaf = await pki.leaf(pki.contosoIssuing01, name);
      const s = await serveChain({ host, key: leaf.keyPem, chain: chainPems(leaf, pki.contosoIssuing01), maxVersion: i === 1 ? 'TLSv1.2' : 'TLSv1.3' });
      servers.push(s);
      for (let n = 0; n < 6; n++) good.push(endpointFor(s, { host: name, sni: name, target: `${name}-${n}` }));
    }
    const hole = await serveBlackHole();
    servers.push(hole);
    const closed = await closedPort();
    blackHoleIndex = 7;
    fleet = [...good.slice(0, blackHoleIndex), endpointFor(hole, { target: 'hole' }), ...good.slice(blackHoleIndex), endpointFor(closed, { target: 'closed' })];
  });

  it('a fleet of 20 with one black hole finishes in about one timeout, results in input order', async () => {
    const timeoutMs = 1500;
    const progress: [string, number, number][] = [];
    const started = performance.now();
    const results = await probeAll(fleet, {
      timeoutMs,
      concurrency: 8,
      onResult: (r, done, total) => progress.push([r.endpoint.target, done, total]),
    });
    const elapsed = performance.now() - started;
    assert.equal(fleet.length, 20);
    assert.deepEqual(
      results.map((r) => r.endpoint),
      fleet,
    );
    assert.deepEqual(
      results.map((r) => r.error?.kind ?? 'ok'),
      fleet.map((e) => (e.target === 'hole' ? 'timeout' : e.target === 'closed' ? 'refused' : 'ok')),
    );
    assert.ok(results.filter((r) => r.error === null).every((r) => r.presented.length === 2));
    assert.ok(elapsed >= timeoutMs - 10 && elapsed < timeoutMs + 1500, `scan took ${Math.round(elapsed)} ms for a ${timeoutMs} ms timeout`);
    assert.deepEqual(
      progress.map((p) => p[1]),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    assert.ok(progress.every((p) => p[2] === 20));
    assert.equal(progress.at(-1)![0], 'hole', 'the black hole is the last to finish');
  });

  it('starts the endpoints named in `first` before the others; results stay in input order', async () => {
    const log: string[] = [];
    const quick = await Promise.all(['q0', 'q1', 'q2', 'q3'].map((name) => serveAcceptLog(name, log, { silent: false })));
    const slow = await serveAcceptLog('slow', log, { silent: true });
    servers.push(...quick, slow);
    const list = [...quick.map((s, i) => endpointFor(s, { target: `q${i}` })), endpointFor(slow, { target: 'slow' })];
    // One connection at a time: the order in which the listeners saw them is the launch order.
    const results = await probeAll(list, { timeoutMs: 300, concurrency: 1, first: [4, 4, 99, -1] });
    assert.deepEqual(log, ['slow', 'q0', 'q1', 'q2', 'q3'], 'named first, then the others in input order; bad indices ignored');
    assert.deepEqual(
      results.map((r) => r.endpoint.target),
      list.map((e) => e.target),
    );
    assert.equal(results[4]!.error?.kind, 'timeout');
  });

  it('never has more than `concurrency` connections in flight', async () => {
    const hole = await countingBlackHole();
    const endpoints = Array.from({ length: 12 }, (_, i) => endpointFor(hole, { target: `slow-${i}` }));
    const started = performance.now();
    const results = await probeAll(endpoints, { timeoutMs: 400, concurrency: 3, onResult: hole.finished });
    const elapsed = performance.now() - started;
    assert.deepEqual([hole.maxInFlight(), hole.accepted()], [3, 12]);
    assert.ok(results.every((r) => r.error?.kind === 'timeout'));
    // 12 endpoints through 3 slots: four rounds of one timeout each.
    assert.ok(elapsed >= 4 * 400 - 20 && elapsed < 4 * 400 + 2000, `took ${Math.round(elapsed)} ms`);
  });

  it('an abort cancels probes in flight and those not started; every endpoint still gets a result', async () => {
    const hole = await countingBlackHole();
    const endpoints = Array.from({ length: 10 }, (_, i) => endpointFor(hole, { target: `slow-${i}` }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const started = performance.now();
    const results: ProbeResult[] = await probeAll(endpoints, { timeoutMs: 30_000, concurrency: 4, signal: controller.signal, onResult: hole.finished });
    assert.ok(performance.now() - started < 3000);
    assert.equal(results.length, 10);
    assert.ok(results.every((r) => r.error?.kind === 'cancelled'));
    assert.deepEqual([hole.maxInFlight(), hole.accepted()], [4, 4], 'probes not started before the abort never connect');
  });

  it('an empty list resolves at once, a concurrency below one still makes progress', async () => {
    assert.deepEqual(await probeAll([], { timeoutMs: 1000, concurrency: 8 }), []);
    const results = await probeAll(fleet.slice(0, 2), { timeoutMs: 5000, concurrency: 0 });
    assert.deepEqual(
      results.map((r) => r.error),
      [null, null],
    );
  });

  it('a throwing onResult does not leave probes behind: the scan finishes, then rejects with it', async () => {
    await assert.rejects(
      probeAll(fleet.slice(0, 4), {
        timeoutMs: 5000,
        concurrency: 2,
        onResult: () => {
          throw new Error('consumer broke');
        },
      }),
      /consumer broke/,
    );
  });
});
