import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import type { TargetConfig } from '../../src/config/types.js';
import { type DnsServer, startDnsServer } from '../../src/demo/dns-server.js';
import { expandTargets } from '../../src/targets/expand.js';
import { createResolver, DnsError, type Resolver } from '../../src/targets/resolver.js';

async function targetsOf(yaml: string): Promise<TargetConfig[]> {
  return (await parseConfig(yaml, join('/srv/chainwatch', 'chainwatch.yaml'))).targets;
}

/** A resolver from a table, counting how often each name is asked for. */
function tableResolver(table: Record<string, string[]>): Resolver & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async lookup(host, mode) {
      calls.push(`${mode} ${host}`);
      const found = table[host];
      if (!found) throw new DnsError(`cannot resolve ${host}: the name does not exist (test)`);
      return mode === 'first' ? found.slice(0, 1) : found;
    },
  };
}

describe('expandTargets', () => {
  test('url, address, IP literal and resolve: first each give one endpoint keyed by name', async () => {
    const targets = await targetsOf(
      [
        'targets:',
        '  - {name: pchat, group: pchat-web, url: "https://pool01.contoso.test/PersistentChat/MGCWebService.asmx", role: pchat-web, labels: {site: dublin}}',
        '  - {name: edge, group: lync, host: edge01-int.contoso.test, port: 5061, address: 10.1.20.5}',
        '  - {name: by-ip, group: lync, host: "2001:db8::7", port: 5061}',
        '  - {name: by-ip-sni, group: lync, host: 10.1.2.3, sni: pool01.contoso.test}',
        '  - {name: sip, group: lync, host: pool01.contoso.test, port: 5061}',
      ].join('\n'),
    );
    const resolver = tableResolver({ 'pool01.contoso.test': ['10.0.0.2', '10.0.0.1'] });
    const endpoints = await expandTargets(targets, resolver);
    assert.deepEqual(endpoints, [
      {
        key: 'pchat',
        target: 'pchat',
        group: 'pchat-web',
        role: 'pchat-web',
        labels: { site: 'dublin' },
        host: 'pool01.contoso.test',
        port: 443,
        address: '10.0.0.2',
        sni: 'pool01.contoso.test',
        url: 'https://pool01.contoso.test/PersistentChat/MGCWebService.asmx',
        clientCert: null,
        starttls: null,
        resolveError: null,
      },
      {
        key: 'edge',
        target: 'edge',
        group: 'lync',
        role: null,
        labels: {},
        host: 'edge01-int.contoso.test',
        port: 5061,
        address: '10.1.20.5',
        sni: 'edge01-int.contoso.test',
        url: null,
        clientCert: null,
        starttls: null,
        resolveError: null,
      },
      {
        key: 'by-ip',
        target: 'by-ip',
        group: 'lync',
        role: null,
        labels: {},
        host: '2001:db8::7',
        port: 5061,
        address: '2001:db8::7',
        sni: null,
        url: null,
        clientCert: null,
        starttls: null,
        resolveError: null,
      },
      {
        key: 'by-ip-sni',
        target: 'by-ip-sni',
        group: 'lync',
        role: null,
        labels: {},
        host: '10.1.2.3',
        port: 443,
        address: '10.1.2.3',
        sni: 'pool01.contoso.test',
        url: null,
        clientCert: null,
        starttls: null,
        resolveError: null,
      },
      {
        key: 'sip',
        target: 'sip',
        group: 'lync',
        role: null,
        labels: {},
        host: 'pool01.contoso.test',
        port: 5061,
        address: '10.0.0.2',
        sni: 'pool01.contoso.test',
        url: null,
        clientCert: null,
        starttls: null,
        resolveError: null,
      },
    ]);
    // address and IP literals are never looked up; the pool name once, though two targets use it.
    assert.deepEqual(resolver.calls, ['first pool01.contoso.test']);
  });

  test('resolve: all gives one endpoint per distinct address, sorted, keyed name@address', async () => {
    const targets = await targetsOf('targets:\n  - {name: pool01-sip, group: lync, host: pool01.contoso.test, port: 5061, resolve: all}\n');
    const resolver = tableResolver({ 'pool01.contoso.test': ['fd00::10', '10.0.0.10', '10.0.0.9', 'fd00::0010', 'fd00::9'] });
    const endpoints = await expandTargets(targets, resolver);
    assert.deepEqual(
      endpoints.map((e) => [e.key, e.address, e.sni, e.host]),
      [
        ['pool01-sip@10.0.0.9', '10.0.0.9', 'pool01.contoso.test', 'pool01.contoso.test'],
        ['pool01-sip@10.0.0.10', '10.0.0.10', 'pool01.contoso.test', 'pool01.contoso.test'],
        ['pool01-sip@fd00::9', 'fd00::9', 'pool01.contoso.test', 'pool01.contoso.test'],
        ['pool01-sip@fd00::10', 'fd00::10', 'pool01.contoso.test', 'pool01.contoso.test'],
      ],
    );
  });

  test('a DNS failure is one endpoint without an address, carrying the dns error', async () => {
    const targets = await targetsOf(
      'targets:\n  - {name: gone, group: g, host: gone.contoso.test, resolve: all}\n  - {name: ok, group: g, host: ok.contoso.test}\n',
    );
    const throwsPlain: Resolver = {
      async lookup(host) {
        if (host === 'ok.contoso.test') return ['10.0.0.1'];
        throw new Error('socket hang up');
      },
    };
    const endpoints = await expandTargets(targets, throwsPlain);
    assert.deepEqual(
      endpoints.map((e) => [e.key, e.address, e.resolveError]),
      [
        ['gone', null, { kind: 'dns', message: 'cannot resolve gone.contoso.test: socket hang up' }],
        ['ok', '10.0.0.1', null],
      ],
    );
  });

  test('lookups are bounded in flight, and every target still gets its answer', async () => {
    const targets: TargetConfig[] = Array.from({ length: 200 }, (_, i) => ({
      name: `t${i}`,
      group: 'g',
      host: `h${i}.contoso.test`,
      port: 443,
      address: null,
      resolve: 'first',
      sni: `h${i}.contoso.test`,
      role: null,
      labels: {},
      url: null,
      clientCert: null,
      starttls: null,
    }));
    let inFlight = 0;
    let peak = 0;
    const slow: Resolver = {
      async lookup(host) {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setImmediate(r));
        inFlight -= 1;
        return [`10.0.${Number(host.slice(1, host.indexOf('.'))) >> 8}.${Number(host.slice(1, host.indexOf('.'))) & 255}`];
      },
    };
    const endpoints = await expandTargets(targets, slow);
    assert.equal(peak, 32);
    assert.deepEqual(
      endpoints.map((e) => e.address),
      targets.map((_, i) => `10.0.${i >> 8}.${i & 255}`),
    );
  });

  test('client certificates travel with the endpoint', async () => {
    const t: TargetConfig = {
      name: 'mcu',
      group: 'g',
      host: '127.0.0.1',
      port: 444,
      address: null,
      resolve: 'first',
      sni: null,
      role: null,
      labels: {},
      url: null,
      clientCert: { certFile: '/c.pem', keyFile: '/k.pem', cert: 'CERT', key: 'KEY' },
      starttls: null,
    };
    const [e] = await expandTargets([t], tableResolver({}));
    assert.deepEqual(e!.clientCert, { cert: 'CERT', key: 'KEY' });
  });
});

