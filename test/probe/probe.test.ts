import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createServer as createTlsServer } from 'node:tls';
import { createRootCa, createSelfSigned, type IssuedCert, issueLeaf } from '../../src/demo/pki.js';
import { type ServedEndpoint, serveChain } from '../../src/demo/servers.js';
import { type ProbeOptions, probeEndpoint } from '../../src/probe/probe.js';
import type { ProbeResult } from '../../src/probe/types.js';
import type { Endpoint } from '../../src/targets/types.js';
import { chainPems, type StandardPki, standardPki } from '../helpers/fixtures.js';
import { opensslShowCerts } from '../helpers/openssl.js';
import { closedPort, serveBlackHole, serveGarbage, serveHelloRequestFlood, servePlainText, serveRawTls12Flight } from '../helpers/servers.js';
import { endpointFor } from './endpoint.js';

const HOST = 'web.contoso.test';
const TIMEOUT = 5000;
const servers: ServedEndpoint[] = [];
let pki: StandardPki;
let leaf: IssuedCert;

async function serve(p: Promise<ServedEndpoint>): Promise<ServedEndpoint> {
  const s = await p;
  servers.push(s);
  return s;
}

function ders(...certs: IssuedCert[]): Buffer[] {
  return certs.map((c) => c.der);
}

/** The fields that matter, without timing. */
function summary(r: ProbeResult): unknown {
  return { presented: r.presented, tls: r.tls, error: r.error };
}

before(async () => {
  pki = await standardPki();
  leaf = await pki.leaf(pki.contosoIssuing01, HOST);
});
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

