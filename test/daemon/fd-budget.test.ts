// The HTTP connection cap: below the open-file limit by what probes and the daemon need, and
// enforced by the HTTP front; 2,000 idle connections do not stop a scrape.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { httpConnectionCap, openFileLimit, parseOpenFileLimit } from '../../src/daemon/fd-budget.js';
import { HttpFront } from '../../src/daemon/http/front.js';
import { RouteTable } from '../../src/daemon/http/routes.js';
import { serveChain } from '../../src/demo/servers.js';
import { nullLogger } from '../../src/log/logger.js';
import { probeEndpoint } from '../../src/probe/probe.js';
import { standardPki } from '../helpers/fixtures.js';
import { endpointFor } from '../probe/endpoint.js';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max processes             63422                63422                processes
Max open files            1024                 524288               files
`;

test('reads the open-file limit and keeps room for probes', () => {
  assert.deepEqual(parseOpenFileLimit(LIMITS), { soft: 1024, hard: 524288 });
  assert.equal(parseOpenFileLimit(LIMITS.replace('524288', 'unlimited'))?.hard, Number.POSITIVE_INFINITY);
  assert.equal(parseOpenFileLimit('nothing here'), null);
  assert.equal(httpConnectionCap({ soft: 1024, hard: 1024 }, 64), 1024 - 128 - 128);
  assert.equal(httpConnectionCap({ soft: 100, hard: 100 }, 64), 16, 'never below a floor that lets an operator look');
  assert.ok(openFileLimit() !== null, 'Linux has /proc/self/limits');
});

const routes = new RouteTable().get('/metrics', () => ({ status: 200, type: 'text/plain', body: 'chainwatch_up 1\n' }));

function get(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

function open(front: HttpFront): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(front.port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

test('connections beyond the cap are closed; closing one lets a scrape through', async () => {
  const front = await HttpFront.listen({ host: '127.0.0.1', port: 0, handler: (r) => routes.handle(r), log: nullLogger, maxConnections: 5 });
  const idle: Socket[] = [];
  try {
    for (let i = 0; i < 5; i++) idle.push(await open(front));
    await assert.rejects(get(`${front.url}/metrics`), 'the sixth connection is refused');
    idle.pop()!.destroy();
    // The server sees the close a moment later; until then a new connection is still over the cap.
    let status = 0;
    for (let tries = 0; status !== 200 && tries < 100; tries++) {
      status = await get(`${front.url}/metrics`).catch(() => new Promise<number>((r) => setTimeout(() => r(0), 100)));
    }
    assert.equal(status, 200);
  } finally {
    for (const s of idle) s.destroy();
    await front.close();
  }
});

test('2,000 idle connections: a scrape still answers and a probe still succeeds', async () => {
  const pki = await standardPki();
  const leaf = await pki.leaf(pki.contosoIssuing01, '127.0.0.1');
  const endpoint = await serveChain({ host: '127.0.0.1', key: leaf.keyPem, chain: [leaf.pem, pki.contosoIssuing01.pem] });
  const limit = openFileLimit()!;
  const cap = httpConnectionCap(limit, 64);
  assert.ok(cap > 2001, `this machine's open-file limit (${limit.soft}) leaves room for 2,000 connections`);
  const front = await HttpFront.listen({ host: '127.0.0.1', port: 0, handler: (r) => routes.handle(r), log: nullLogger, maxConnections: cap });
  const idle: Socket[] = [];
  try {
    for (let i = 0; i < 2000; i++) idle.push(await open(front));
    assert.equal(await get(`${front.url}/metrics`), 200);
    assert.ok(idle.filter((s) => !s.destroyed).length > 1900, 'the idle connections are still open');
    const probe = await probeEndpoint(endpointFor(endpoint), { timeoutMs: 20_000 });
    assert.equal(probe.error, null, JSON.stringify(probe.error));
    assert.equal(probe.presented.length, 2);
  } finally {
    await endpoint.close();
    for (const s of idle) s.destroy();
    await front.close();
  }
});
