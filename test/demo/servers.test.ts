import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer, connect as netConnect, type Socket } from 'node:net';
import { test } from 'node:test';
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from 'node:tls';
import { type IssuedCert, issueLeaf } from '../../src/demo/pki.js';
import { type ServedEndpoint, serveChain } from '../../src/demo/servers.js';
import { chainPems, standardPki } from '../helpers/fixtures.js';
import { opensslShowCerts, opensslShowCertsDetailed } from '../helpers/openssl.js';
import { closedPort, serveBlackHole, serveGarbage, servePlainText, serveRawTls12Flight } from '../helpers/servers.js';

// --- a small TLS 1.2 record reader, independent of the server code ---------------------------

interface Tls12Flight {
  /** Handshake message types in order, e.g. [2, 11, 14]. */
  types: number[];
  serverHelloVersion: number | null;
  cipherSuite: number | null;
  certificates: Buffer[];
  recordCount: number;
}

/** Reads clear-text handshake records until a ChangeCipherSpec or the end of `bytes`. */
function readTls12Flight(bytes: Buffer): Tls12Flight {
  let handshake = Buffer.alloc(0);
  let at = 0;
  let recordCount = 0;
  while (at + 5 <= bytes.length && bytes[at] === 0x16) {
    assert.equal(bytes.readUInt16BE(at + 1), 0x0303, 'record version');
    const length = bytes.readUInt16BE(at + 3);
    assert.ok(length <= 16384, 'record within the TLS limit');
    assert.ok(at + 5 + length <= bytes.length, 'record complete');
    handshake = Buffer.concat([handshake, bytes.subarray(at + 5, at + 5 + length)]);
    at += 5 + length;
    recordCount++;
  }
  const flight: Tls12Flight = { types: [], serverHelloVersion: null, cipherSuite: null, certificates: [], recordCount };
  let m = 0;
  while (m + 4 <= handshake.length) {
    const type = handshake[m]!;
    const length = handshake.readUIntBE(m + 1, 3);
    const body = handshake.subarray(m + 4, m + 4 + length);
    assert.equal(body.length, length, 'handshake message complete');
    flight.types.push(type);
    if (type === 2) {
      flight.serverHelloVersion = body.readUInt16BE(0);
      flight.cipherSuite = body.readUInt16BE(2 + 32 + 1 + body[34]!);
    }
    if (type === 11) {
      const listLength = body.readUIntBE(0, 3);
      assert.equal(listLength, body.length - 3);
      for (let c = 3; c < body.length; ) {
        const n = body.readUIntBE(c, 3);
        flight.certificates.push(Buffer.from(body.subarray(c + 3, c + 3 + n)));
        c += 3 + n;
      }
    }
    m += 4 + length;
  }
  return flight;
}

/** A minimal TLS 1.2 ClientHello offering the given suites. */
function clientHello(suites: number[]): Buffer {
  const suiteBytes = Buffer.alloc(suites.length * 2);
  for (const [i, s] of suites.entries()) suiteBytes.writeUInt16BE(s, i * 2);
  const body = Buffer.concat([
    Buffer.from([0x03, 0x03]),
    Buffer.alloc(32, 7),
    Buffer.from([0]),
    Buffer.from([0, suiteBytes.length]),
    suiteBytes,
    Buffer.from([1, 0]),
    Buffer.from([0, 0]),
  ]);
  const hs = Buffer.concat([Buffer.from([1, 0, body.length >> 8, body.length & 0xff]), body]);
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x01, hs.length >> 8, hs.length & 0xff]), hs]);
}

/** Everything a server sends until it closes or `ms` pass. */
async function readAll(socket: Socket, ms: number): Promise<{ data: Buffer; closed: boolean }> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => undefined);
  const closed = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  return { data: Buffer.concat(chunks), closed };
}

async function connected(host: string, port: number): Promise<Socket> {
  const socket = netConnect({ host, port });
  await once(socket, 'connect');
  return socket;
}

