// A tiny authoritative DNS server over UDP for the demo fleet and tests: answers A and AAAA
// from a map, NXDOMAIN for names it does not know. Not a general server: no TCP, no
// compression in questions, at most one question, answers capped at 512 bytes (TC set beyond).
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { ipBytes } from '../util/address.js';

export interface DnsServerOptions {
  /** Default 127.0.0.1; '::1' listens on IPv6. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** name → IPv4/IPv6 addresses. A name mapped to [] exists but has no records. */
  records: Record<string, string[]>;
}

export interface DnsServer {
  host: string;
  port: number;
  /** 'host:port' ('[v6]:port'), ready for dns.servers. */
  address: string;
  /** Queries answered so far (malformed ones included). */
  readonly queries: number;
  setRecords(records: Record<string, string[]>): void;
  close(): Promise<void>;
}

const TYPE_A = 1;
const TYPE_AAAA = 28;
const CLASS_IN = 1;
const CLASS_ANY = 255;
const RCODE = { noError: 0, formErr: 1, nxDomain: 3, notImp: 4, refused: 5 } as const;
const MAX_UDP = 512;

const canonical = (name: string): string => name.toLowerCase().replace(/\.$/, '');

type Zone = Map<string, Buffer[]>;

function buildZone(records: Record<string, string[]>): Zone {
  const zone: Zone = new Map();
  for (const [name, addresses] of Object.entries(records)) {
    zone.set(
      canonical(name),
      addresses.map((a) => {
        const bytes = ipBytes(a);
        if (!bytes) throw new Error(`dns-server: '${a}' (for ${name}) is not an IP address`);
        return bytes;
      }),
    );
  }
  return zone;
}

interface Question {
  name: string;
  type: number;
  klass: number;
  /** Offset just past the question, so it can be echoed verbatim. */
  end: number;
}

/** The single question of a query, or null when it is malformed. Bounded by the packet. */
export function parseQuestion(msg: Buffer): Question | null {
  if (msg.length < 12 || msg.readUInt16BE(4) !== 1) return null;
  const labels: string[] = [];
  let offset = 12;
  let nameLength = 0;
  for (;;) {
    if (offset >= msg.length) return null;
    const len = msg[offset]!;
    if (len === 0) {
      offset += 1;
      break;
    }
    // Compression pointers (and the reserved 01/10 label types) never appear in a question.
    if (len > 63 || offset + 1 + len > msg.length) return null;
    nameLength += len + 1;
    if (nameLength > 255) return null;
    labels.push(msg.toString('latin1', offset + 1, offset + 1 + len));
    offset += 1 + len;
  }
  if (offset + 4 > msg.length) return null;
  return { name: canonical(labels.join('.')), type: msg.readUInt16BE(offset), klass: msg.readUInt16BE(offset + 2), end: offset + 4 };
}

function header(id: number, queryFlags: number, rcode: number, qd: number, an: number, truncated = false): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  const opcode = queryFlags & 0x7800;
  const rd = queryFlags & 0x0100;
  h.writeUInt16BE(0x8000 | opcode | 0x0400 | (truncated ? 0x0200 : 0) | rd | rcode, 2);
  h.writeUInt16BE(qd, 4);
  h.writeUInt16BE(an, 6);
  return h;
}

function answer(type: number, rdata: Buffer): Buffer {
  const rr = Buffer.alloc(12 + rdata.length);
  rr.writeUInt16BE(0xc00c, 0); // the name of the question, by pointer
  rr.writeUInt16BE(type, 2);
  rr.writeUInt16BE(CLASS_IN, 4);
  rr.writeUInt32BE(0, 6); // TTL 0: resolvers must not cache, so setRecords takes effect at once
  rr.writeUInt16BE(rdata.length, 10);
  rdata.copy(rr, 12);
  return rr;
}

/** The response to one datagram, or null when it deserves none (too short, or not a query). */
export function respond(msg: Buffer, zone: Zone): Buffer | null {
  if (msg.length < 12) return null;
  const id = msg.readUInt16BE(0);
  const flags = msg.readUInt16BE(2);
  if (flags & 0x8000) return null; // a response: answering it could loop
  if ((flags & 0x7800) !== 0) return header(id, flags, RCODE.notImp, 0, 0);
  const q = parseQuestion(msg);
  if (!q) return header(id, flags, RCODE.formErr, 0, 0);
  const question = msg.subarray(12, q.end);
  if (q.klass !== CLASS_IN && q.klass !== CLASS_ANY) return Buffer.concat([header(id, flags, RCODE.refused, 1, 0), question]);
  const addresses = zone.get(q.name);
  if (!addresses) return Buffer.concat([header(id, flags, RCODE.nxDomain, 1, 0), question]);
  const wanted = q.type === TYPE_A ? 4 : q.type === TYPE_AAAA ? 16 : 0;
  const answers: Buffer[] = [];
  let size = 12 + question.length;
  let truncated = false;
  for (const a of addresses) {
    if (a.length !== wanted) continue;
    if (size + 12 + a.length > MAX_UDP) {
      truncated = true;
      break;
    }
    answers.push(answer(q.type, a));
    size += 12 + a.length;
  }
  return Buffer.concat([header(id, flags, RCODE.noError, 1, answers.length, truncated), question, ...answers]);
}

export async function startDnsServer(options: DnsServerOptions): Promise<DnsServer> {
  const host = options.host ?? '127.0.0.1';
  let zone = buildZone(options.records);
  let queries = 0;
  const socket: Socket = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
  socket.on('message', (msg: Buffer, peer: RemoteInfo) => {
    queries += 1;
    let reply: Buffer | null = null;
    try {
      reply = respond(msg, zone);
    } catch {
      reply = null; // never let one odd packet take the server down
    }
    if (reply) socket.send(reply, peer.port, peer.address, () => undefined);
  });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(options.port ?? 0, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const port = socket.address().port;
  return {
    host,
    port,
    address: isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`,
    get queries() {
      return queries;
    },
    setRecords(records) {
      zone = buildZone(records);
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
