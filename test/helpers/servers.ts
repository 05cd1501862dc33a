// Loopback servers for the broken and hostile kinds of endpoint a probe meets in the field:
// black holes, clear-text services, garbage, raw TLS 1.2 flights no real TLS stack would send.
import { randomBytes } from 'node:crypto';
import { listen, type Listen, type ServedEndpoint } from '../../src/demo/servers.js';

const DEFAULT_HOST = '127.0.0.1';

/** Accepts TCP connections, never sends a byte, never closes them. */
export function serveBlackHole(o: Listen = {}): Promise<ServedEndpoint> {
  return listen(o, (socket) => {
    socket.resume();
  });
}

export interface PlainTextOptions extends Listen {
  /** What the service says; default an HTTP 400 response. */
  banner?: string;
  /** Speak first, as SMTP does, instead of answering the client's first bytes as HTTP does. */
  greetFirst?: boolean;
}

const HTTP_BANNER =
  'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 36\r\nConnection: close\r\n\r\n' +
  'This port speaks plain HTTP, not TLS';

/** A clear-text service: answers (or greets) with `banner`, then closes after the client speaks. */
export function servePlainText(o: PlainTextOptions = {}): Promise<ServedEndpoint> {
  const banner = o.banner ?? HTTP_BANNER;
  return listen(o, (socket) => {
    if (o.greetFirst) socket.write(banner);
    socket.once('data', () => socket.end(o.greetFirst ? '' : banner));
    socket.on('end', () => socket.end());
  });
}

export interface GarbageOptions extends Listen {
  /** Default 512 random bytes whose first byte is not a TLS record type. */
  bytes?: Buffer;
}

/** Answers the client's first bytes with garbage, then closes. */
export function serveGarbage(o: GarbageOptions = {}): Promise<ServedEndpoint> {
  return listen(o, (socket) => {
    socket.once('data', () => {
      let bytes = o.bytes;
      if (!bytes) {
        bytes = randomBytes(512);
        bytes[0] = 0x8f;
      }
      socket.end(bytes);
    });
    socket.on('end', () => socket.end());
  });
}

export interface RawTls12FlightOptions extends Listen {
  /** Raw bytes per Certificate entry; need not be valid DER. */
  certificates: Buffer[];
  /** How long to keep the connection open after the flight; default 500 ms. */
  closeAfterMs?: number;
}

const RECORD_HANDSHAKE = 0x16;
const MAX_RECORD = 16384;
const MAX_CLIENT_HELLO = 64 * 1024;
// Suites this fake server may claim, best first; a real client aborts at ServerHello if it did
// not offer the one chosen. ECDHE-RSA-AES128-GCM-SHA256 is what old Windows servers pick.
const SUITES = [0xc02f, 0xc030, 0xc02b, 0xc02c, 0x009c];

/**
 * A fake TLS 1.2 server for certificate lists real stacks refuse to serve (unparsable entries,
 * 100+ certificates): reads the ClientHello, answers ServerHello, Certificate with exactly
 * `certificates`, ServerHelloDone in clear text, and closes a little later.
 */
export async function serveRawTls12Flight(o: RawTls12FlightOptions): Promise<ServedEndpoint> {
  const closeAfterMs = o.closeAfterMs ?? 500;
  const list = Buffer.concat(o.certificates.flatMap((c) => [uint24(c.length), c]));
  if (list.length + 3 > 0xffffff) throw new Error('certificate list exceeds the 16 MiB a TLS handshake message can carry');
  const certificate = handshake(0x0b, Buffer.concat([uint24(list.length), list]));
  return await listen(o, (socket) => {
    let received = Buffer.alloc(0);
    let answered = false;
    const onData = (chunk: Buffer): void => {
      if (answered) return;
      received = Buffer.concat([received, chunk]);
      if (received[0] !== RECORD_HANDSHAKE || received.length > MAX_CLIENT_HELLO) {
        answered = true;
        socket.destroy();
        return;
      }
      if (received.length < 5 || received.length < 5 + received.readUInt16BE(3)) return;
      answered = true;
      socket.write(tls12Flight(offeredSuites(received), certificate));
      const timer = setTimeout(() => socket.end(), closeAfterMs);
      socket.once('close', () => clearTimeout(timer));
    };
    socket.on('data', onData);
    socket.on('end', () => socket.end());
  });
}

/** Cipher suites from a ClientHello record; empty when it cannot be read. */
function offeredSuites(record: Buffer): number[] {
  // record header 5, handshake header 4, client_version 2, random 32, then session id.
  let at = 5 + 4 + 2 + 32;
  if (record[5] !== 0x01 || record.length < at + 1) return [];
  at += 1 + record[at]!;
  if (record.length < at + 2) return [];
  const length = record.readUInt16BE(at);
  at += 2;
  if (record.length < at + length) return [];
  const suites: number[] = [];
  for (let i = 0; i + 1 < length; i += 2) suites.push(record.readUInt16BE(at + i));
  return suites;
}

function handshake(type: number, body: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header[0] = type;
  header.writeUIntBE(body.length, 1, 3);
  return Buffer.concat([header, body]);
}

function uint24(n: number): Buffer {
  if (n > 0xffffff) throw new Error(`${n} bytes do not fit a TLS 24-bit length`);
  const b = Buffer.alloc(3);
  b.writeUIntBE(n, 0, 3);
  return b;
}

function tls12Flight(offered: number[], certificate: Buffer): Buffer {
  const suite = SUITES.find((s) => offered.includes(s)) ?? SUITES[0]!;
  const suiteBytes = Buffer.alloc(2);
  suiteBytes.writeUInt16BE(suite);
  const serverHello = Buffer.concat([
    Buffer.from([0x03, 0x03]),
    randomBytes(32),
    Buffer.from([0x00]), // no session id: nothing to resume
    suiteBytes,
    Buffer.from([0x00]), // null compression
    // renegotiation_info (RFC 5746), empty: OpenSSL 3 clients refuse servers without it.
    Buffer.from([0x00, 0x05, 0xff, 0x01, 0x00, 0x01, 0x00]),
  ]);
  const messages = Buffer.concat([
    handshake(0x02, serverHello),
    certificate,
    handshake(0x0e, Buffer.alloc(0)),
  ]);
  const records: Buffer[] = [];
  for (let at = 0; at < messages.length; at += MAX_RECORD) {
    const fragment = messages.subarray(at, at + MAX_RECORD);
    const header = Buffer.from([RECORD_HANDSHAKE, 0x03, 0x03, 0, 0]);
    header.writeUInt16BE(fragment.length, 3);
    records.push(header, fragment);
  }
  return Buffer.concat(records);
}

/** A loopback port on which nothing listens: bound, read, released. */
export async function closedPort(host: string = DEFAULT_HOST): Promise<{ host: string; port: number }> {
  const endpoint = await listen({ host, port: 0 }, () => undefined);
  await endpoint.close();
  return { host, port: endpoint.port };
}
