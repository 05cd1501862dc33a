// Loopback servers for the broken and hostile kinds of endpoint a probe meets in the field:
// black holes, clear-text services, garbage, raw TLS 1.2 flights no real TLS stack would send,
// floods, dribbles, resets, TLS 1.0/1.1-only servers and a DNS server that never answers; and
// listeners that log the order in which connections came.
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:net';
import { createSecureContext, TLSSocket } from 'node:tls';
import { type Listen, listen, type ServedEndpoint } from '../../src/demo/servers.js';

const DEFAULT_HOST = '127.0.0.1';

/** Accepts TCP connections, never sends a byte, never closes them. */
export function serveBlackHole(o: Listen = {}): Promise<ServedEndpoint> {
  return listen(o, (socket) => {
    socket.resume();
  });
}

/**
 * Writes `name` to `log` at the first connection it accepts (a probe may connect twice), so that
 * a test sees in which order endpoints were started; then stays silent (a black hole) or closes
 * each connection at once.
 */
export function serveAcceptLog(name: string, log: string[], o: { silent: boolean }): Promise<ServedEndpoint> {
  return listen({}, (socket) => {
    if (!log.includes(name)) log.push(name);
    if (o.silent) socket.resume();
    else socket.destroy();
  });
}

export interface PlainTextOptions extends Listen {
  /** What the service says; default an HTTP 400 response. */
  banner?: string;
  /** Speak first, as SMTP does, instead of answering the client's first bytes as HTTP does. */
  greetFirst?: boolean;
}

const HTTP_BANNER =
  'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 36\r\nConnection: close\r\n\r\n' + 'This port speaks plain HTTP, not TLS';

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
  return afterClientHello(o, (socket, offered) => {
    socket.write(tls12Flight(offered, certificate));
    const timer = setTimeout(() => socket.end(), closeAfterMs);
    socket.once('close', () => clearTimeout(timer));
  });
}

/** Reads the client's first record (its ClientHello), then hands over with the suites it offered. */
function afterClientHello(o: Listen, answer: (socket: Socket, offered: number[]) => void): Promise<ServedEndpoint> {
  return listen(o, (socket) => {
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
      answer(socket, offeredSuites(received));
    };
    socket.on('data', onData);
    socket.on('end', () => socket.end());
  });
}

/** A valid ServerHello, then random bytes. */
export function serveHelloThenGarbage(o: Listen = {}): Promise<ServedEndpoint> {
  return afterClientHello(o, (socket, offered) => {
    socket.write(Buffer.concat([records(serverHello(offered)), randomBytes(2048)]));
  });
}

/** A valid ServerHello, then a TCP reset. */
export function serveResetAfterHello(o: Listen = {}): Promise<ServedEndpoint> {
  return afterClientHello(o, (socket, offered) => {
    socket.write(records(serverHello(offered)));
    // Inside the write callback Node closes with a FIN; a moment later it is a real RST.
    const timer = setTimeout(() => socket.resetAndDestroy(), 50);
    socket.once('close', () => clearTimeout(timer));
  });
}

export interface FloodServer extends ServedEndpoint {
  /** Bytes the kernel accepted from this server so far, over all connections. */
  written(): number;
}

/**
 * Answers the ClientHello with HelloRequest records (which a client must ignore during a
 * handshake) for as long as the client keeps reading.
 */
export async function serveHelloRequestFlood(o: Listen = {}): Promise<FloodServer> {
  let written = 0;
  const chunk = records(Buffer.alloc(4 * 4096)); // 4096 empty HelloRequest messages
  const served = await afterClientHello(o, (socket) => {
    const pump = (): void => {
      while (!socket.destroyed && socket.write(chunk)) written += chunk.length;
      if (!socket.destroyed) written += chunk.length;
    };
    socket.on('drain', pump);
    pump();
  });
  return { ...served, written: () => written };
}

/** The whole TLS 1.2 flight (ServerHello, Certificate, ServerHelloDone), one byte every `everyMs`. */
export function serveDribble(o: Listen & { certificates: Buffer[]; everyMs?: number }): Promise<ServedEndpoint> {
  const list = Buffer.concat(o.certificates.flatMap((c) => [uint24(c.length), c]));
  const certificate = handshake(0x0b, Buffer.concat([uint24(list.length), list]));
  return afterClientHello(o, (socket, offered) => {
    const flight = tls12Flight(offered, certificate);
    let at = 0;
    const timer = setInterval(() => {
      if (socket.destroyed || at >= flight.length) return clearInterval(timer);
      socket.write(flight.subarray(at, ++at));
    }, o.everyMs ?? 1000);
    socket.once('close', () => clearInterval(timer));
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

function serverHello(offered: number[]): Buffer {
  const suite = SUITES.find((s) => offered.includes(s)) ?? SUITES[0]!;
  const suiteBytes = Buffer.alloc(2);
  suiteBytes.writeUInt16BE(suite);
  return handshake(
    0x02,
    Buffer.concat([
      Buffer.from([0x03, 0x03]),
      randomBytes(32),
      Buffer.from([0x00]), // no session id: nothing to resume
      suiteBytes,
      Buffer.from([0x00]), // null compression
      // renegotiation_info (RFC 5746), empty: OpenSSL 3 clients refuse servers without it.
      Buffer.from([0x00, 0x05, 0xff, 0x01, 0x00, 0x01, 0x00]),
    ]),
  );
}

/** Handshake messages as TLS 1.2 handshake records of at most 16 KiB each. */
function records(messages: Buffer): Buffer {
  const out: Buffer[] = [];
  for (let at = 0; at < messages.length; at += MAX_RECORD) {
    const fragment = messages.subarray(at, at + MAX_RECORD);
    const header = Buffer.from([RECORD_HANDSHAKE, 0x03, 0x03, 0, 0]);
    header.writeUInt16BE(fragment.length, 3);
    out.push(header, fragment);
  }
  return Buffer.concat(out);
}

function tls12Flight(offered: number[], certificate: Buffer): Buffer {
  return records(Buffer.concat([serverHello(offered), certificate, handshake(0x0e, Buffer.alloc(0))]));
}

/** A loopback port on which nothing listens: bound, read, released. */
export async function closedPort(host: string = DEFAULT_HOST): Promise<{ host: string; port: number }> {
  const endpoint = await listen({ host, port: 0 }, () => undefined);
  await endpoint.close();
  return { host, port: endpoint.port };
}

/** A TLS server that speaks only `version` (TLS 1.0 or 1.1), presenting `chain` (PEMs). */
export function serveOldTls(o: Listen & { key: string; chain: string[]; version: 'TLSv1' | 'TLSv1.1' }): Promise<ServedEndpoint> {
  const secureContext = createSecureContext({
    key: o.key,
    cert: o.chain.join('\n'),
    minVersion: o.version,
    maxVersion: o.version,
    ciphers: 'DEFAULT:@SECLEVEL=0',
  });
  return listen(o, (socket, track) => {
    const tls = new TLSSocket(socket, { isServer: true, secureContext });
    track(tls);
    tls.on('error', () => tls.destroy());
    tls.resume();
  });
}

export interface SilentDns {
  /** host:port to put in dns.servers. */
  server: string;
  close(): Promise<void>;
}

/** A UDP port that takes DNS queries and never answers. */
export async function silentDnsServer(host = DEFAULT_HOST): Promise<SilentDns> {
  const socket = createSocket('udp4');
  socket.on('message', () => undefined);
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  return { server: `${host}:${socket.address().port}`, close: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
}
