import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig, MAX_CONFIG_BYTES, parseConfig } from '../../src/config/load.js';
import { ONE_TARGET, scratch } from './support.js';

const EXAMPLE = readFileSync(new URL('../../config/example.yaml', import.meta.url), 'utf8');

describe('loadConfig', () => {
  const s = scratch();
  after(() => s.cleanup());

  test('defaults are exactly those documented', async () => {
    const file = s.write('minimal/chainwatch.yaml', ONE_TARGET);
    const c = await loadConfig(file);
    assert.equal(c.source, file);
    assert.deepEqual(c.scan, {
      schedule: '*/5 * * * *',
      timeoutMs: 10_000,
      concurrency: 64,
      probeProcesses: null,
      expiryWarningMs: 30 * 86_400_000,
      expiryCriticalMs: 7 * 86_400_000,
    });
    assert.deepEqual(c.dns, { servers: [] });
    assert.deepEqual(c.trust, { caFiles: [], caPems: [], systemRoots: true });
    assert.deepEqual(c.state, { path: join(s.dir, 'minimal', 'state'), retentionMs: 7 * 86_400_000 });
    assert.deepEqual(c.server, { listen: { host: '0.0.0.0', port: 9862 }, externalUrl: null, webConfigFile: null });
    assert.deepEqual(c.alerting, { alertmanagerUrls: [], webhooks: [], resendIntervalMs: 60_000 });
    assert.deepEqual(c.policies, []);
    assert.deepEqual(c.targets, [
      {
        name: 't1',
        group: 'g',
        host: 'h.example.test',
        port: 443,
        address: null,
        resolve: 'first',
        sni: 'h.example.test',
        role: null,
        labels: {},
        url: null,
        clientCert: null,
        starttls: null,
      },
    ]);
  });

  test('empty sections mean defaults', async () => {
    const c = await parseConfig(`scan:\ndns:\ntrust:\nstate:\nserver:\nalerting:\npolicies:\n${ONE_TARGET}`, join(s.dir, 'x.yaml'));
    assert.equal(c.scan.timeoutMs, 10_000);
    assert.deepEqual(c.policies, []);
  });

  test('every setting is read and normalised', async () => {
    s.certAndKey('etc/ca/root.pem', 'etc/ca/root.key', 'Contoso Root');
    s.certAndKey('etc/certs/client.pem', 'etc/certs/client.key', 'chainwatch');
    const text = [
      'scan:',
      '  schedule: "0 */2 * * * *"',
      '  timeout: 1.5s',
      '  concurrency: 8',
      '  probe_processes: 3',
      '  expiry_warning: 14d',
      '  expiry_critical: 3d',
      'dns:',
      '  servers: ["127.0.0.53", "127.0.0.1:5353", "[::1]:53", "::1"]',
      'trust:',
      '  ca_files: [ca/root.pem]',
      '  system_roots: false',
      'state:',
      '  path: ../var/state',
      '  retention: 36h',
      'server:',
      '  listen: "[::1]:0"',
      '  external_url: https://chainwatch.contoso.test/',
      'alerting:',
      '  alertmanager_url: http://am.test:9093/',
      '  resend_interval: 30s',
      '  webhooks:',
      '    - url: https://hooks.test/a?token=1',
      '    - url: https://hooks.test/b',
      '      format: slack',
      'targets:',
      '  - name: mcu',
      '    group: lync-internal',
      '    host: fe01.contoso.test',
      '    port: 444',
      '    client_cert: {cert: certs/client.pem, key: certs/client.key}',
      'policies:',
      '  - name: one-ca',
      '    members: [lync-internal, lync-internal]',
      '    match: root',
      '    allowed_issuers: ["3A:1F:9C:0B:57:2E:D4:88:61:AF:03:7C:E2:19:45:B0:6D:C8:91:24", "3a1f9c0b572ed48861af037ce21945b06dc89124", "ABCDEF0123456789"]',
    ].join('\n');
    const file = join(s.dir, 'etc', 'chainwatch.yaml');
    const c = await parseConfig(text, file);
    assert.deepEqual(c.scan, {
      schedule: '0 */2 * * * *',
      timeoutMs: 1500,
      concurrency: 8,
      probeProcesses: 3,
      expiryWarningMs: 14 * 86_400_000,
      expiryCriticalMs: 3 * 86_400_000,
    });
    assert.deepEqual(c.dns.servers, ['127.0.0.53', '127.0.0.1:5353', '[::1]:53', '::1']);
    assert.deepEqual(c.trust.caFiles, [join(s.dir, 'etc', 'ca', 'root.pem')]);
    assert.equal(c.trust.caPems.length, 1);
    assert.match(c.trust.caPems[0]!, /^-----BEGIN CERTIFICATE-----/);
    assert.equal(c.trust.systemRoots, false);
    assert.deepEqual(c.state, { path: join(s.dir, 'var', 'state'), retentionMs: 36 * 3_600_000 });
    assert.deepEqual(c.server, { listen: { host: '::1', port: 0 }, externalUrl: 'https://chainwatch.contoso.test', webConfigFile: null });
    assert.deepEqual(c.alerting, {
      alertmanagerUrls: ['http://am.test:9093'],
      webhooks: [
        { url: 'https://hooks.test/a?token=1', format: 'generic' },
        { url: 'https://hooks.test/b', format: 'slack' },
      ],
      resendIntervalMs: 30_000,
    });
    const cc = c.targets[0]!.clientCert!;
    assert.equal(cc.certFile, join(s.dir, 'etc', 'certs', 'client.pem'));
    assert.equal(cc.keyFile, join(s.dir, 'etc', 'certs', 'client.key'));
    assert.match(cc.cert, /BEGIN CERTIFICATE/);
    assert.match(cc.key, /BEGIN PRIVATE KEY/);
    assert.deepEqual(c.policies, [
      {
        name: 'one-ca',
        reference: null,
        members: ['lync-internal'],
        match: 'root',
        scope: null,
        allowedIssuers: ['3a1f9c0b572ed48861af037ce21945b06dc89124', 'abcdef0123456789'],
      },
    ]);
  });

  test('targets: url, address, IP literal hosts, sni override', async () => {
    const text = [
      'targets:',
      '  - {name: pchat, group: pchat-web, url: "https://Pool01.Contoso.test/PersistentChat/MGCWebService.asmx"}',
      '  - {name: pchat-alt, group: pchat-web, url: "https://pool01.contoso.test:4443/x", host: pool01.contoso.test, port: 4443}',
      '  - {name: tls-url, group: g, url: "tls://pchat01.contoso.test:5041"}',
      '  - {name: v6-url, group: g, url: "https://[2001:db8::5]:8443/"}',
      '  - {name: edge, group: g, host: edge01-int.contoso.test, port: 5061, address: 10.1.20.5}',
      '  - {name: by-ip, group: g, host: 10.1.2.3, port: 5061}',
      '  - {name: by-ip-sni, group: g, host: "[2001:db8::7]", sni: pool01.contoso.test}',
      '  - {name: pool, group: g, host: pool01.contoso.test, port: 5061, resolve: all, role: front-end}',
      '  - {name: fed, group: g, host: edge01.contoso.test, port: 5269, starttls: xmpp}',
    ].join('\n');
    const c = await parseConfig(text, join(s.dir, 'targets.yaml'));
    assert.deepEqual(
      c.targets.map((t) => t.starttls),
      [...c.targets.slice(0, -1).map(() => null), 'xmpp'],
    );
    const pick = (i: number) => {
      const t = c.targets[i]!;
      return [t.host, t.port, t.address, t.sni, t.url, t.resolve];
    };
    assert.deepEqual(pick(0), [
      'pool01.contoso.test',
      443,
      null,
      'pool01.contoso.test',
      'https://Pool01.Contoso.test/PersistentChat/MGCWebService.asmx',
      'first',
    ]);
    assert.deepEqual(pick(1), ['pool01.contoso.test', 4443, null, 'pool01.contoso.test', 'https://pool01.contoso.test:4443/x', 'first']);
    assert.deepEqual(pick(2), ['pchat01.contoso.test', 5041, null, 'pchat01.contoso.test', 'tls://pchat01.contoso.test:5041', 'first']);
    assert.deepEqual(pick(3), ['2001:db8::5', 8443, null, null, 'https://[2001:db8::5]:8443/', 'first']);
    assert.deepEqual(pick(4), ['edge01-int.contoso.test', 5061, '10.1.20.5', 'edge01-int.contoso.test', null, 'first']);
    assert.deepEqual(pick(5), ['10.1.2.3', 5061, null, null, null, 'first']);
    assert.deepEqual(pick(6), ['2001:db8::7', 443, null, 'pool01.contoso.test', null, 'first']);
    assert.deepEqual(pick(7), ['pool01.contoso.test', 5061, null, 'pool01.contoso.test', null, 'all']);
    assert.equal(c.targets[7]!.role, 'front-end');
  });

  test('alertmanager_url as a list (HA pair); anchors and aliases are followed', async () => {
    const text = `alerting:\n  alertmanager_url: ["http://am-a.test:9093", "https://am-b.test:9093/"]\n${ONE_TARGET}  - &t\n    name: t2\n    group: g\n    host: h2.test\n    port: 5061\npolicies:\n  - name: p\n    members: &m [g]\n  - name: q\n    members: *m\n`;
    const c = await parseConfig(text, join(s.dir, 'am.yaml'));
    assert.deepEqual(c.alerting.alertmanagerUrls, ['http://am-a.test:9093', 'https://am-b.test:9093']);
    assert.deepEqual(
      c.policies.map((p) => p.members),
      [['g'], ['g']],
    );
    assert.equal(c.targets[1]!.port, 5061);
  });

  test('a config file that cannot be read is a ConfigError naming the file', async () => {
    const missing = join(s.dir, 'nope.yaml');
    await assert.rejects(loadConfig(missing), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.message, `${missing}:1:1: cannot read the config file: no such file`);
      return true;
    });
    await assert.rejects(loadConfig(s.dir), /is a directory/);
  });

  test('what is not a regular text file is refused with one line, before it is read', async () => {
    const refused = async (path: string, fragment: string): Promise<void> => {
      await assert.rejects(loadConfig(path), (err: unknown) => {
        assert.ok(err instanceof ConfigError, String(err));
        assert.equal(err.issues.length, 1);
        assert.ok(err.message.startsWith(`${path}:1:1: `) && err.message.includes(fragment), err.message);
        return true;
      });
    };
    await refused('/dev/zero', 'is a character device, not a file; give the path of the YAML config file');
    const fifo = join(s.dir, 'pipe.yaml');
    execFileSync('mkfifo', [fifo]);
    await refused(fifo, 'is a named pipe (FIFO), not a file'); // no writer: opening it would wait forever
    const huge = s.write('huge.yaml', '');
    truncateSync(huge, MAX_CONFIG_BYTES + 1); // sparse: refused by its size, never read
    await refused(huge, `is ${MAX_CONFIG_BYTES + 1} bytes, more than the ${MAX_CONFIG_BYTES} allowed; a config file this large is not a config file`);
    await refused(s.write('binary.yaml', 'targets:\n\u0000\u0001\u0002'), 'is not a text file (it holds binary data)');
    const latin1 = join(s.dir, 'latin1.yaml');
    writeFileSync(latin1, Buffer.from([0x61, 0x3a, 0x20, 0xe9, 0xff, 0x0a]));
    await refused(latin1, 'is not a text file');
  });

  test('UTF-16 with a byte order mark (Windows Notepad) is read', async () => {
    const file = join(s.dir, 'utf16.yaml');
    writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(ONE_TARGET, 'utf16le')]));
    assert.equal((await loadConfig(file)).targets[0]!.name, 't1');
  });

  test('a CA file that is a device or a FIFO is refused at its key, without hanging', async () => {
    const fifo = join(s.dir, 'ca-pipe.pem');
    execFileSync('mkfifo', [fifo]);
    const file = s.write('devices.yaml', `trust:\n  ca_files: [/dev/zero, ca-pipe.pem]\n${ONE_TARGET}`);
    await assert.rejects(loadConfig(file), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(
        err.issues.map((i) => `${i.key}: ${i.message}`),
        [
          'trust.ca_files[0]: cannot read /dev/zero: it is a character device, not a file',
          `trust.ca_files[1]: cannot read ${fifo}: it is a named pipe (FIFO), not a file`,
        ],
      );
      return true;
    });
  });

  test('a byte order mark and Windows line endings are fine', async () => {
    const file = s.write('crlf.yaml', `\uFEFF${ONE_TARGET.replace(/\n/g, '\r\n')}scan:\r\n  timeout: 5s\r\n`);
    const c = await loadConfig(file);
    assert.equal(c.scan.timeoutMs, 5000);
    // Positions still count lines the way editors do.
    const bad = s.write('crlf-bad.yaml', `${ONE_TARGET.replace(/\n/g, '\r\n')}scan:\r\n  timeout: 5\r\n`);
    await assert.rejects(loadConfig(bad), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.issues[0]!.line, 6);
      assert.equal(err.issues[0]!.column, 12);
      return true;
    });
  });

  test('config/example.yaml loads as shipped, and from any folder', async () => {
    const shipped = await loadConfig(fileURLToPath(new URL('../../config/example.yaml', import.meta.url)));
    assert.equal(shipped.targets.length, 7);
    const file = s.write('example/chainwatch.yaml', EXAMPLE);
    const c = await loadConfig(file);
    assert.equal(c.targets.length, 7);
    assert.deepEqual([...new Set(c.targets.map((t) => t.group))], ['lync-internal', 'pchat-web']);
    const pchat = c.targets.find((t) => t.name === 'pchat-files')!;
    assert.deepEqual([pchat.host, pchat.port], ['pool01.contoso.local', 443]);
    assert.deepEqual(
      c.policies.map((p) => [p.name, p.reference, p.members]),
      [
        ['pchat-web-same-ca', 'lync-internal', ['pchat-web']],
        ['lync-internal-one-ca', null, ['lync-internal']],
      ],
    );
    assert.deepEqual(c.policies[1]!.allowedIssuers, ['3a1f9c0b572ed48861af037ce21945b06dc89124']);
    assert.equal(c.state.path, resolve(s.dir, 'example', 'state'));
    assert.equal(c.alerting.alertmanagerUrls.length, 2);
  });
});