describe('expandTargets against the loopback DNS server', () => {
  let dns: DnsServer;
  before(async () => {
    dns = await startDnsServer({ records: { 'pool01.contoso.test': ['127.0.0.3', '::1', '127.0.0.2', 'fd00::2'] } });
  });
  after(() => dns.close());

  test('resolve: all through dns.servers with a port: one endpoint per A and AAAA record; NXDOMAIN → dns error', async () => {
    const config = await parseConfig(
      `dns:\n  servers: ["${dns.address}"]\ntargets:\n  - {name: pool01-sip, group: lync, host: pool01.contoso.test, port: 5061, resolve: all}\n  - {name: typo, group: lync, host: pool1.contoso.test, port: 5061}\n`,
      join('/srv/chainwatch', 'chainwatch.yaml'),
    );
    const endpoints = await expandTargets(config.targets, createResolver(config.dns, config.scan.timeoutMs));
    assert.deepEqual(
      endpoints.map((e) => [e.key, e.address]),
      [
        ['pool01-sip@127.0.0.2', '127.0.0.2'],
        ['pool01-sip@127.0.0.3', '127.0.0.3'],
        ['pool01-sip@::1', '::1'],
        ['pool01-sip@fd00::2', 'fd00::2'],
        ['typo', null],
      ],
    );
    assert.deepEqual(endpoints[4]!.resolveError, {
      kind: 'dns',
      message: `cannot resolve pool1.contoso.test: the name does not exist (NXDOMAIN from ${dns.address}); check the name or the DNS zone`,
    });
  });
});