/** Server-to-client bytes of a node TLS connection, recorded by a relay in between. */
async function nodeClientSees(target: ServedEndpoint, options: ConnectionOptions): Promise<Buffer> {
  const recorded: Buffer[] = [];
  const sockets = new Set<Socket>();
  const relay = createServer((client) => {
    const upstream = netConnect({ host: target.host, port: target.port });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
    }
    upstream.on('data', (c: Buffer) => recorded.push(c));
    client.pipe(upstream).pipe(client);
  });
  relay.listen(0, '127.0.0.1');
  await once(relay, 'listening');
  const { port } = relay.address() as { port: number };
  const tls = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options });
  await once(tls, 'secureConnect');
  tls.end();
  await once(tls, 'close');
  for (const s of sockets) s.destroy();
  relay.close();
  return Buffer.concat(recorded);
}

type TlsOutcome = { connected: boolean; answer: string; error: string | null };

/** Handshake, send a request, collect the answer or the error that ended the connection. */
async function tlsExchange(options: ConnectionOptions): Promise<TlsOutcome> {
  const tls: TLSSocket = tlsConnect({ rejectUnauthorized: false, ...options });
  let isConnected = false;
  let answer = '';
  let error: string | null = null;
  tls.on('secureConnect', () => {
    isConnected = true;
    tls.write('GET / HTTP/1.0\r\n\r\n');
  });
  tls.on('data', (c: Buffer) => {
    answer += c.toString();
    if (answer.includes('\n\n') || answer.endsWith('endpoint\n')) tls.end();
  });
  tls.on('error', (e: NodeJS.ErrnoException) => {
    error = e.code ?? e.message;
  });
  // events.once would reject on 'error'; the error is part of the outcome here.
  await new Promise((resolve) => tls.once('close', resolve));
  return { connected: isConnected, answer, error };
}

const sameDer = (actual: Buffer[], expected: IssuedCert[]): void =>
  assert.deepEqual(
    actual.map((d) => d.toString('hex')),
    expected.map((c) => c.der.toString('hex')),
  );

// --- serveChain ------------------------------------------------------------------------------

test('serveChain presents the chain exactly as given: order, duplicates and strays (openssl and node agree)', async () => {
  const pki = await standardPki();
  const leaf = await pki.leaf(pki.contosoIssuing01, 'pool01.contoso.local');
  const order = [leaf, pki.contosoRoot, pki.contosoIssuing01, pki.contosoIssuing01, pki.fabrikamTlsCa];
  const server = await serveChain({ host: '127.0.0.2', key: leaf.keyPem, chain: chainPems(...order) });
  try {
    assert.equal(server.host, '127.0.0.2');
    sameDer(await opensslShowCerts({ host: server.host, port: server.port, tls: '1.2', servername: 'pool01.contoso.local' }), order);
    sameDer(await opensslShowCerts({ host: server.host, port: server.port, tls: '1.3' }), order);
    // node as the client: the TLS 1.2 Certificate message on the wire carries the same list.
    const flight = readTls12Flight(await nodeClientSees(server, { maxVersion: 'TLSv1.2' }));
    assert.deepEqual(flight.types.slice(0, 2), [2, 11]);
    sameDer(flight.certificates, order);
  } finally {
    await server.close();
  }
});

test('a leaf-only server sends only the leaf, even when its issuer is among the MTLS client CAs', async () => {
  const pki = await standardPki();
  const leaf = await pki.leaf(pki.contosoIssuing01, 'edge.contoso.local');
  const plain = await serveChain({ host: '127.0.0.3', key: leaf.keyPem, chain: [leaf.pem] });
  const mtls = await serveChain({
    host: '127.0.0.3',
    key: leaf.keyPem,
    chain: [leaf.pem],
    requireClientCert: { ca: chainPems(pki.contosoRoot, pki.contosoIssuing01) },
  });
  const client = await pki.clientCert(pki.contosoIssuing01, 'chainwatch probe');
  try {
    for (const tls of ['1.2', '1.3'] as const) {
      sameDer(await opensslShowCerts({ host: plain.host, port: plain.port, tls }), [leaf]);
      sameDer(await opensslShowCerts({ host: mtls.host, port: mtls.port, tls, clientCert: { cert: client.pem, key: client.keyPem } }), [leaf]);
    }
  } finally {
    await Promise.all([plain.close(), mtls.close()]);
  }
});

