import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alertFromTlsError, alertName } from '../../src/probe/wire/alerts.js';
import { HandshakeAssembler, parseCertificateMessage, parseServerHello } from '../../src/probe/wire/handshake.js';
import { MAX_CERTIFICATES, WireError } from '../../src/probe/wire/limits.js';
import { cipherSuiteName, protocolName } from '../../src/probe/wire/names.js';
import { looksLikeTls, readRecords } from '../../src/probe/wire/records.js';
import { readServerFlight } from '../../src/probe/wire/server-flight.js';
import { hkdfExpandLabel, RecordDecrypter, secretFromKeylogLine } from '../../src/probe/wire/tls13.js';
import {
  certificate12,
  certificate13,
  fakeCerts,
  HELLO_RETRY_RANDOM,
  handshake,
  RecordEncrypter,
  record,
  serverHello,
  tls12Flight,
  tls13Flight,
  u16,
  u24,
} from './wire-builders.js';

const NO_SECRETS = { handshake: null };

describe('TLS records', () => {
  it('splits a stream into records and leaves a trailing partial record out', () => {
    const a = record(22, Buffer.from('hello'));
    const b = record(21, Buffer.of(2, 40));
    const partial = record(23, Buffer.alloc(100)).subarray(0, 50);
    const got = [...readRecords(Buffer.concat([a, b, partial]))];
    assert.deepEqual(
      got.map((r) => [r.type, r.fragment.toString('hex')]),
      [
        [22, Buffer.from('hello').toString('hex')],
        [21, '0228'],
      ],
    );
    assert.deepEqual(got[0]!.header, a.subarray(0, 5));
  });

  it('rejects a malformed header and an oversized record', () => {
    assert.throws(() => [...readRecords(Buffer.from('HTTP/1.1 400 Bad Request'))], WireError);
    assert.throws(() => [...readRecords(Buffer.concat([Buffer.of(22, 3, 3), u16(40000), Buffer.alloc(10)]))], /exceeds/);
  });

  it('tells TLS from plain text and binary by the first bytes', () => {
    assert.equal(looksLikeTls(record(22, Buffer.alloc(3))), true);
    assert.equal(looksLikeTls(Buffer.of(21, 3, 1, 0, 2)), true);
    assert.equal(looksLikeTls(Buffer.from('SSH-2.0-OpenSSH_9.2')), false);
    assert.equal(looksLikeTls(Buffer.from('HTTP/1.1 400')), false);
    assert.equal(looksLikeTls(Buffer.of(0x8f, 0x12)), false);
    assert.equal(looksLikeTls(Buffer.of(22, 3, 9)), false);
  });
});

describe('handshake reassembly', () => {
  it('joins a message spread over several fragments and splits several messages in one', () => {
    const big = handshake(11, Buffer.alloc(5000, 0xab));
    const small1 = handshake(2, Buffer.from('sh'));
    const small2 = handshake(14, Buffer.alloc(0));
    const stream = Buffer.concat([small1, big, small2]);
    const asm = new HandshakeAssembler();
    const out = [asm.push(stream.subarray(0, 3)), asm.push(stream.subarray(3, 2000)), asm.push(stream.subarray(2000, 4000)), asm.push(stream.subarray(4000))];
    assert.deepEqual(
      out.map((msgs) => msgs.map((m) => [m.type, m.body.length])),
      [
        [],
        [[2, 2]],
        [],
        [
          [11, 5000],
          [14, 0],
        ],
      ],
    );
    assert.equal(asm.certificatePending, false);
  });

  it('refuses more than its byte limit, however the bytes are split', () => {
    const asm = new HandshakeAssembler(1024);
    assert.throws(() => asm.push(handshake(11, Buffer.alloc(2000))), /exceeds|more than/);
    const asm2 = new HandshakeAssembler(1024);
    assert.throws(() => {
      for (let i = 0; i < 100; i++) asm2.push(handshake(4, Buffer.alloc(40)));
    }, /more than 1 KiB/);
    const asm3 = new HandshakeAssembler(1024);
    assert.throws(() => asm3.push(Buffer.concat([Buffer.of(4), u24(0xffffff)])), /exceeds/);
  });
});

