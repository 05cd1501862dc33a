// Builders for server-side TLS byte streams, so the parsers can be tested (and fuzzed) with
// exact, hand-made flights. Written from RFC 8446/5246, independent of the code under test
// except for the key schedule, which its own test checks against RFC 8448.
import { createCipheriv, randomBytes } from 'node:crypto';
import { hkdfExpandLabel } from '../../src/probe/wire/tls13.js';

export function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

export function u24(n: number): Buffer {
  const b = Buffer.alloc(3);
  b.writeUIntBE(n, 0, 3);
  return b;
}

export function record(type: number, fragment: Buffer, version = 0x0303): Buffer {
  return Buffer.concat([Buffer.of(type), u16(version), u16(fragment.length), fragment]);
}

/** Splits `payload` into records of at most `size` bytes each. */
export function records(type: number, payload: Buffer, size = 16384): Buffer {
  const out: Buffer[] = [];
  for (let at = 0; at < payload.length; at += size) out.push(record(type, payload.subarray(at, at + size)));
  return Buffer.concat(out);
}

export function handshake(type: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.of(type), u24(body.length), body]);
}

export const HELLO_RETRY_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');

export function serverHello(o: { version: number; suite: number; random?: Buffer }): Buffer {
  const ext: Buffer[] = [];
  if (o.version === 0x0304) ext.push(u16(43), u16(2), u16(0x0304));
  ext.push(u16(0xff01), u16(1), Buffer.of(0)); // renegotiation_info
  const extensions = Buffer.concat(ext);
  const body = Buffer.concat([
    u16(0x0303),
    o.random ?? randomBytes(32),
    Buffer.of(32),
    randomBytes(32),
    u16(o.suite),
    Buffer.of(0),
    u16(extensions.length),
    extensions,
  ]);
  return handshake(2, body);
}

export function certificate12(ders: Buffer[]): Buffer {
  const list = Buffer.concat(ders.flatMap((d) => [u24(d.length), d]));
  return handshake(11, Buffer.concat([u24(list.length), list]));
}

export function certificate13(ders: Buffer[]): Buffer {
  const list = Buffer.concat(ders.flatMap((d) => [u24(d.length), d, u16(0)]));
  return handshake(11, Buffer.concat([Buffer.of(0), u24(list.length), list]));
}

export function alert(level: number, description: number): Buffer {
  return Buffer.of(level, description);
}

const SUITES: Record<number, { hash: 'sha256' | 'sha384'; cipher: string; keyLength: number }> = {
  0x1301: { hash: 'sha256', cipher: 'aes-128-gcm', keyLength: 16 },
  0x1302: { hash: 'sha384', cipher: 'aes-256-gcm', keyLength: 32 },
  0x1303: { hash: 'sha256', cipher: 'chacha20-poly1305', keyLength: 32 },
};

/** Protects records the way a TLS 1.3 server does (RFC 8446 §5.2), counting sequence numbers. */
export class RecordEncrypter {
  private readonly key: Buffer;
  private readonly iv: Buffer;
  private readonly cipher: string;
  private seq = 0;

  constructor(suite: number, secret: Buffer) {
    const s = SUITES[suite];
    if (!s) throw new Error(`no test encrypter for suite ${suite}`);
    this.cipher = s.cipher;
    this.key = hkdfExpandLabel(s.hash, secret, 'key', Buffer.alloc(0), s.keyLength);
    this.iv = hkdfExpandLabel(s.hash, secret, 'iv', Buffer.alloc(0), 12);
  }

  /** One encrypted record carrying `content` of inner type `type`, with `padding` zero bytes. */
  seal(type: number, content: Buffer, padding = 0): Buffer {
    const inner = Buffer.concat([content, Buffer.of(type), Buffer.alloc(padding)]);
    const nonce = Buffer.from(this.iv);
    const seq = Buffer.alloc(8);
    seq.writeBigUInt64BE(BigInt(this.seq++));
    for (let i = 0; i < 8; i++) nonce[4 + i] = nonce[4 + i]! ^ seq[i]!;
    const header = Buffer.concat([Buffer.of(23), u16(0x0303), u16(inner.length + 16)]);
    const c = createCipheriv(this.cipher as 'aes-128-gcm', this.key, nonce, { authTagLength: 16 });
    c.setAAD(header, { plaintextLength: inner.length });
    const body = Buffer.concat([c.update(inner), c.final(), c.getAuthTag()]);
    return Buffer.concat([header, body]);
  }
}

export function secretLength(suite: number): number {
  return SUITES[suite]!.hash === 'sha384' ? 48 : 32;
}

/** Fake DER-ish certificates: distinct, recognisable byte strings. */
export function fakeCerts(n: number, size = 300): Buffer[] {
  return Array.from({ length: n }, (_, i) => Buffer.concat([Buffer.of(0x30, 0x82), u16(size - 4), Buffer.alloc(size - 4, i + 1)]));
}

export interface Tls13Flight {
  bytes: Buffer;
  handshakeSecret: Buffer;
  applicationSecret: Buffer;
}

/**
 * A TLS 1.3 server's bytes: ServerHello, compatibility CCS, then EncryptedExtensions,
 * [CertificateRequest], Certificate, CertificateVerify, Finished under the handshake key
 * (split into records of `recordSize` bytes), then `after` under the application key.
 */
export function tls13Flight(o: {
  suite: number;
  certs: Buffer[];
  requestCert?: boolean;
  recordSize?: number;
  after?: { type: number; content: Buffer }[];
}): Tls13Flight {
  const handshakeSecret = randomBytes(secretLength(o.suite));
  const applicationSecret = randomBytes(secretLength(o.suite));
  const hs = new RecordEncrypter(o.suite, handshakeSecret);
  const app = new RecordEncrypter(o.suite, applicationSecret);
  const messages = Buffer.concat([
    handshake(8, u16(0)),
    ...(o.requestCert ? [handshake(13, Buffer.concat([Buffer.of(0), u16(0)]))] : []),
    certificate13(o.certs),
    handshake(15, Buffer.concat([u16(0x0804), u16(4), Buffer.alloc(4, 7)])),
    handshake(20, randomBytes(secretLength(o.suite))),
  ]);
  const size = o.recordSize ?? 16384;
  const encrypted: Buffer[] = [];
  for (let at = 0; at < messages.length; at += size) encrypted.push(hs.seal(22, messages.subarray(at, at + size), at === 0 ? 5 : 0));
  const bytes = Buffer.concat([
    record(22, serverHello({ version: 0x0304, suite: o.suite })),
    record(20, Buffer.of(1)),
    ...encrypted,
    ...(o.after ?? []).map((m) => app.seal(m.type, m.content)),
  ]);
  return { bytes, handshakeSecret, applicationSecret };
}

/** A TLS 1.2 server's first flight, optionally followed by an alert record. */
export function tls12Flight(o: { certs: Buffer[]; suite?: number; recordSize?: number; requestCert?: boolean; alert?: number }): Buffer {
  const messages = Buffer.concat([
    serverHello({ version: 0x0303, suite: o.suite ?? 0xc02f }),
    certificate12(o.certs),
    ...(o.requestCert ? [handshake(13, Buffer.concat([Buffer.of(1, 1), u16(0), u16(0)]))] : []),
    handshake(14, Buffer.alloc(0)),
  ]);
  const parts = [records(22, messages, o.recordSize)];
  if (o.alert !== undefined) parts.push(record(21, alert(2, o.alert)));
  return Buffer.concat(parts);
}