test('weak certificates (RSA-1024, SHA-1) are served', async () => {
  const pki = await standardPki();
  const weak = await pki.leaf(pki.contosoIssuing01, 'legacy.contoso.local', { key: 'rsa1024', hash: 'SHA-1' });
  const server = await serveChain({ key: weak.keyPem, chain: chainPems(weak, pki.contosoIssuing01) });
  try {
    for (const tls of ['1.2', '1.3'] as const) {
      sameDer(await opensslShowCerts({ host: server.host, port: server.port, tls }), [weak, pki.contosoIssuing01]);
    }
  } finally {
    await server.close();
  }
});

test('version limits hold: a TLS 1.2-only server refuses a TLS 1.3-only client', async () => {
  const pki = await standardPki();
  const leaf = await pki.leaf(pki.contosoIssuing02, 'old.contoso.local');
  const server = await serveChain({ key: leaf.keyPem, chain: [leaf.pem], maxVersion: 'TLSv1.2' });
  try {
    const ok = await tlsExchange({ host: server.host, port: server.port });
    assert.equal(ok.connected, true);
    assert.match(ok.answer, /^HTTP\/1\.1 200 OK/);
    const refused = await tlsExchange({ host: server.host, port: server.port, minVersion: 'TLSv1.3' });
    assert.equal(refused.connected, false);
    assert.match(refused.error ?? '', /PROTOCOL_VERSION|VERSION/i);
  } finally {
    await server.close();
  }
});

for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
  test(`MTLS ${version}: no client certificate is rejected, a certificate from the right CA accepted, a stranger's refused`, async () => {
    const pki = await standardPki();
    const leaf = await pki.leaf(pki.contosoIssuing01, 'pool01.contoso.local');
    const server = await serveChain({
      host: '127.0.0.4',
      key: leaf.keyPem,
      chain: chainPems(leaf, pki.contosoIssuing01),
      minVersion: version,
      maxVersion: version,
      requireClientCert: { ca: [pki.contosoRoot.pem] },
    });
    const target = { host: server.host, port: server.port };
    try {
      const anonymous = await tlsExchange(target);
      assert.equal(anonymous.answer, '');
      if (version === 'TLSv1.2') {
        // TLS 1.2 aborts inside the handshake.
        assert.equal(anonymous.connected, false);
        // OpenSSL 3.0 (Node 20) names a TLS 1.2 alert SSLV3, 3.5 (Node 24) SSL/TLS.
        assert.match(anonymous.error ?? '', /^ERR_SSL_(SSLV3|SSL\/TLS)_ALERT_HANDSHAKE_FAILURE$/);
      } else {
        // TLS 1.3: our side completes, then the server's alert arrives.
        assert.equal(anonymous.connected, true);
        assert.equal(anonymous.error, 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
      }

      // The client sends its issuing CA along; the server trusts only the root.
      const client = await pki.clientCert(pki.contosoIssuing01, 'chainwatch probe');
      const accepted = await tlsExchange({ ...target, cert: chainPems(client, pki.contosoIssuing01).join(''), key: client.keyPem });
      assert.equal(accepted.error, null);
      assert.match(accepted.answer, /^HTTP\/1\.1 200 OK[\s\S]*chainwatch demo endpoint/);

      const stranger = await pki.clientCert(pki.fabrikamTlsCa, 'stranger');
      const refused = await tlsExchange({ ...target, cert: chainPems(stranger, pki.fabrikamTlsCa).join(''), key: stranger.keyPem });
      assert.equal(refused.answer, '');

      // openssl still sees the chain the server presented, with or without a client certificate.
      sameDer(await opensslShowCerts({ ...target, tls: version === 'TLSv1.2' ? '1.2' : '1.3' }), [leaf, pki.contosoIssuing01]);
    } finally {
      await server.close();
    }
  });
}

test('close() ends open TLS connections instead of waiting for the peer', async () => {
  const pki = await standardPki();
  const leaf = await pki.leaf(pki.contosoIssuing01, 'pool01.contoso.local');
  const server = await serveChain({ key: leaf.keyPem, chain: [leaf.pem] });
  const tls = tlsConnect({ host: server.host, port: server.port, rejectUnauthorized: false });
  tls.on('error', () => undefined);
  await once(tls, 'secureConnect');
  const closed = once(tls, 'close');
  await server.close();
  await closed;
  assert.equal(tls.destroyed, true);
});

// --- broken endpoints ------------------------------------------------------------------------