describe('ServerHello', () => {
  it('reads TLS 1.2 from legacy_version and TLS 1.3 from supported_versions', () => {
    const h12 = parseServerHello(serverHello({ version: 0x0303, suite: 0xc02f }).subarray(4));
    assert.deepEqual(h12, { version: 0x0303, cipherSuite: 0xc02f, helloRetry: false });
    const h13 = parseServerHello(serverHello({ version: 0x0304, suite: 0x1302 }).subarray(4));
    assert.deepEqual(h13, { version: 0x0304, cipherSuite: 0x1302, helloRetry: false });
    const hrr = parseServerHello(serverHello({ version: 0x0304, suite: 0x1301, random: HELLO_RETRY_RANDOM }).subarray(4));
    assert.equal(hrr.helloRetry, true);
  });

  it('rejects truncation and an over-long session id', () => {
    const body = serverHello({ version: 0x0303, suite: 0xc02f }).subarray(4);
    for (const n of [0, 1, 20, 34, 60, 67]) assert.throws(() => parseServerHello(body.subarray(0, n)), WireError, `cut at ${n}`);
    const bad = Buffer.from(body);
    bad[34] = 33;
    assert.throws(() => parseServerHello(bad), /session id/);
  });
});

describe('Certificate message', () => {
  it('keeps order, duplicates and strays in TLS 1.2 and TLS 1.3 framing', () => {
    const [a, b, c] = fakeCerts(3);
    const list = [a!, c!, b!, b!, a!];
    assert.deepEqual(parseCertificateMessage(certificate12(list).subarray(4), false), list);
    assert.deepEqual(parseCertificateMessage(certificate13(list).subarray(4), true), list);
  });

  it('copies each certificate out of the captured bytes', () => {
    // A buffer of its own: Buffer.from copies share pooled slabs (8 KB on Node 20, 64 KB on 24.22).
    const message = certificate12(fakeCerts(1, 6000)).subarray(4);
    const body = Buffer.alloc(message.length);
    message.copy(body);
    const [der] = parseCertificateMessage(body, false);
    const before = Buffer.from(der!);
    body.fill(0);
    assert.deepEqual(der, before);
    assert.notEqual(der!.buffer, body.buffer);
  });

  it(`accepts ${MAX_CERTIFICATES} certificates and refuses one more`, () => {
    assert.equal(parseCertificateMessage(certificate12(fakeCerts(MAX_CERTIFICATES, 16)).subarray(4), false).length, MAX_CERTIFICATES);
    assert.throws(() => parseCertificateMessage(certificate12(fakeCerts(MAX_CERTIFICATES + 1, 16)).subarray(4), false), /more than 100 certificates/);
  });

  it('rejects an empty entry, a list length that lies, and truncation', () => {
    assert.throws(() => parseCertificateMessage(Buffer.concat([u24(3), u24(0)]), false), /empty certificate/);
    const body = certificate12(fakeCerts(2)).subarray(4);
    const lying = Buffer.from(body);
    lying.writeUIntBE(body.length, 0, 3);
    assert.throws(() => parseCertificateMessage(lying, false), /does not match/);
    assert.throws(() => parseCertificateMessage(Buffer.concat([u24(7), u24(50), Buffer.alloc(4)]), false), /truncated/);
  });
});

