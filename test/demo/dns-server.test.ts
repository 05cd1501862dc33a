import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { promises as dnsPromises } from 'node:dns';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { type DnsServer, parseQuestion, startDnsServer } from '../../src/demo/dns-server.js';

const run = promisify(execFile);

/** A DNS query packet for one question. */
function query(name: string, type: number, id = 0x1234, flags = 0x0100): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')]));
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(flags, 2);
  head.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(1, 2);
  return Buffer.concat([head, ...labels, Buffer.from([0]), tail]);
}

interface Reply {
  id: number;
  rcode: number;
  truncated: boolean;
  authoritative: boolean;
  answers: number;
}

function parseReply(msg: Buffer): Reply {
  const flags = msg.readUInt16BE(2);
  return {
    id: msg.readUInt16BE(0),
    rcode: flags & 0xf,
    truncated: (flags & 0x0200) !== 0,
    authoritative: (flags & 0x0400) !== 0,
    answers: msg.readUInt16BE(6),
  };
}

/** Sends one datagram and waits for the reply, or resolves null after `waitMs` of silence. */
async function exchange(client: Socket, server: DnsServer, packet: Buffer, waitMs = 300): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      client.off('message', onMessage);
      resolve(null);
    }, waitMs);
    const onMessage = (msg: Buffer): void => {
      clearTimeout(timer);
      client.off('message', onMessage);
      resolve(msg);
    };
    client.on('message', onMessage);
    client.send(packet, server.port, server.host);
  });
}