test('black hole: accepts, never answers, never closes; close() still returns', async () => {
  const hole = await serveBlackHole({ host: '127.0.0.5' });
  const socket = await connected(hole.host, hole.port);
  socket.write(clientHello([0xc02f]));
  const { data, closed } = await readAll(socket, 1000);
  assert.equal(data.length, 0);
  assert.equal(closed, false);
  const ended = once(socket, 'close');
  await hole.close();
  await ended;
});

test('closed port refuses connections', async () => {
  const { host, port } = await closedPort('127.0.0.6');
  assert.equal(host, '127.0.0.6');
  const socket = netConnect({ host, port });
  const [error] = (await once(socket, 'error')) as [NodeJS.ErrnoException];
  assert.equal(error.code, 'ECONNREFUSED');
});

test('plain-text service answers a ClientHello in clear text; greetFirst speaks before the client', async () => {
  const http = await servePlainText();
  const smtp = await servePlainText({ banner: '220 mail.contoso.local ESMTP\r\n', greetFirst: true });
  try {
    const socket = await connected(http.host, http.port);
    socket.write(clientHello([0xc02f]));
    const answer = await readAll(socket, 5000);
    assert.match(answer.data.toString(), /^HTTP\/1\.1 400 Bad Request/);
    assert.equal(answer.closed, true);

    const greeted = await connected(smtp.host, smtp.port);
    const [first] = (await once(greeted, 'data')) as [Buffer];
    assert.equal(first.toString(), '220 mail.contoso.local ESMTP\r\n');
    greeted.destroy();

    // A TLS client gets a clear error, not a hang.
    const tls = await tlsExchange({ host: http.host, port: http.port });
    assert.equal(tls.connected, false);
    assert.match(tls.error ?? '', /WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|RECORD/);
  } finally {
    await Promise.all([http.close(), smtp.close()]);
  }
});

test('garbage service answers with the given bytes, then closes', async () => {
  const bytes = Buffer.from('\x00\xff not tls at all \x15\x03');
  const garbage = await serveGarbage({ host: '127.0.0.7', bytes });
  const random = await serveGarbage({ host: '127.0.0.7' });
  try {
    const socket = await connected(garbage.host, garbage.port);
    socket.write(clientHello([0xc02f]));
    const answer = await readAll(socket, 5000);
    assert.deepEqual(answer.data, bytes);
    assert.equal(answer.closed, true);

    const other = await connected(random.host, random.port);
    other.write(clientHello([0xc02f]));
    const noise = await readAll(other, 5000);
    assert.equal(noise.data.length, 512);
    assert.notEqual(noise.data[0], 0x16);
  } finally {
    await Promise.all([garbage.close(), random.close()]);
  }
});

// --- raw TLS 1.2 flights ---------------------------------------------------------------------

test('raw TLS 1.2 flight: ServerHello, Certificate with exactly the given entries, ServerHelloDone, then close', async () => {
  const pki = await standardPki();
  const leaf = await pki.leaf(pki.contosoIssuing01, 'pool01.contoso.local');
  // 120 real certificates plus unparsable entries: more than one 16 KiB record.
  const entries = [
    leaf.der,
    Buffer.from('not a certificate'),
    Buffer.alloc(0),
    pki.contosoIssuing01.der,
    ...Array.from({ length: 120 }, (_, i) => (i % 2 ? pki.contosoRoot.der : pki.fabrikamTlsCa.der)),
  ];
  const server = await serveRawTls12Flight({ host: '127.0.0.8', certificates: entries, closeAfterMs: 200 });
  try {
    const socket = await connected(server.host, server.port);
    socket.write(clientHello([0x1301, 0xc030, 0xc02f]));
    const { data, closed } = await readAll(socket, 5000);
    assert.equal(closed, true, 'the server closes after its flight');
    const flight = readTls12Flight(data);
    assert.deepEqual(flight.types, [2, 11, 14]);
    assert.equal(flight.serverHelloVersion, 0x0303);
    assert.equal(flight.cipherSuite, 0xc02f);
    assert.ok(flight.recordCount > 1);
    assert.deepEqual(
      flight.certificates.map((c) => c.toString('hex')),
      entries.map((c) => c.toString('hex')),
    );

    // A suite the client did not offer would end a real handshake at ServerHello: pick one it did.
    const other = await connected(server.host, server.port);
    other.write(clientHello([0xc02c]));
    assert.equal(readTls12Flight((await readAll(other, 5000)).data).cipherSuite, 0xc02c);

    // Not TLS at all: the connection is dropped without an answer.
    const junk = await connected(server.host, server.port);
    junk.write('GET / HTTP/1.0\r\n\r\n');
    assert.deepEqual(await readAll(junk, 5000), { data: Buffer.alloc(0), closed: true });
  } finally {
    await server.close();
  }
});