describe('TLS 1.3 record protection', () => {
  it('derives the RFC 8448 handshake key and IV', () => {
    const secret = Buffer.from('b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38', 'hex');
    assert.equal(hkdfExpandLabel('sha256', secret, 'key', Buffer.alloc(0), 16).toString('hex'), '3fce516009c21727d0f2e4e86ee403bc');
    assert.equal(hkdfExpandLabel('sha256', secret, 'iv', Buffer.alloc(0), 12).toString('hex'), '5d313eb2671276ee13000b30');
  });

  for (const suite of [0x1301, 0x1302, 0x1303]) {
    it(`decrypts a run of records under ${cipherSuiteName(suite)}, stripping padding`, () => {
      const secret = Buffer.alloc(suite === 0x1302 ? 48 : 32, 9);
      const enc = new RecordEncrypter(suite, secret);
      const dec = new RecordDecrypter(suite, secret);
      for (let i = 0; i < 300; i++) {
        const content = Buffer.from(`message ${i}`);
        const [r] = [...readRecords(enc.seal(i % 2 ? 22 : 21, content, i % 7))];
        assert.deepEqual(dec.decrypt(r!.header, r!.fragment), { type: i % 2 ? 22 : 21, content });
      }
    });
  }

  it('fails cleanly on a tampered record, a wrong key, a wrong sequence and an unknown suite', () => {
    const secret = Buffer.alloc(32, 1);
    const sealed = new RecordEncrypter(0x1301, secret).seal(22, Buffer.from('x'));
    const [r] = [...readRecords(sealed)];
    const tampered = Buffer.from(r!.fragment);
    tampered[0] = tampered[0]! ^ 1;
    assert.throws(() => new RecordDecrypter(0x1301, secret).decrypt(r!.header, tampered), /authentication/);
    assert.throws(() => new RecordDecrypter(0x1301, Buffer.alloc(32, 2)).decrypt(r!.header, r!.fragment), /authentication/);
    const replayed = new RecordDecrypter(0x1301, secret);
    assert.throws(() => replayed.decrypt(r!.header, Buffer.alloc(10)), /impossible length/);
    assert.deepEqual(replayed.decrypt(r!.header, r!.fragment).content, Buffer.from('x'));
    assert.throws(() => replayed.decrypt(r!.header, r!.fragment), /authentication/, 'the same record again has the next sequence number');
    assert.throws(() => new RecordDecrypter(0x1304, secret), /cannot read TLS 1.3 records of cipher suite 0x1304/);
    assert.throws(() => new RecordDecrypter(0x1302, secret), /length/);
  });

  it('takes the secret out of a key-log line of the wanted label only', () => {
    const line = Buffer.from(`SERVER_HANDSHAKE_TRAFFIC_SECRET ${'ab'.repeat(32)} ${'cd'.repeat(32)}\n`);
    assert.equal(secretFromKeylogLine(line, 'SERVER_HANDSHAKE_TRAFFIC_SECRET')?.toString('hex'), 'cd'.repeat(32));
    assert.equal(secretFromKeylogLine(line, 'SERVER_TRAFFIC_SECRET_0'), null);
    assert.equal(secretFromKeylogLine(Buffer.from('SERVER_HANDSHAKE_TRAFFIC_SECRET x zz\n'), 'SERVER_HANDSHAKE_TRAFFIC_SECRET'), null);
  });
});