// Every case runs twice: through the default path (native TLS, stream reading as fallback) and
// through stream reading alone, so the two ways of capturing the chain are held to one standard.
for (const capture of ['auto', 'stream'] as const) {
  const probe = (endpoint: Endpoint, opts: ProbeOptions): Promise<ProbeResult> => probeEndpoint(endpoint, { ...opts, capture });

  describe(`probeEndpoint (capture ${capture}): chains as presented`, () => {
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      it(`${version}: leaf + intermediate, identical to what openssl s_client sees`, async () => {
        const s = await serve(serveChain({ key: leaf.keyPem, chain: chainPems(leaf, pki.contosoIssuing01), minVersion: version, maxVersion: version }));
        const r = await probe(endpointFor(s), { timeoutMs: TIMEOUT });
        assert.deepEqual(summary(r), {
          presented: ders(leaf, pki.contosoIssuing01),
          tls: {
            version,
            cipher: version === 'TLSv1.3' ? 'TLS_AES_256_GCM_SHA384' : 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
            completed: true,
            alert: null,
          },
          error: null,
        });
        const seen = await opensslShowCerts({ host: s.host, port: s.port, servername: HOST, tls: version === 'TLSv1.3' ? '1.3' : '1.2' });
        assert.deepEqual(r.presented, seen);
        assert.equal(r.endpoint.port, s.port);
        assert.ok(r.durationMs >= 0 && r.durationMs < TIMEOUT);
      });

      it(`${version}: misordered chain with duplicates and strays is kept exactly`, async () => {
        const order = [leaf, pki.contosoRoot, pki.contosoIssuing01, pki.contosoIssuing01, pki.fabrikamRoot];
        const s = await serve(serveChain({ key: leaf.keyPem, chain: chainPems(...order), minVersion: version, maxVersion: version }));
        const r = await probe(endpointFor(s), { timeoutMs: TIMEOUT });
        assert.deepEqual(r.presented, ders(...order));
        assert.deepEqual([r.error, r.tls?.completed], [null, true]);
        assert.deepEqual(r.presented, await opensslShowCerts({ host: s.host, port: s.port, servername: HOST }));
      });
    }

    it('an expired leaf is presented and the handshake completes (nothing is verified here)', async () => {
      const expired = await pki.leaf(pki.contosoIssuing01, 'old.contoso.test', {
        notBefore: new Date(Date.now() - 400 * 86_400_000),
        notAfter: new Date(Date.now() - 30 * 86_400_000),
      });
      const s = await serve(serveChain({ key: expired.keyPem, chain: chainPems(expired, pki.contosoIssuing01) }));
      const r = await probe(endpointFor(s, { host: 'old.contoso.test', sni: 'old.contoso.test' }), { timeoutMs: TIMEOUT });
      assert.deepEqual(summary(r), {
        presented: ders(expired, pki.contosoIssuing01),
        tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', completed: true, alert: null },
        error: null,
      });
    });

    it('a self-signed certificate is presented alone', async () => {
      const self = await createSelfSigned({ commonName: 'appliance.contoso.test', dnsNames: ['appliance.contoso.test'] });
      const s = await serve(serveChain({ key: self.keyPem, chain: [self.pem], maxVersion: 'TLSv1.2' }));
      const r = await probe(endpointFor(s), { timeoutMs: TIMEOUT });
      assert.deepEqual([r.presented, r.error, r.tls?.version, r.tls?.completed], [[self.der], null, 'TLSv1.2', true]);
    });

    it('an RSA-1024 / SHA-1 chain is captured: weak servers must be reportable', async () => {
      const weakRoot = await createRootCa({ commonName: 'Old Root', key: 'rsa1024', hash: 'SHA-1' });
      const weakLeaf = await issueLeaf(weakRoot, { commonName: HOST, dnsNames: [HOST], key: 'rsa1024', hash: 'SHA-1' });
      for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
        const s = await serve(serveChain({ key: weakLeaf.keyPem, chain: chainPems(weakLeaf, weakRoot), minVersion: version, maxVersion: version }));
        const r = await probe(endpointFor(s), { timeoutMs: TIMEOUT });
        assert.deepEqual([r.presented, r.error, r.tls?.version, r.tls?.completed], [ders(weakLeaf, weakRoot), null, version, true]);
      }
    });
  });

  describe(`probeEndpoint (capture ${capture}): servers that demand a client certificate`, () => {
    it('TLS 1.2: chain captured though the server aborts; alert handshake_failure', async () => {
      const s = await serve(
        serveChain({
          key: leaf.keyPem,
          chain: chainPems(leaf, pki.contosoIssuing01),
          maxVersion: 'TLSv1.2',
          requireClientCert: { ca: [pki.contosoRoot.pem] },
        }),
      );
      const r = await probe(endpointFor(s), { timeoutMs: TIMEOUT });
      assert.deepEqual(summary(r), {
        presented: ders(leaf, pki.contosoIssuing01),
        tls: { version: 'TLSv1.2', cipher: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', completed: false, alert: 'handshake_failure' },
        error: null,
      });
    });

    // Our side of a TLS 1.3 handshake finishes before the server judges our (empty) Certificate;
    // the probe waits for its verdict and reports the handshake as not completed, with the alert.
    it('TLS 1.3: chain captured, completed false, alert certificate_required', async () => {
      const s = await serve(
        serveChain({
          key: leaf.keyPem,
          chain: chainPems(leaf, pki.contosoIssuing01),
          minVersion: 'TLSv1.3',
          requireClientCert: { ca: [pki.contosoRoot.pem] },
        }),
      );
      const r = await probe(endpointFor(s), { timeoutMs: TIMEOUT });
      assert.deepEqual(summary(r), {
        presented: ders(leaf, pki.contosoIssuing01),
        tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', completed: false, alert: 'certificate_required' },
        error: null,
      });
    });

    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      it(`${version}: with the configured client certificate the handshake completes`, async () => {
        const s = await serve(
          serveChain({
            key: leaf.keyPem,
            chain: chainPems(leaf, pki.contosoIssuing01),
            minVersion: version,
            maxVersion: version,
            requireClientCert: { ca: [pki.contosoRoot.pem] },
          }),
        );
        const client = await pki.clientCert(pki.contosoIssuing01, 'probe.contoso.test');
        const r = await probe(endpointFor(s, { clientCert: { cert: client.pem + pki.contosoIssuing01.pem, key: client.keyPem } }), { timeoutMs: TIMEOUT });
        assert.deepEqual([r.presented, r.error, r.tls?.version, r.tls?.completed, r.tls?.alert], [ders(leaf, pki.contosoIssuing01), null, version, true, null]);
      });
    }

    it('TLS 1.3: a client certificate the server rejects is not a completed handshake', async () => {
      const s = await serve(
        serveChain({
          key: leaf.keyPem,
          chain: chainPems(leaf, pki.contosoIssuing01),
          minVersion: 'TLSv1.3',
          requireClientCert: { ca: [pki.contosoRoot.pem] },
        }),
      );
      const stranger = await pki.clientCert(pki.fabrikamTlsCa, 'stranger.fabrikam.test');
      const r = await probe(endpointFor(s, { clientCert: { cert: stranger.pem, key: stranger.keyPem } }), { timeoutMs: TIMEOUT });
      assert.deepEqual([r.presented, r.error, r.tls?.completed], [ders(leaf, pki.contosoIssuing01), null, false]);
    });
  });

  describe(`probeEndpoint (capture ${capture}): SNI`, () => {
    it('sends the endpoint sni for a name and none for an IP literal, connecting to the address', async () => {
      const seen: string[] = [];
      let connections = 0;
      const server = createTlsServer({
        key: leaf.keyPem,
        cert: leaf.pem + pki.contosoIssuing01.pem,
        // Called during the ClientHello, only when the client sent a server name.
        SNICallback: (name, cb) => {
          seen.push(name);
          cb(null);
        },
      });
      server.on('connection', () => connections++);
      server.on('tlsClientError', () => undefined);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
      const port = (server.address() as { port: number }).port;
      try {
        const at = { host: '127.0.0.2', port };
        const a = await probe(endpointFor(at, { host: 'pool01.contoso.test', sni: 'pool01.contoso.test' }), { timeoutMs: TIMEOUT });
        const b = await probe(endpointFor(at, { host: '127.0.0.2', sni: null }), { timeoutMs: TIMEOUT });
        const c = await probe(endpointFor(at, { host: '127.0.0.2', sni: '127.0.0.2' }), { timeoutMs: TIMEOUT });
        assert.deepEqual([a.error, b.error, c.error], [null, null, null]);
        assert.deepEqual([seen, connections], [['pool01.contoso.test'], 3]);
      } finally {
        server.close();
      }
    });
  });

  describe(`probeEndpoint (capture ${capture}): failures`, () => {
    it('plain text (HTTP answer) → not_tls naming what answered', async () => {
      const s = await serve(servePlainText());
      const r = await probe(endpointFor(s), { timeoutMs: TIMEOUT });
      assert.deepEqual([r.presented, r.tls, r.error?.kind], [[], null, 'not_tls']);
      assert.match(r.error!.message, new RegExp(`^${s.host}:${s.port} answered with "HTTP/1.1 400 Bad Request.*", not TLS`));
    });

    it('an SSH banner sent first → not_tls', async () => {
      const s = await serve(servePlainText({ greetFirst: true, banner: 'SSH-2.0-OpenSSH_9.2p1 Debian\r\n' }));
      const r = await probe(endpointFor(s), { timeoutMs: TIMEOUT });
      assert.equal(r.error?.kind, 'not_tls');
      assert.match(r.error!.message, /"SSH-2\.0-OpenSSH_9\.2p1 Debian"/);
    });

    it('garbage → not_tls with a hex excerpt', async () => {
      const s = await serve(serveGarbage({ bytes: Buffer.from('8f00ff10203040506070', 'hex') }));
      const r = await probe(endpointFor(s), { timeoutMs: TIMEOUT });
      assert.deepEqual([r.error?.kind, r.tls], ['not_tls', null]);
      assert.match(r.error!.message, /binary data \(8f00ff10203040506070\)/);
    });

    // The native capture does not see bytes one by one: its budget reads the TCP count under the
    // TLS socket on a tick. Were that count lost, the flood would run until the deadline.
    it('a server flooding the handshake with HelloRequests is cut off at the byte budget, well before the deadline', async () => {
      const s = await serveHelloRequestFlood();
      servers.push(s);
      const r = await probe(endpointFor(s), { timeoutMs: 20_000 });
      assert.deepEqual([r.presented, r.error?.kind], [[], 'handshake']);
      assert.match(r.error!.message, /more than 288 KiB of handshake data before its certificate|kept sending handshake data/);
      assert.ok(s.written() < 64 * 1024 * 1024, `the flood server got ${s.written()} bytes out`);
    });

    it('a black hole → timeout after about the deadline, saying the server sent nothing', async () => {
      const s = await serve(serveBlackHole());
      const r = await probe(endpointFor(s), { timeoutMs: 800 });
      assert.equal(r.error?.kind, 'timeout');
      assert.equal(
        r.error?.message,
        `no TLS handshake within 0.8s (TCP connected to ${s.host}:${s.port}, server sent nothing) — a firewall, or a service that does not speak TLS?`,
      );
      assert.ok(r.durationMs >= 790 && r.durationMs < 2500, `took ${r.durationMs} ms`);
    });

    it('a closed port → refused', async () => {
      const c = await closedPort();
      const r = await probe(endpointFor(c), { timeoutMs: TIMEOUT });
      assert.deepEqual(summary(r), {
        presented: [],
        tls: null,
        error: { kind: 'refused', message: `connection refused by ${c.host}:${c.port} — is the service running and listening on this port?` },
      });
    });

    it('a resolve error is returned as is, without connecting', async () => {
      const resolveError = { kind: 'dns' as const, message: 'pool09.contoso.test does not resolve (NXDOMAIN)' };
      const r = await probe(endpointFor({ host: '127.0.0.1', port: 1 }, { address: null, resolveError }), { timeoutMs: TIMEOUT });
      assert.deepEqual(summary(r), { presented: [], tls: null, error: resolveError });
    });

    it('a server that answers our ClientHello with an alert → handshake, naming the alert', async () => {
      const s = await rawServer((socket) => socket.once('data', () => socket.end(Buffer.from('150303000202' + '46', 'hex'))));
      const r = await probe(endpointFor(s), { timeoutMs: TIMEOUT });
      assert.deepEqual([r.error?.kind, r.tls], ['handshake', { version: null, cipher: null, completed: false, alert: 'protocol_version' }]);
      assert.match(
        r.error!.message,
        /ended the TLS handshake with alert protocol_version before sending a certificate — the server accepts none of TLS 1\.0–1\.3/,
      );
    });

    it('a server that resets the connection → reset', async () => {
      const s = await rawServer((socket) => socket.once('data', () => socket.resetAndDestroy()));
      const r = await probe(endpointFor(s), { timeoutMs: TIMEOUT });
      assert.equal(r.error?.kind, 'reset');
      assert.match(r.error!.message, /reset the connection during the TLS handshake/);
    });

    it('a server that closes without a word → handshake, suggesting SNI or versions', async () => {
      const s = await rawServer((socket) => socket.once('data', () => socket.end()));
      const r = await probe(endpointFor(s), { timeoutMs: TIMEOUT });
      assert.equal(r.error?.kind, 'handshake');
      assert.match(r.error!.message, /closed the connection without answering our TLS ClientHello/);
    });

    it('a configured client certificate that cannot be used → client_certificate, without connecting', async () => {
      const other = await pki.leaf(pki.contosoIssuing01, 'other.contoso.test');
      const r = await probe(endpointFor({ host: '127.0.0.1', port: 1 }, { clientCert: { cert: leaf.pem, key: other.keyPem } }), { timeoutMs: TIMEOUT });
      assert.deepEqual([r.error?.kind, r.presented, r.tls], ['client_certificate', [], null]);
      assert.match(r.error!.message, /the client certificate configured for .* cannot be used: .*key values mismatch.* — check client_cert/);
    });

    it('a bug of ours inside a stage → internal, the error handed to the caller with its stack', async () => {
      const broken = endpointFor({ host: '127.0.0.1', port: 1 });
      // Fault injection: the resolve stage reads this field and gets an exception.
      Object.defineProperty(broken, 'starttls', {
        get: () => {
          throw new Error('injected fault');
        },
      });
      const seen: unknown[] = [];
      const r = await probe(broken, { timeoutMs: TIMEOUT, onInternalError: (_e, err) => seen.push(err) });
      assert.deepEqual([r.error?.kind, r.presented, r.tls], ['internal', [], null]);
      assert.match(r.error!.message, /failed on our side \(injected fault\); this is a chainwatch bug/);
      assert.match((seen[0] as Error).stack!, /injected fault\n\s+at /);
    });

    it('an impossible port is an error result, never a rejection', async () => {
      const r = await probe(endpointFor({ host: '127.0.0.1', port: 70000 }), { timeoutMs: TIMEOUT });
      assert.equal(r.error?.kind, 'unreachable');
      assert.match(r.error!.message, /^cannot connect to 127\.0\.0\.1:70000: .*70000/);
    });

    it('a signal aborts a probe at once', async () => {
      const s = await serve(serveBlackHole());
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      const r = await probe(endpointFor(s), { timeoutMs: 60_000, signal: controller.signal });
      assert.equal(r.error?.kind, 'cancelled');
      assert.match(r.error!.message, /cancelled before it finished/);
      assert.ok(r.durationMs < 2000);
      const again = await probe(endpointFor(s), { timeoutMs: 60_000, signal: controller.signal });
      assert.equal(again.error?.kind, 'cancelled');
    });
  });

  describe(`probeEndpoint (capture ${capture}): certificate lists real TLS stacks refuse to send`, () => {
    it('100 certificates are captured exactly, in order', async () => {
      const certs = Array.from({ length: 100 }, (_, i) => (i % 2 ? pki.contosoIssuing01.der : leaf.der));
      const s = await serve(serveRawTls12Flight({ certificates: certs }));
      const r = await probe(endpointFor(s), { timeoutMs: TIMEOUT });
      assert.deepEqual([r.error, r.presented.length, r.tls?.version, r.tls?.completed], [null, 100, 'TLSv1.2', false]);
      assert.deepEqual(r.presented, certs);
    });

    it('an unparsable certificate is captured as sent (analysis judges it), the handshake fails', async () => {
      const junk = Buffer.from('this is not DER at all');
      const s = await serve(serveRawTls12Flight({ certificates: [junk, pki.contosoIssuing01.der] }));
      const r = await probe(endpointFor(s), { timeoutMs: TIMEOUT });
      assert.deepEqual([r.error, r.presented, r.tls?.completed], [null, [junk, pki.contosoIssuing01.der], false]);
    });

    it('101 certificates → oversized, nothing parsed', async () => {
      const s = await serve(serveRawTls12Flight({ certificates: Array.from({ length: 101 }, () => Buffer.from('x'.repeat(50))) }));
      const r = await probe(endpointFor(s), { timeoutMs: TIMEOUT });
      assert.deepEqual([r.presented, r.error?.kind], [[], 'oversized']);
      assert.match(r.error!.message, /sent more certificate data than the probe accepts \(more than 100 certificates\)/);
    });

    it('a certificate list over 256 KiB → oversized from its declared length', async () => {
      const s = await serve(serveRawTls12Flight({ certificates: Array.from({ length: 90 }, () => Buffer.alloc(3000, 0x30)) }));
      const r = await probe(endpointFor(s), { timeoutMs: TIMEOUT });
      assert.deepEqual([r.presented, r.error?.kind], [[], 'oversized']);
      assert.match(r.error!.message, /a certificate list of \d+ bytes, over the 256 KiB accepted/);
    });

    // OpenSSL refuses certificate lists over 100 KiB ("excessive message size") the moment it
    // reads the message header; the byte-stream capture reads on and obtains the chain.
    it('a 150 KiB certificate list is captured whole though OpenSSL refuses it', async () => {
      const certs = Array.from({ length: 50 }, (_, i) => Buffer.alloc(3000, i));
      const s = await serve(serveRawTls12Flight({ certificates: certs }));
      const r = await probe(endpointFor(s), { timeoutMs: TIMEOUT });
      assert.deepEqual([r.error, r.presented, r.tls?.version, r.tls?.completed], [null, certs, 'TLSv1.2', false]);
    });
  });
}

/** A TCP server whose behaviour the test scripts, for the failure modes the kit does not model. */
async function rawServer(onSocket: (s: Socket) => void): Promise<ServedEndpoint> {
  const open = new Set<Socket>();
  const server = createServer((socket) => {
    open.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => open.delete(socket));
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint: ServedEndpoint = {
    host: '127.0.0.1',
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
  servers.push(endpoint);
  return endpoint;
}
