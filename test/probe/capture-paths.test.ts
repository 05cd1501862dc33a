// Which capture path a probe takes: the native one alone for a healthy server (one connection),
// the byte-stream reader as a second attempt only when the native one obtained no chain.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createServer as createTlsServer } from 'node:tls';
import { probeEndpoint } from '../../src/probe/probe.js';
import { chainPems, standardPki } from '../helpers/fixtures.js';
import { endpointFor } from './endpoint.js';

const open: Server[] = [];
after(() => {
  for (const s of open) s.close();
});

async function listen(server: Server): Promise<{ host: string; port: number }> {
  open.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { host: '127.0.0.1', port: (server.address() as { port: number }).port };
}

describe('capture paths', () => {
  let key: string;
  let cert: string;
  before(async () => {
    const pki = await standardPki();
    const leaf = await pki.leaf(pki.contosoIssuing02, 'paths.contoso.test');
    key = leaf.keyPem;
    cert = chainPems(leaf, pki.contosoIssuing02).join('');
  });

  for (const maxVersion of ['TLSv1.2', 'TLSv1.3'] as const) {
    it(`${maxVersion}: a healthy server sees exactly one connection`, async () => {
      let connections = 0;
      const server = createTlsServer({ key, cert, maxVersion }, (s) => s.on('error', () => undefined));
      server.on('connection', () => connections++);
      server.on('tlsClientError', () => undefined);
      const at = await listen(server);
      const r = await probeEndpoint(endpointFor(at, { host: 'paths.contoso.test', sni: 'paths.contoso.test' }), { timeoutMs: 5000 });
      assert.deepEqual([r.error, r.presented.length, r.tls?.version, connections], [null, 2, maxVersion, 1]);
    });
  }

  it('a non-TLS answer is read again from the byte stream: two connections, one deadline', async () => {
    let connections = 0;
    const server = createServer((socket) => {
      connections++;
      socket.on('error', () => undefined);
      socket.once('data', () => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    });
    const at = await listen(server);
    const r = await probeEndpoint(endpointFor(at), { timeoutMs: 5000 });
    assert.deepEqual([r.error?.kind, connections], ['not_tls', 2]);
    assert.match(r.error!.message, /answered with "HTTP\/1\.1 400 Bad Request"/);
  });

  it('the second attempt only gets what is left of the deadline', async () => {
    let connections = 0;
    // First connection: a non-TLS answer after 600 ms; afterwards: silence.
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      if (++connections === 1) socket.once('data', () => setTimeout(() => socket.end('nope\r\n'), 600));
    });
    const at = await listen(server);
    const r = await probeEndpoint(endpointFor(at), { timeoutMs: 1000 });
    assert.equal(connections, 2);
    assert.equal(r.error?.kind, 'timeout');
    assert.ok(r.durationMs >= 990 && r.durationMs < 2000, `took ${r.durationMs} ms for a 1 s deadline`);
    assert.match(r.error!.message, /within 1s/);
  });
});