describe('loopback DNS server', () => {
  let server: DnsServer;
  let client: Socket;
  const resolver = new dnsPromises.Resolver({ timeout: 2000, tries: 2 });

  before(async () => {
    server = await startDnsServer({
      records: {
        'pool01.contoso.test': ['127.0.0.3', '127.0.0.2', '::1', 'fd00::2'],
        'v4only.contoso.test.': ['127.0.0.5'],
        'empty.contoso.test': [],
        'big.contoso.test': Array.from({ length: 40 }, (_, i) => `fd00::${(i + 1).toString(16)}`),
      },
    });
    resolver.setServers([server.address]);
    client = createSocket('udp4');
    await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', () => resolve()));
  });
  after(async () => {
    client.close();
    await server.close();
  });

  test('answers A and AAAA from the map, names case-insensitive, trailing dot or not', async () => {
    assert.match(server.address, /^127\.0\.0\.1:\d+$/);
    assert.deepEqual(await resolver.resolve4('pool01.contoso.test'), ['127.0.0.3', '127.0.0.2']);
    assert.deepEqual(await resolver.resolve6('POOL01.Contoso.TEST'), ['::1', 'fd00::2']);
    assert.deepEqual(await resolver.resolve4('v4only.contoso.test'), ['127.0.0.5']);
  });

  test('NXDOMAIN for unknown names, NODATA for a name without records of the type', async () => {
    await assert.rejects(resolver.resolve4('nope.contoso.test'), { code: 'ENOTFOUND' });
    await assert.rejects(resolver.resolve6('v4only.contoso.test'), { code: 'ENODATA' });
    await assert.rejects(resolver.resolve4('empty.contoso.test'), { code: 'ENODATA' });
    const nx = parseReply((await exchange(client, server, query('nope.contoso.test', 1, 0xbeef)))!);
    assert.deepEqual(nx, { id: 0xbeef, rcode: 3, truncated: false, authoritative: true, answers: 0 });
  });

  test('dig sees the same answers', async () => {
    const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(server.port), '+short', '+tries=2', '+time=2', 'pool01.contoso.test', 'A']);
    assert.deepEqual(stdout.trim().split('\n'), ['127.0.0.3', '127.0.0.2']);
    const nx = await run('dig', ['@127.0.0.1', '-p', String(server.port), '+tries=2', '+time=2', 'nope.contoso.test', 'AAAA']);
    assert.match(nx.stdout, /status: NXDOMAIN/);
  });

  test('setRecords takes effect at once (TTL 0, nothing cached)', async () => {
    server.setRecords({ 'pool01.contoso.test': ['127.0.0.9'] });
    assert.deepEqual(await resolver.resolve4('pool01.contoso.test'), ['127.0.0.9']);
    await assert.rejects(resolver.resolve4('v4only.contoso.test'), { code: 'ENOTFOUND' });
    assert.throws(() => server.setRecords({ x: ['not-an-ip'] }), /not an IP address/);
    server.setRecords({
      'pool01.contoso.test': ['127.0.0.3', '127.0.0.2', '::1', 'fd00::2'],
      'big.contoso.test': Array.from({ length: 40 }, (_, i) => `fd00::${(i + 1).toString(16)}`),
    });
  });

  test('an answer too large for 512 bytes is truncated with TC set', async () => {
    const reply = parseReply((await exchange(client, server, query('big.contoso.test', 28)))!);
    assert.equal(reply.truncated, true);
    assert.ok(reply.answers > 0 && reply.answers < 40, `answers: ${reply.answers}`);
  });

  test('malformed queries get FORMERR or silence, never a crash', async () => {
    const ok = query('pool01.contoso.test', 1);
    const pointer = Buffer.from(ok);
    pointer[12] = 0xc0; // compression pointer in the question
    const overlong = Buffer.from(ok);
    overlong[12] = 200; // label longer than the packet
    const twoQuestions = Buffer.from(ok);
    twoQuestions.writeUInt16BE(2, 4);
    const cut = ok.subarray(0, ok.length - 3);
    const response = query('pool01.contoso.test', 1, 1, 0x8100);
    const opcode = query('pool01.contoso.test', 1, 1, 0x2900);

    assert.equal(await exchange(client, server, Buffer.from([1, 2, 3])), null, 'a runt packet gets no answer');
    assert.equal(await exchange(client, server, response), null, 'a response is never answered');
    for (const bad of [pointer, overlong, twoQuestions, cut]) {
      const reply = await exchange(client, server, bad);
      assert.ok(reply, 'a malformed query gets an answer');
      assert.equal(parseReply(reply).rcode, 1, 'FORMERR');
    }
    assert.equal(parseReply((await exchange(client, server, opcode))!).rcode, 4, 'NOTIMP for other opcodes');
    assert.deepEqual(await resolver.resolve4('pool01.contoso.test'), ['127.0.0.3', '127.0.0.2']);
  });

  test('random and mutated packets do not take it down', async () => {
    let seed = 42;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const base = query('pool01.contoso.test', 28);
    const before = server.queries;
    const send = (packet: Buffer): Promise<void> => new Promise((resolve) => client.send(packet, server.port, server.host, () => resolve()));
    // Batches, so the kernel never has reason to drop datagrams and every one is counted.
    for (let batch = 0; batch < 30; batch++) {
      for (let i = 0; i < 20; i++) {
        const packet = i % 2 === 0 ? Buffer.from(Array.from({ length: 1 + rand(600) }, () => rand(256))) : Buffer.from(base);
        if (i % 2 === 1) for (let k = 0; k < 1 + rand(4); k++) packet[rand(packet.length)] = rand(256);
        await send(packet);
      }
      const want = before + (batch + 1) * 20;
      for (let waited = 0; server.queries < want && waited < 5000; waited += 10) await new Promise((r) => setTimeout(r, 10));
      assert.equal(server.queries, want, 'every datagram reached the server');
    }
    // Still serving afterwards.
    assert.deepEqual(await resolver.resolve6('pool01.contoso.test'), ['::1', 'fd00::2']);
  });

  test('the question parser is bounded: random and mutated input never throws', () => {
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const base = query('pool01.contoso.test', 1);
    const parsed = parseQuestion(base);
    assert.deepEqual(parsed, { name: 'pool01.contoso.test', type: 1, klass: 1, end: base.length });
    for (let i = 0; i < 20_000; i++) {
      const packet = i % 2 === 0 ? Buffer.from(Array.from({ length: rand(300) }, () => rand(256))) : Buffer.from(base);
      if (i % 2 === 1) for (let k = 0; k < 1 + rand(3); k++) packet[rand(packet.length)] = rand(256);
      const q = parseQuestion(packet);
      if (q) assert.ok(q.end <= packet.length && q.name.length <= 255);
    }
  });

  test('listens on IPv6 loopback when asked', async () => {
    const v6 = await startDnsServer({ host: '::1', records: { 'a.test': ['127.0.0.7'] } });
    try {
      assert.match(v6.address, /^\[::1\]:\d+$/);
      const r = new dnsPromises.Resolver({ timeout: 2000, tries: 2 });
      r.setServers([v6.address]);
      assert.deepEqual(await r.resolve4('a.test'), ['127.0.0.7']);
    } finally {
      await v6.close();
    }
  });
});
