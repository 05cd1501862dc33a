import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import { type DnsServer, startDnsServer } from '../../src/demo/dns-server.js';
import { createResolver, DnsError } from '../../src/targets/resolver.js';

async function udpSocket(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  return s;
}

describe('resolver with dns.servers', () => {
  let dns: DnsServer;
  before(async () => {
    dns = await startDnsServer({
      records: {
        'pool01.contoso.test': ['127.0.0.4', '127.0.0.2', '::1', 'fd00::2', '127.0.0.3'],
        'v6only.contoso.test': ['::1'],
        'empty.contoso.test': [],
      },
    });
  });
  after(() => dns.close());

  test('all: every A and AAAA record, IPv6 included, through a server on a non-standard port', async () => {
    assert.match(dns.address, /:\d+$/);
    const r = createResolver({ servers: [dns.address] }, 3000);
    const all = await r.lookup('pool01.contoso.test', 'all');
    assert.deepEqual([...all].sort(), ['127.0.0.2', '127.0.0.3', '127.0.0.4', '::1', 'fd00::2']);
  });

  test('first: one address, IPv4 preferred, IPv6 when that is all there is', async () => {
    const r = createResolver({ servers: [dns.address] }, 3000);
    assert.deepEqual(await r.lookup('pool01.contoso.test', 'first'), ['127.0.0.4']);
    assert.deepEqual(await r.lookup('v6only.contoso.test', 'first'), ['::1']);
  });

  test('NXDOMAIN and a name without records are dns errors that say which', async () => {
    const r = createResolver({ servers: [dns.address] }, 3000);
    await assert.rejects(r.lookup('nope.contoso.test', 'all'), (err: unknown) => {
      assert.ok(err instanceof DnsError);
      assert.equal(err.kind, 'dns');
      assert.equal(err.message, `cannot resolve nope.contoso.test: the name does not exist (NXDOMAIN from ${dns.address}); check the name or the DNS zone`);
      return true;
    });
    await assert.rejects(r.lookup('empty.contoso.test', 'first'), {
      kind: 'dns',
      message: `cannot resolve empty.contoso.test: the name exists but has no A or AAAA records (${dns.address})`,
    });
  });

  test('a closed DNS port is reported as unreachable', async () => {
    const s = await udpSocket();
    const port = s.address().port;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    const r = createResolver({ servers: [`127.0.0.1:${port}`] }, 3000);
    await assert.rejects(r.lookup('pool01.contoso.test', 'all'), {
      kind: 'dns',
      message: /^cannot resolve pool01\.contoso\.test: DNS server 127\.0\.0\.1:\d+ is unreachable \(connection refused\); check dns\.servers$/,
    });
  });

  test('a DNS server that never answers costs one timeout, not more', async () => {
    const silent = await udpSocket(); // bound, reads nothing, answers nothing
    try {
      const r = createResolver({ servers: [`127.0.0.1:${silent.address().port}`] }, 800);
      const started = Date.now();
      await assert.rejects(r.lookup('pool01.contoso.test', 'all'), {
        kind: 'dns',
        message: /^cannot resolve pool01\.contoso\.test: DNS server 127\.0\.0\.1:\d+ did not answer/,
      });
      const took = Date.now() - started;
      assert.ok(took >= 700, `gave up after ${took}ms, before the deadline`);
      assert.ok(took < 5000, `took ${took}ms for an 800ms timeout`);
    } finally {
      silent.close();
    }
  });

  test('a server on IPv6 loopback ([::1]:port)', async () => {
    const v6 = await startDnsServer({ host: '::1', records: { 'edge.contoso.test': ['127.0.0.8', 'fd00::8'] } });
    try {
      const r = createResolver({ servers: [v6.address] }, 3000);
      assert.deepEqual(await r.lookup('edge.contoso.test', 'all'), ['127.0.0.8', 'fd00::8']);
    } finally {
      await v6.close();
    }
  });
});

test('system resolver: honours the hosts file (localhost), IP literals pass through', async () => {
  const r = createResolver({ servers: [] }, 3000);
  const local = await r.lookup('localhost', 'all');
  assert.ok(local.length > 0 && local.every((a) => a === '127.0.0.1' || a === '::1'), `localhost → ${local.join(', ')}`);
  assert.deepEqual(await r.lookup('127.0.0.6', 'first'), ['127.0.0.6']);
});
