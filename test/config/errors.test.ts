import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ConfigError } from '../../src/config/errors.js';
import { parseConfig } from '../../src/config/load.js';
import { configError, ONE_TARGET, scratch } from './support.js';

/** Asserts that the error lists `file:line:col: key: ...message...` as one of its lines. */
function assertIssue(err: ConfigError, file: string, line: number, column: number, key: string, fragment: string): void {
  const lines = err.message.split('\n');
  const prefix = key ? `${file}:${line}:${column}: ${key}: ` : `${file}:${line}:${column}: `;
  const hit = lines.find((l) => l.startsWith(prefix));
  assert.ok(hit, `expected a line starting with '${prefix}' in:\n${err.message}`);
  assert.ok(hit.includes(fragment), `expected '${fragment}' in '${hit}'`);
  assert.ok(err.issues.some((i) => i.file === file && i.line === line && i.column === column && i.key === key && i.message.includes(fragment)));
}

async function expectOne(text: string, line: number, column: number, key: string, fragment: string): Promise<ConfigError> {
  const err = await configError(text);
  assertIssue(err, 'cfg.yaml', line, column, key, fragment);
  assert.equal(err.issues.length, 1, `expected exactly one issue, got:\n${err.message}`);
  return err;
}

describe('config errors name file:line:column and the key', () => {
  test('unknown key suggests the nearest known key', async () => {
    const err = await expectOne(
      'targets:\n  - name: pool01-sip\n    group: g\n    host: h.test\n    prot: 5061\n',
      5,
      5,
      'targets[0] (pool01-sip).prot',
      "unknown key 'prot' — did you mean 'port'?",
    );
    assert.equal(err.message, "cfg.yaml:5:5: targets[0] (pool01-sip).prot: unknown key 'prot' — did you mean 'port'?");
  });

  test('unknown key at the top level, in camelCase, and in the wrong section', async () => {
    await expectOne(`scna:\n  timeout: 5s\n${ONE_TARGET}`, 1, 1, 'scna', "did you mean 'scan'?");
    await expectOne(`scan:\n  expiryWarning: 5d\n${ONE_TARGET}`, 2, 3, 'scan.expiryWarning', "did you mean 'expiry_warning'?");
    await expectOne(
      'targets:\n  - name: a\n    group: g\n    host: h.test\n    timeout: 5s\n',
      5,
      5,
      'targets[0] (a).timeout',
      "'timeout' belongs under scan (scan.timeout)",
    );
    await expectOne(
      `scan:\n  zzzzzz: 1\n${ONE_TARGET}`,
      2,
      3,
      'scan.zzzzzz',
      'known keys here: schedule, timeout, concurrency, probe_processes, expiry_warning',
    );
    await expectOne(`scan:\n  expiry_warning: 5d\n  expiry_critical: 10d\n${ONE_TARGET}`, 3, 20, 'scan.expiry_critical', 'must lie inside the warning band');
  });

  test('wrong types', async () => {
    await expectOne(
      'targets:\n  - name: a\n    group: g\n    host: h.test\n    port: "5061"\n',
      5,
      11,
      'targets[0] (a).port',
      "expected a port number, got the text '5061'",
    );
    await expectOne(`dns:\n  servers: 10.0.0.53\n${ONE_TARGET}`, 2, 12, 'dns.servers', 'expected a list of DNS server addresses, got the text');
    await expectOne(`trust:\n  system_roots: "no"\n${ONE_TARGET}`, 2, 17, 'trust.system_roots', 'expected true or false');
    await expectOne(`scan: 5\n${ONE_TARGET}`, 1, 7, 'scan', 'expected a mapping, got a number (5)');
    await expectOne('targets:\n  - name: 42\n    group: g\n    host: h.test\n', 2, 11, 'targets[0].name', 'expected a string, got a number (42)');
    await expectOne('targets:\n  - just-a-name\n', 2, 5, 'targets[0]', 'expected a target (a mapping with name, group and host or url)');
  });

  test('bad durations', async () => {
    await expectOne(`scan:\n  timeout: 10x\n${ONE_TARGET}`, 2, 12, 'scan.timeout', 'expected a duration such as 10s, 1.5m or 30d');
    await expectOne(`scan:\n  timeout: 10\n${ONE_TARGET}`, 2, 12, 'scan.timeout', "10 has no unit — write a duration such as '10s'");
    await expectOne(`scan:\n  timeout: 0s\n${ONE_TARGET}`, 2, 12, 'scan.timeout', 'must be greater than zero');
    await expectOne(`scan:\n  timeout: 2h\n${ONE_TARGET}`, 2, 12, 'scan.timeout', 'too long: at most 1h');
    await expectOne(`state:\n  retention: -1d\n${ONE_TARGET}`, 2, 14, 'state.retention', 'expected a duration');
    await expectOne(`alerting:\n  resend_interval: 0ms\n${ONE_TARGET}`, 2, 20, 'alerting.resend_interval', 'must be greater than zero');
  });

  test('port outside 1–65535', async () => {
    await expectOne('targets:\n  - name: a\n    group: g\n    host: h.test\n    port: 70000\n', 5, 11, 'targets[0] (a).port', '70000 is outside 1–65535');
    await expectOne('targets:\n  - name: a\n    group: g\n    host: h.test\n    port: 0\n', 5, 11, 'targets[0] (a).port', '0 is outside 1–65535');
    await expectOne('targets:\n  - name: a\n    group: g\n    url: tls://h.test:99999\n', 4, 10, 'targets[0] (a).url', 'not a valid URL');
  });

  test('target names in key paths are kept to one short line', async () => {
    const long = 'x'.repeat(60);
    await expectOne(
      `targets:\n  - name: "${long}"\n    group: g\n    host: h.test\n    prot: 1\n`,
      5,
      5,
      `targets[0] (${'x'.repeat(40)}…).prot`,
      "did you mean 'port'?",
    );
    await expectOne('targets:\n  - name: "a\\nb"\n    group: g\n    host: h.test\n    prot: 1\n', 5, 5, 'targets[0] (a b).prot', "did you mean 'port'?");
  });

  test('duplicate target name points at the second and says where the first is', async () => {
    await expectOne(
      'targets:\n  - name: pool01-sip\n    group: g\n    host: a.test\n  - name: pool01-sip\n    group: g\n    host: b.test\n',
      5,
      11,
      'targets[1] (pool01-sip).name',
      "duplicate target name 'pool01-sip' — first used at line 2, column 11",
    );
  });

  test('a target needs host or url, and url must not contradict host/port', async () => {
    await expectOne('targets:\n  - name: a\n    group: g\n    port: 443\n', 2, 5, 'targets[0] (a).host', "missing required key 'host' (or give url)");
    await expectOne('targets:\n  - name: a\n    host: h.test\n', 2, 5, 'targets[0] (a).group', "missing required key 'group'");
    await expectOne('targets:\n  - group: g\n    host: h.test\n', 2, 5, 'targets[0].name', "missing required key 'name'");
    await expectOne(
      'targets:\n  - name: a\n    group: g\n    url: https://pool01.contoso.test/x\n    host: other.test\n',
      5,
      11,
      'targets[0] (a).host',
      "host 'other.test' conflicts with url (host 'pool01.contoso.test')",
    );
    await expectOne(
      'targets:\n  - name: a\n    group: g\n    url: https://pool01.contoso.test:8443/x\n    port: 443\n',
      5,
      11,
      'targets[0] (a).port',
      'port 443 conflicts with url (port 8443)',
    );
  });

  test('bad urls', async () => {
    await expectOne('targets:\n  - name: a\n    group: g\n    url: http://h.test/\n', 4, 10, 'targets[0] (a).url', 'must start with https://');
    await expectOne('targets:\n  - name: a\n    group: g\n    url: "not a url"\n', 4, 10, 'targets[0] (a).url', "'not a url' is not a valid URL");
  });

  test('resolve, address and sni', async () => {
    const base = 'targets:\n  - name: a\n    group: g\n    host: h.test\n';
    await expectOne(`${base}    resolve: every\n`, 5, 14, 'targets[0] (a).resolve', "'every' is not a resolve mode: use first or all");
    await expectOne(`${base}    address: pool01.test\n`, 5, 14, 'targets[0] (a).address', "'pool01.test' is not an IP address");
    await expectOne(`${base}    address: 10.0.0.300\n`, 5, 14, 'targets[0] (a).address', 'is not an IP address');
    await expectOne(`${base}    address: 10.1.2.3\n    resolve: all\n`, 6, 14, 'targets[0] (a).resolve', 'resolve: all cannot be combined with address');
    await expectOne(`${base}    sni: 10.1.2.3\n`, 5, 10, 'targets[0] (a).sni', "'10.1.2.3' is an IP address; TLS server names must be DNS names");
    await expectOne(`${base}    sni: "bad name!"\n`, 5, 10, 'targets[0] (a).sni', 'is not a valid DNS name');
    await expectOne(
      `${base}    starttls: smtps\n`,
      5,
      15,
      'targets[0] (a).starttls',
      "'smtps' is not a STARTTLS protocol: use smtp, imap, pop3, ldap, xmpp, ftp or postgres",
    );
    await expectOne('targets:\n  - name: a\n    group: g\n    host: "bad host!"\n', 4, 11, 'targets[0] (a).host', 'is not a valid hostname or IP address');
  });

  test('policies: unknown groups, duplicate names, match, pins', async () => {
    await expectOne(
      `${ONE_TARGET}policies:\n  - name: p\n    members: [g, nope]\n`,
      7,
      18,
      'policies[0] (p).members[1]',
      "no target has group 'nope' (groups in this config: g)",
    );
    await expectOne(
      `${ONE_TARGET}policies:\n  - name: p\n    reference: ghost\n    members: [g]\n`,
      7,
      16,
      'policies[0] (p).reference',
      "no target has group 'ghost'",
    );
    await expectOne(
      `${ONE_TARGET}policies:\n  - name: p\n    members: [g]\n  - name: p\n    members: [g]\n`,
      8,
      11,
      'policies[1] (p).name',
      "duplicate policy name 'p' — first used at line 6, column 11",
    );
    await expectOne(
      `${ONE_TARGET}policies:\n  - name: p\n    members: [g]\n    match: leaf\n`,
      8,
      12,
      'policies[0] (p).match',
      "'leaf' is not a match mode: use issuer or root",
    );
    await expectOne(`${ONE_TARGET}policies:\n  - name: p\n`, 6, 5, 'policies[0] (p).members', "missing required key 'members'");
    await expectOne(`${ONE_TARGET}policies:\n  - name: p\n    members: []\n`, 7, 14, 'policies[0] (p).members', 'members is empty');
    await expectOne(
      `${ONE_TARGET}policies:\n  - name: p\n    members: [g]\n    allowed_issuers: ["xyz0123456789abcdef"]\n`,
      8,
      23,
      'policies[0] (p).allowed_issuers[0]',
      "'xyz0123456789abcdef' is not a key id",
    );
    await expectOne(
      `${ONE_TARGET}policies:\n  - name: p\n    members: [g]\n    allowed_issuers:\n      - "abc"\n`,
      9,
      9,
      'policies[0] (p).allowed_issuers[0]',
      "'abc' is not a key id",
    );
    // An all-digit key id unquoted is a YAML number (and has lost digits): it must be quoted.
    await expectOne(
      `${ONE_TARGET}policies:\n  - name: p\n    members: [g]\n    allowed_issuers: [1234567890123456789012]\n`,
      8,
      23,
      'policies[0] (p).allowed_issuers[0]',
      'expected a string, got a number',
    );
  });

  test('schedule, concurrency, dns servers, listen', async () => {
    await expectOne(
      `scan:\n  schedule: "61 * * * *"\n${ONE_TARGET}`,
      2,
      13,
      'scan.schedule',
      "'61 * * * *' is not a valid cron expression (minute '61' is not valid)",
    );
    await expectOne(`scan:\n  schedule: "* * * *"\n${ONE_TARGET}`, 2, 13, 'scan.schedule', 'expected 5 or 6 fields but got 4');
    await expectOne(`scan:\n  concurrency: 0\n${ONE_TARGET}`, 2, 16, 'scan.concurrency', '0 is outside 1–1000000');
    await expectOne(`scan:\n  concurrency: 2.5\n${ONE_TARGET}`, 2, 16, 'scan.concurrency', 'expected an integer, got a number (2.5)');
    await expectOne(`scan:\n  probe_processes: 65\n${ONE_TARGET}`, 2, 20, 'scan.probe_processes', '65 is outside 1–64');
    await expectOne(`dns:\n  servers: ["10.0.0.53", "dns.corp.test"]\n${ONE_TARGET}`, 2, 26, 'dns.servers[1]', "'dns.corp.test' is not a DNS server address");
    await expectOne(`dns:\n  servers: ["10.0.0.53:0"]\n${ONE_TARGET}`, 2, 13, 'dns.servers[0]', "port in '10.0.0.53:0' is outside 1–65535");
    await expectOne(`dns:\n  servers: ["[fe80::1"]\n${ONE_TARGET}`, 2, 13, 'dns.servers[0]', 'is not a DNS server address');
    await expectOne(`server:\n  listen: "0.0.0.0"\n${ONE_TARGET}`, 2, 11, 'server.listen', "'0.0.0.0' is not host:port");
    await expectOne(`server:\n  listen: "0.0.0.0:99999"\n${ONE_TARGET}`, 2, 11, 'server.listen', 'is not host:port');
    await expectOne(`server:\n  external_url: ftp://x.test\n${ONE_TARGET}`, 2, 17, 'server.external_url', 'must be an http:// or https:// URL');
  });

  test('alerting: webhook format and urls, Alertmanager urls', async () => {
    await expectOne(
      `alerting:\n  webhooks:\n    - url: https://hooks.test/x\n      format: discord\n${ONE_TARGET}`,
      4,
      15,
      'alerting.webhooks[0].format',
      "'discord' is not a webhook format: use teams, slack or generic",
    );
    const err = await expectOne(
      `alerting:\n  webhooks:\n    - url: ftp://hooks.test/SECRET-TOKEN\n${ONE_TARGET}`,
      3,
      12,
      'alerting.webhooks[0].url',
      'must be a valid http:// or https:// URL',
    );
    assert.ok(!err.message.includes('SECRET-TOKEN'), 'a webhook URL may hold a token and must not be echoed');
    await expectOne(`alerting:\n  webhooks:\n    - format: teams\n${ONE_TARGET}`, 3, 7, 'alerting.webhooks[0].url', "missing required key 'url'");
    await expectOne(
      `alerting:\n  alertmanager_url: [http://a.test:9093, "am.test:9093"]\n${ONE_TARGET}`,
      2,
      42,
      'alerting.alertmanager_url[1]',
      'must be an http:// or https:// URL',
    );
    await expectOne(`alerting:\n  alertmanager_url: "::"\n${ONE_TARGET}`, 2, 21, 'alerting.alertmanager_url', 'is not a valid URL');
  });

  test('YAML syntax errors, empty files and non-mapping top levels', async () => {
    const syntax = await configError('targets:\n  - name: a\n    group: [g\n');
    assert.equal(syntax.issues.length, 1);
    assert.match(syntax.message, /^cfg\.yaml:3:12: YAML syntax: the list '\[' opened here is not closed \(the parser noticed at line 4, column 1: /);
    const dup = await configError(`${ONE_TARGET}targets: []\n`);
    assert.equal(dup.message, "cfg.yaml:5:1: targets: duplicate key 'targets' — first at line 1, column 1; a key may appear once in a mapping");
    for (const empty of ['', '# nothing here\n', '---\n']) {
      const err = await configError(empty);
      assert.equal(err.message, 'cfg.yaml:1:1: the config file is empty: it needs at least a targets list (see config/example.yaml)');
    }
    await expectOne('- name: a\n', 1, 1, '', 'expected a mapping of sections');
    await expectOne('just text\n', 1, 1, '', 'expected a mapping of sections');
  });

  test('an unclosed bracket, brace or quote is reported where it opened, and where the parser noticed', async () => {
    // port: [443 on line 6: the parser only notices at the end of the file.
    const text = 'scan:\n  timeout: 10s\ntargets:\n  - name: a\n    group: g\n    port: [443\n';
    await expectOne(text, 6, 11, '', "the list '[' opened here is not closed (the parser noticed at line 7, column 1");
    await expectOne(
      'targets:\n  - name: a\n    group: g\n    port: [443\n    role: x\n',
      4,
      11,
      '',
      "the list '[' opened here is not closed (the parser noticed at line 5, column 5",
    );
    await expectOne('targets:\n  - {name: a, group: g, host: h.test\n', 2, 5, '', "the mapping '{' opened here is not closed");
    await expectOne('targets:\n  - name: a\n    group: g\n    host: "h.test\n    port: 443\n', 4, 11, '', 'the quote opened here is not closed');
    // Brackets inside quotes, comments and block scalars are text, not openers.
    await expectOne(
      '# a [ in a comment\nscan:\n  schedule: "[x"\n  timeout: |\n    [ {\ntargets:\n  - {name: a, group: g, host: h.test\n',
      7,
      5,
      '',
      "the mapping '{' opened here",
    );
  });

  test('duplicate keys and tabs name the key', async () => {
    await expectOne(`scan:\n  timeout: 10s\n  timeout: 20s\n${ONE_TARGET}`, 3, 3, 'scan.timeout', "duplicate key 'timeout' — first at line 2, column 3");
    await expectOne(
      'targets:\n  - name: a\n    name: b\n    group: g\n    host: h\n',
      3,
      5,
      'targets[0].name',
      "duplicate key 'name' — first at line 2, column 5",
    );
    const tab = await configError('targets:\n  - name: a\n\tgroup: g\n');
    assertIssue(tab, 'cfg.yaml', 3, 1, '', "a tab indents 'group'; YAML indentation must be spaces");
  });

  test('a file nested a thousand levels deep is refused before the parser sees it', async () => {
    const flow = `a: ${'['.repeat(1000)}${']'.repeat(1000)}\n`;
    const block = `a:\n${Array.from({ length: 1000 }, (_, i) => `${'  '.repeat(i + 1)}- \n`).join('')}`;
    const maps = `a: ${'{a: '.repeat(1000)}${'}'.repeat(1000)}\n`;
    for (const text of [flow, block, maps]) {
      const err = await configError(text);
      assert.equal(err.issues.length, 1);
      assert.match(err.message, /^cfg\.yaml:\d+:\d+: nests more than 64 levels deep here; a chainwatch config needs 5 at most$/);
    }
    // Nesting a real config uses is fine.
    await parseConfig(`scan: {timeout: 10s}\n${ONE_TARGET}    client_cert:\n`, 'x.yaml');
  });

  test('an alias bomb is read without expanding it', async () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i++)
      lines.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      );
    const err = await configError(`${lines.join('\n')}\ndns:\n  servers: *l\n${ONE_TARGET}`);
    assert.ok(err.issues.length >= 1 && err.issues.length < 30, err.message);
    assert.match(err.message, /unknown key 'a'/);
  });

  test('no targets is an error: nothing to watch', async () => {
    await expectOne('scan:\n  timeout: 5s\n', 1, 1, 'targets', 'no targets — nothing to watch');
    await expectOne('targets: []\n', 1, 10, 'targets', 'the target list is empty — nothing to watch');
    await expectOne('targets:\n', 1, 1, 'targets', 'no targets — nothing to watch');
  });

  test('every problem is listed, in file order', async () => {
    const err = await configError(
      'scan:\n  timeout: 10\n  concurency: 5\ntargets:\n  - name: a\n    group: g\n    host: h.test\n    port: 0\n  - name: a\n    group: g\n    url: http://x\npolicies:\n  - name: p\n    members: [zz]\n',
    );
    assert.deepEqual(
      err.issues.map((i) => `${i.line}:${i.column} ${i.key}`),
      [
        '2:12 scan.timeout',
        '3:3 scan.concurency',
        '8:11 targets[0] (a).port',
        '9:11 targets[1] (a).name',
        '11:10 targets[1] (a).url',
        '14:15 policies[0] (p).members[0]',
      ],
    );
    assert.equal(err.message.split('\n').length, 6);
  });
});