test('raw TLS 1.2 flight is accepted by real clients up to the Certificate message', async () => {
  const pki = await standardPki();
  const leaf = await pki.leaf(pki.contosoIssuing01, 'pool01.contoso.local');
  const server = await serveRawTls12Flight({ certificates: [leaf.der, pki.contosoIssuing01.der] });
  try {
    const out = await new Promise<string>((resolve) => {
      const child = execFile(
        'openssl',
        ['s_client', '-connect', `${server.host}:${server.port}`, '-msg', '-tls1_2', '-noservername'],
        { timeout: 10_000 },
        (_e, stdout, stderr) => resolve(stdout + stderr),
      );
      child.stdin?.end();
    });
    assert.match(out, /<<< TLS 1\.2, Handshake \[length [0-9a-f]+\], ServerHello/);
    assert.match(out, /<<< TLS 1\.2, Handshake \[length [0-9a-f]+\], Certificate/);
    // Without a ServerKeyExchange the ECDHE handshake cannot go on: openssl says so and stops.
    assert.match(out, /unexpected message/);

    const node = await tlsExchange({ host: server.host, port: server.port, maxVersion: 'TLSv1.2' });
    assert.equal(node.connected, false);
    assert.ok(node.error, 'node reports an error instead of hanging');
  } finally {
    await server.close();
  }
});

test('any 127.x.y.z address works and detailed openssl output is available', async () => {
  const pki = await standardPki();
  const leaf = await issueLeaf(pki.fabrikamTlsCa, { commonName: 'www.fabrikam.test', dnsNames: ['www.fabrikam.test'] });
  const server = await serveChain({ host: '127.42.17.200', key: leaf.keyPem, chain: chainPems(leaf, pki.fabrikamTlsCa) });
  try {
    const result = await opensslShowCertsDetailed({ host: server.host, port: server.port, servername: 'www.fabrikam.test' });
    assert.equal(result.exitCode, 0);
    assert.match(result.stdout, /Protocol\s*: TLSv1\.3|New, TLSv1\.3/);
    sameDer(result.certs, [leaf, pki.fabrikamTlsCa]);
  } finally {
    await server.close();
  }
});

/** Expects the server to refuse to start; closes it if it started anyway so the file cannot hang. */
async function refusesToServe(start: Promise<ServedEndpoint>, message: RegExp): Promise<void> {
  let served: ServedEndpoint;
  try {
    served = await start;
  } catch (err) {
    assert.match((err as Error).message, message);
    return;
  }
  await served.close();
  assert.fail(`server started on ${served.host}:${served.port} although it should have refused`);
}

test('misuse fails with a clear error: non-loopback address, key of another certificate, empty chain', async () => {
  const pki = await standardPki();
  const leaf = await pki.leaf(pki.contosoIssuing01, 'pool01.contoso.local');
  await refusesToServe(serveBlackHole({ host: '0.0.0.0' }), /refusing to listen on 0\.0\.0\.0: .*loopback/);
  await refusesToServe(serveChain({ host: '10.1.2.3', key: leaf.keyPem, chain: [leaf.pem] }), /loopback addresses only/);
  const ecKey = await issueLeaf(pki.contosoIssuing01, { commonName: 'other', freshKey: true, key: 'p256' });
  await refusesToServe(serveChain({ key: ecKey.keyPem, chain: [leaf.pem] }), /cannot serve this chain: the key is not chain\[0\]'s private key/);
  const rsaKey = await issueLeaf(pki.contosoIssuing01, { commonName: 'other', freshKey: true });
  await refusesToServe(serveChain({ key: rsaKey.keyPem, chain: [leaf.pem] }), /cannot serve this chain: .*key values mismatch/);
  await refusesToServe(serveChain({ key: leaf.keyPem, chain: [] }), /at least the leaf/);
  await refusesToServe(serveRawTls12Flight({ certificates: [Buffer.alloc(0x1000000)] }), /24-bit length/);
});
