import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, test } from 'node:test';
import { startHttpServer, type FleetSummary, type HttpServerHandle } from '../../src/daemon/http.js';
import { nullLogger } from '../../src/log/logger.js';

const summary: FleetSummary = {
  lastScanFinishedAt: null, lastScanDurationMs: null, endpoints: 0, failures: 0, withProblems: 0, divergent: 0,
  policies: [], targets: 2, schedule: '*/5 * * * *', configReloadOk: true, version: '0.0.0',
};
let ready = false;
let status: string | null = null;
let metricsCalls = 0;
let server: HttpServerHandle;

after(async () => {
  await server?.close();
});

function call(method: string, path: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, { method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('routes, readiness, methods', async () => {
  server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    log: nullLogger,
    state: {
      metrics: async () => {
        metricsCalls++;
        return { contentType: 'text/plain; version=0.0.4; charset=utf-8', body: 'chainwatch_scans_total 0\n' };
      },
      ready: () => ready,
      statusJson: () => status,
      summary: () => ({ ...summary, lastScanFinishedAt: ready ? '2025-01-01T00:00:00.000Z' : null, policies: [{ name: 'p<b>', consistent: false, divergent: 1, unknown: 0 }] }),
    },
  });
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);

  assert.equal((await call('GET', '/healthz')).status, 200);
  const notReady = await call('GET', '/readyz');
  assert.equal(notReady.status, 503);
  assert.match(notReady.body, /first scan has not completed/);
  const noStatus = await call('GET', '/api/v1/status');
  assert.equal(noStatus.status, 503);
  assert.match(JSON.parse(noStatus.body).error, /no scan has completed/);

  ready = true;
  status = '{"targets":[]}\n';
  assert.equal((await call('GET', '/readyz')).status, 200);
  const st = await call('GET', '/api/v1/status?pretty=1');
  assert.equal(st.status, 200);
  assert.match(String(st.headers['content-type']), /^application\/json/);
  assert.deepEqual(JSON.parse(st.body), { targets: [] });

  const m = await call('GET', '/metrics');
  assert.equal(m.status, 200);
  assert.equal(m.body, 'chainwatch_scans_total 0\n');
  assert.match(String(m.headers['content-type']), /version=0\.0\.4/);

  const head = await call('HEAD', '/metrics');
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
  assert.equal(head.headers['content-length'], String('chainwatch_scans_total 0\n'.length));

  const page = await call('GET', '/');
  assert.equal(page.status, 200);
  assert.match(page.body, /href="\/metrics"/);
  assert.match(page.body, /href="\/api\/v1\/status"/);
  assert.match(page.body, /p&lt;b&gt;<\/td><td class="bad">DIVERGENT/, 'names are escaped');

  const missing = await call('GET', '/nope');
  assert.equal(missing.status, 404);
  const post = await call('POST', '/metrics');
  assert.equal(post.status, 405);
  assert.equal(post.headers.allow, 'GET, HEAD');
  assert.equal(metricsCalls, 2, 'only GET and HEAD of /metrics rendered metrics');
});

test('a busy address is refused with a message saying what to do', async () => {
  await assert.rejects(
    startHttpServer({ host: '127.0.0.1', port: server.port, log: nullLogger, state: { metrics: async () => ({ contentType: 'text/plain', body: '' }), ready: () => true, statusJson: () => null, summary: () => summary } }),
    /cannot listen on 127\.0\.0\.1:\d+: another process already listens there/,
  );
});