describe('reading a server flight', () => {
  it('TLS 1.2: version, suite and the certificate list, with messages spanning small records', () => {
    const certs = fakeCerts(4, 900);
    const f = readServerFlight(tls12Flight({ certs, recordSize: 100 }), NO_SECRETS, true);
    assert.deepEqual(f, {
      notTls: false,
      version: 0x0303,
      cipherSuite: 0xc02f,
      certificates: certs,
      certificateRequested: false,
      alert: null,
      error: null,
      oversized: false,
      certificatePending: false,
    });
  });

  it('TLS 1.2 MTLS abort: certificates, the request for ours and the alert that followed', () => {
    const certs = fakeCerts(2);
    const f = readServerFlight(tls12Flight({ certs, requestCert: true, alert: 40 }), NO_SECRETS, false);
    assert.deepEqual([f.certificates, f.certificateRequested, f.alert, f.error], [certs, true, 40, null]);
  });

  it('an alert instead of a ServerHello', () => {
    const f = readServerFlight(record(21, Buffer.of(2, 70)), NO_SECRETS, false);
    assert.deepEqual([f.version, f.certificates, f.alert, f.notTls], [null, null, 70, false]);
  });

  for (const suite of [0x1301, 0x1302, 0x1303]) {
    it(`TLS 1.3 with ${cipherSuiteName(suite)}: decrypts the Certificate message spread over records`, () => {
      const certs = fakeCerts(5, 700);
      const flight = tls13Flight({ suite, certs, recordSize: 333 });
      const f = readServerFlight(flight.bytes, { handshake: flight.handshakeSecret }, true);
      assert.deepEqual([f.version, f.cipherSuite, f.certificates, f.error], [0x0304, suite, certs, null]);
    });
  }

  it('TLS 1.3 without the handshake secret says why it has no certificates', () => {
    const flight = tls13Flight({ suite: 0x1301, certs: fakeCerts(1) });
    const f = readServerFlight(flight.bytes, NO_SECRETS, true);
    assert.equal(f.certificates, null);
    assert.match(f.error!, /handshake keys were not available/);
  });

  it('TLS 1.3 MTLS: the request for our certificate is read from the encrypted flight', () => {
    const certs = fakeCerts(2);
    const flight = tls13Flight({ suite: 0x1302, certs, requestCert: true, after: [{ type: 21, content: Buffer.of(2, 116) }] });
    const f = readServerFlight(flight.bytes, { handshake: flight.handshakeSecret }, false);
    assert.deepEqual([f.certificates, f.certificateRequested, f.error], [certs, true, null]);
  });

  it('a Certificate message cut short is pending, so the capture can read on', () => {
    const full = tls12Flight({ certs: fakeCerts(3, 5000), recordSize: 4000 });
    const f = readServerFlight(full.subarray(0, 7000), NO_SECRETS, true);
    assert.deepEqual([f.certificates, f.certificatePending, f.error], [null, true, null]);
    assert.equal(readServerFlight(full, NO_SECRETS, true).certificatePending, false);
  });

  it('non-TLS bytes are flagged, not parsed', () => {
    assert.equal(readServerFlight(Buffer.from('SSH-2.0-OpenSSH_9.2\r\n'), NO_SECRETS, true).notTls, true);
  });

  it('a certificate list over 256 KiB is oversized from its declared length, before its bytes arrive', () => {
    const full = tls12Flight({ certs: fakeCerts(90, 3000), recordSize: 1000 });
    const f = readServerFlight(full.subarray(0, 2200), NO_SECRETS, true);
    assert.deepEqual([f.certificates, f.oversized], [null, true]);
    assert.match(f.error!, /certificate list of \d+ bytes, over the 256 KiB accepted/);
  });

  it('more than 100 certificates are oversized; 100 are read', () => {
    const f = readServerFlight(tls12Flight({ certs: fakeCerts(101, 100) }), NO_SECRETS, true);
    assert.deepEqual([f.certificates, f.oversized, f.error], [null, true, 'more than 100 certificates']);
    assert.equal(readServerFlight(tls12Flight({ certs: fakeCerts(100, 100) }), NO_SECRETS, true).certificates?.length, 100);
  });
});

describe('names', () => {
  it('names protocols, cipher suites and alerts, with a fallback for unknown codes', () => {
    assert.deepEqual([protocolName(0x0303), protocolName(0x0304), protocolName(0x0301), protocolName(0x7f1c)], ['TLSv1.2', 'TLSv1.3', 'TLSv1', '0x7f1c']);
    assert.deepEqual([cipherSuiteName(0xc02f), cipherSuiteName(0xabcd)], ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', '0xabcd']);
    assert.deepEqual([alertName(116), alertName(40), alertName(200)], ['certificate_required', 'handshake_failure', 'alert_200']);
  });

  it('finds the alert number in an OpenSSL error', () => {
    const err = new Error(
      'C0:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1605:SSL alert number 116\n',
    );
    assert.equal(alertFromTlsError(err), 116);
    assert.equal(alertFromTlsError(new Error('socket hang up')), null);
    assert.equal(alertFromTlsError('not an error'), null);
  });
});
