import { MAX_CERTIFICATE_LIST_BYTES, MAX_CERTIFICATES, MAX_HANDSHAKE_BYTES, WireError } from './limits.js';

export const HS_SERVER_HELLO = 2;
export const HS_CERTIFICATE = 11;
export const HS_CERTIFICATE_REQUEST = 13;
export const HS_FINISHED = 20;

/** A Certificate message body: TLS 1.3 request context (1 + up to 255), list length (3), the list. */
const MAX_CERTIFICATE_MESSAGE_BYTES = MAX_CERTIFICATE_LIST_BYTES + 259;

export interface HandshakeMessage {
  type: number;
  body: Buffer;
}

/**
 * Reassembles handshake messages from record fragments: a message may span records and a
 * record may carry several messages. Refuses to hold more than `maxBytes` in total.
 */
export class HandshakeAssembler {
  // Fragments are kept as a list and joined only once a whole message is there, so a server
  // dripping a large message in tiny records costs linear, not quadratic, copying.
  private parts: Buffer[] = [];
  private pendingLength = 0;
  /** Bytes the message at the head of `parts` needs in total (header included); 0 = unknown yet. */
  private need = 0;
  private total = 0;
  /** Type of the message at the head of `parts` once its header has arrived; null otherwise. */
  private headType: number | null = null;

  constructor(private readonly maxBytes = MAX_HANDSHAKE_BYTES) {}

  push(fragment: Buffer): HandshakeMessage[] {
    this.total += fragment.length;
    if (this.total > this.maxBytes) {
      throw new WireError(`server sent more than ${this.maxBytes / 1024} KiB of handshake data before its certificate`);
    }
    this.parts.push(fragment);
    this.pendingLength += fragment.length;
    if (this.pendingLength < 4 || this.pendingLength < this.need) return [];

    const pending = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.pendingLength);
    const out: HandshakeMessage[] = [];
    let offset = 0;
    this.need = 0;
    this.headType = null;
    while (pending.length - offset >= 4) {
      const type = pending[offset]!;
      const length = pending.readUIntBE(offset + 1, 3);
      // Judged on the declared length, before the bytes arrive or anything is parsed.
      if (type === HS_CERTIFICATE && length > MAX_CERTIFICATE_MESSAGE_BYTES) {
        throw new WireError(`a certificate list of ${length} bytes, over the ${MAX_CERTIFICATE_LIST_BYTES / 1024} KiB accepted`, true);
      }
      if (length > this.maxBytes) throw new WireError(`handshake message of ${length} bytes exceeds the ${this.maxBytes / 1024} KiB limit`);
      if (pending.length - offset - 4 < length) {
        this.need = 4 + length;
        this.headType = type;
        break;
      }
      out.push({ type: pending[offset]!, body: pending.subarray(offset + 4, offset + 4 + length) });
      offset += 4 + length;
    }
    const rest = pending.subarray(offset);
    this.parts = rest.length === 0 ? [] : [rest];
    this.pendingLength = rest.length;
    return out;
  }

  /** True when a Certificate message has begun and awaits more bytes. */
  get certificatePending(): boolean {
    return this.headType === HS_CERTIFICATE;
  }
}

/** Bounds-checked reader over one message body. */
class Reader {
  offset = 0;
  constructor(
    private readonly buf: Buffer,
    private readonly what: string,
  ) {}

  private need(n: number): void {
    if (this.buf.length - this.offset < n) throw new WireError(`truncated ${this.what}`);
  }
  u8(): number {
    this.need(1);
    return this.buf[this.offset++]!;
  }
  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }
  u24(): number {
    this.need(3);
    const v = this.buf.readUIntBE(this.offset, 3);
    this.offset += 3;
    return v;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const v = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }
  get remaining(): number {
    return this.buf.length - this.offset;
  }
}

const HELLO_RETRY_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');
const EXT_SUPPORTED_VERSIONS = 43;

export interface ServerHello {
  /** Negotiated protocol, e.g. 0x0303 for TLS 1.2, 0x0304 for TLS 1.3 (from supported_versions). */
  version: number;
  cipherSuite: number;
  /** A HelloRetryRequest: the real ServerHello follows the client's second ClientHello. */
  helloRetry: boolean;
}

export function parseServerHello(body: Buffer): ServerHello {
  const r = new Reader(body, 'ServerHello');
  let version = r.u16();
  const random = r.bytes(32);
  const sessionIdLength = r.u8();
  if (sessionIdLength > 32) throw new WireError('ServerHello session id longer than 32 bytes');
  r.bytes(sessionIdLength);
  const cipherSuite = r.u16();
  r.u8(); // compression method
  if (r.remaining >= 2) {
    const extensions = new Reader(r.bytes(r.u16()), 'ServerHello extensions');
    while (extensions.remaining > 0) {
      const type = extensions.u16();
      const data = extensions.bytes(extensions.u16());
      if (type === EXT_SUPPORTED_VERSIONS && data.length === 2) version = data.readUInt16BE(0);
    }
  }
  return { version, cipherSuite, helloRetry: random.equals(HELLO_RETRY_RANDOM) };
}

/**
 * The certificate_list of a Certificate message, in the order sent. TLS 1.3 entries carry a
 * request context before the list and extensions after each certificate.
 * Each DER is copied so the result does not pin the whole capture in memory.
 */
export function parseCertificateMessage(body: Buffer, tls13: boolean, maxCertificates = MAX_CERTIFICATES): Buffer[] {
  const r = new Reader(body, 'Certificate message');
  if (tls13) r.bytes(r.u8());
  const listLength = r.u24();
  if (listLength !== r.remaining) throw new WireError('Certificate message length does not match its certificate list');
  if (listLength > MAX_CERTIFICATE_LIST_BYTES) {
    throw new WireError(`a certificate list of ${listLength} bytes, over the ${MAX_CERTIFICATE_LIST_BYTES / 1024} KiB accepted`, true);
  }
  const certificates: Buffer[] = [];
  while (r.remaining > 0) {
    if (certificates.length === maxCertificates) {
      throw new WireError(`more than ${maxCertificates} certificates`, true);
    }
    const length = r.u24();
    if (length === 0) throw new WireError('Certificate message holds an empty certificate');
    certificates.push(Buffer.from(r.bytes(length)));
    if (tls13) r.bytes(r.u16());
  }
  return certificates;
}