describe('config errors about referenced files', () => {
  const s = scratch();
  after(() => s.cleanup());
  s.certAndKey('certs/client.pem', 'certs/client.key', 'client');
  s.certAndKey('certs/other.pem', 'certs/other.key', 'other');
  s.write('ca/not-pem.txt', 'just some text\n');
  s.write('ca/key-only.pem', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n');
  s.write('ca/garbled.pem', '-----BEGIN CERTIFICATE-----\nnotbase64certificate\n-----END CERTIFICATE-----\n');
  const file = join(s.dir, 'cfg.yaml');

  async function errorFor(text: string): Promise<ConfigError> {
    try {
      await parseConfig(text, file);
    } catch (err) {
      if (err instanceof ConfigError) return err;
      throw err;
    }
    throw new Error('config was accepted');
  }

  test('unreadable and certificate-less CA files', async () => {
    const err = await errorFor(
      `trust:\n  ca_files:\n    - ca/missing.pem\n    - ca/not-pem.txt\n    - ca/key-only.pem\n    - ca/garbled.pem\n    - ca\n${ONE_TARGET}`,
    );
    assertIssue(err, file, 3, 7, 'trust.ca_files[0]', `cannot read ${join(s.dir, 'ca/missing.pem')}: no such file`);
    assertIssue(err, file, 4, 7, 'trust.ca_files[1]', 'holds no PEM certificate; if it is DER, convert it');
    assertIssue(err, file, 5, 7, 'trust.ca_files[2]', 'holds no PEM certificate (no -----BEGIN CERTIFICATE----- block)');
    assertIssue(err, file, 6, 7, 'trust.ca_files[3]', 'certificate 1 of 1 is not a valid certificate');
    assertIssue(err, file, 7, 7, 'trust.ca_files[4]', 'it is a directory, not a file');
    assert.equal(err.issues.length, 5);
  });

  test('unreadable client certificate files, missing key, mismatched key', async () => {
    const target = (cc: string): string => `targets:\n  - name: mcu\n    group: g\n    host: h.test\n    client_cert: ${cc}\n`;
    let err = await errorFor(target('{cert: certs/nope.pem, key: certs/client.key}'));
    assertIssue(err, file, 5, 25, 'targets[0] (mcu).client_cert.cert', `cannot read ${join(s.dir, 'certs/nope.pem')}: no such file`);
    err = await errorFor(target('{cert: certs/client.pem}'));
    assertIssue(err, file, 5, 18, 'targets[0] (mcu).client_cert.key', "missing required key 'key'");
    err = await errorFor(target('{cert: certs/client.key, key: certs/client.pem}'));
    assertIssue(err, file, 5, 25, 'targets[0] (mcu).client_cert.cert', 'holds no PEM certificate');
    assertIssue(err, file, 5, 48, 'targets[0] (mcu).client_cert.key', 'holds no PEM private key');
    err = await errorFor(target('{cert: certs/client.pem, key: certs/other.key}'));
    assertIssue(err, file, 5, 18, 'targets[0] (mcu).client_cert', `the key in ${join(s.dir, 'certs/other.key')} does not belong to the certificate`);
  });
});
