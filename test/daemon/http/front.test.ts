// The HTTP front and its route table on a real socket: routing, HEAD, methods, 404s that say
// where to go, headers every answer carries, and a busy address refused in words.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { HttpFront } from '../../../src/daemon/http/front.js';
import { RouteTable } from '../../../src/daemon/http/routes.js';
import { nullLogger } from '../../../src/log/logger.js';
import { gzipPieces, inflated } from '../../../src/output/gzip.js';

let front: HttpFront;
let metricsCalls = 0;
let streamsOpened = 0;
// Many times the socket's buffer, so that sending has to wait for the client to read.
const bigText = Array.from({ length: 60_000 }, (_, i) => `chainwatch_probe_success{target="e${i}"} 1\n`).join('');

before(async () => {
  const routes = new RouteTable()
    .get('/metrics', () => {
      metricsCalls++;
      return { status: 200, type: 'text/plain; version=0.0.4; charset=utf-8', body: 'chainwatch_scans_total 0\n' };
    })
    .get('/page', (req) => ({ status: 200, type: 'text/html', body: `<p>${req.query.get('q') ?? ''}</p>`, headers: { 'X-Frame-Options': 'DENY' } }))
    .get('/boom', () => {
      throw new Error('a bug');
    })
    .get(
      '/streamed',
      async () => {
        const counted = inflated(await gzipPieces([bigText]));
        const part = {
          length: counted.length,
          open: () => {
            streamsOpened++;
            return counted.open();
          },
        };
        return { status: 200, type: 'text/plain', body: [Buffer.from('# head\n'), part, Buffer.from('# tail\n')] };
      },
      { listed: false },
    )
    .get(
      '/broken',
      () => {
        const failing = {
          length: 1_000_000,
          open: () =>
            Readable.from(
              (function* () {
                yield Buffer.alloc(1000, 'x');
                throw new Error('disk gone');
              })(),
            ),
        };
        return { status: 200, type: 'text/plain', body: [Buffer.from('# head\n'), failing] };
      },
      { listed: false },
    )
    .prefix('/targets/', (req) => ({ status: 200, type: 'text/plain', body: `target ${req.path}` }));
  front = await HttpFront.listen({ host: '127.0.0.1', port: 0, handler: (req) => routes.handle(req), log: nullLogger });
});

after(async () => {
  await front?.close();
});

function call(method: string, path: string): Promise<{ status: number; headers: Record<string, unknown>; body: string; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(`${front.url}${path}`, { method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      const done = () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), complete: res.complete });
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', done);
      // A body cut short ends in 'aborted' and an error instead of 'end'.
      res.on('error', done);
    });
    req.on('error', reject);
    req.end();
  });
}

test('routes by exact path and by prefix, with the query string parsed', async () => {
  assert.match(front.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const m = await call('GET', '/metrics');
  assert.equal(m.status, 200);
  assert.equal(m.body, 'chainwatch_scans_total 0\n');
  assert.match(String(m.headers['content-type']), /version=0\.0\.4/);
  assert.equal(m.headers['x-content-type-options'], 'nosniff');
  assert.equal(m.headers['cache-control'], 'no-store');

  const page = await call('GET', '/page?q=hello%20there');
  assert.equal(page.body, '<p>hello there</p>');
  assert.equal(page.headers['x-frame-options'], 'DENY', 'a route adds its own headers');

  assert.equal((await call('GET', '/targets/web%201')).body, 'target /targets/web%201');
  assert.equal((await call('GET', '/targets/')).status, 404, 'a prefix alone is not a page under it');
});

test('HEAD answers without a body; other methods get 405 with Allow', async () => {
  const before = metricsCalls;
  const head = await call('HEAD', '/metrics');
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
  assert.equal(head.headers['content-length'], String('chainwatch_scans_total 0\n'.length));
  const post = await call('POST', '/metrics');
  assert.equal(post.status, 405);
  assert.equal(post.headers.allow, 'GET, HEAD');
  assert.equal(metricsCalls, before + 1, 'only the HEAD reached the route');
});

test('an unknown path gets 404 naming the listed routes; a failing route gets 500', async () => {
  const missing = await call('GET', '/nope');
  assert.equal(missing.status, 404);
  assert.equal(missing.body, 'not found; try /metrics, /page, /boom\n');
  assert.equal((await call('GET', '/boom')).status, 500);
  assert.equal((await call('GET', '/metrics')).status, 200, 'still serving after a failed request');
});

test('a connection that never sends a request is closed without an answer a browser could misread', async () => {
  // Browsers open spare connections and use them later: a stale 400 on one would be the next page.
  const socket = connect(front.port, '127.0.0.1');
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
  await new Promise<void>((resolve) => socket.on('close', () => resolve()));
  assert.equal(received, '');
  const garbage = connect(front.port, '127.0.0.1');
  let answer = '';
  garbage.on('data', (d: Buffer) => (answer += d.toString('latin1')));
  garbage.write('NOT HTTP\r\n\r\n');
  await new Promise<void>((resolve) => garbage.on('close', () => resolve()));
  assert.match(answer, /^HTTP\/1\.1 400 Bad Request/, 'a malformed request still gets 400');
});

test('a route registered twice is a programming error', () => {
  assert.throws(
    () => new RouteTable().get('/a', () => ({ status: 200, type: 'text/plain', body: '' })).get('/a', () => ({ status: 200, type: 'text/plain', body: '' })),
    /registered twice/,
  );
});

test('a busy address is refused with a message saying what to do', async () => {
  await assert.rejects(
    HttpFront.listen({ host: '127.0.0.1', port: front.port, handler: async () => ({ status: 200, type: 'text/plain', body: '' }), log: nullLogger }),
    /cannot listen on 127\.0\.0\.1:\d+: another process already listens there/,
  );
});

test('a body part made while it is sent arrives whole, with a Content-Length; HEAD does not make it', async () => {
  const opened = streamsOpened;
  const got = await call('GET', '/streamed');
  assert.equal(got.status, 200);
  assert.ok(got.complete);
  assert.equal(got.body, `# head\n${bigText}# tail\n`);
  assert.equal(got.headers['content-length'], String(got.body.length));
  const head = await call('HEAD', '/streamed');
  assert.equal(head.headers['content-length'], got.headers['content-length']);
  assert.equal(head.body, '');
  assert.equal(streamsOpened, opened + 1, 'only the GET decompressed');
});

test('a part that fails half-way cuts the answer short instead of ending it as if whole', async () => {
  const got = await call('GET', '/broken');
  assert.equal(got.status, 200);
  assert.equal(got.complete, false);
  assert.ok(got.body.length < 1_000_000 + 7, `got ${got.body.length} bytes`);
  assert.ok(got.body.startsWith('# head\n'));
  assert.equal((await call('GET', '/metrics')).status, 200, 'still serving after it');
});
