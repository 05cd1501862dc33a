// The web configuration file reader: exporter-toolkit keys read as they are, mistakes refused
// with file:line:col.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/config/errors.js';
import { parseWebConfig } from '../../src/config/web-config.js';

const HASH = '$2y$10$mSEvjdgDmsNuCdahvnfVMuT47yjzbaSpxMpkh5XtDnaHc3RV4ekMS';

function issues(text: string): string[] {
  try {
    parseWebConfig(text, 'web.yml', '/etc/chainwatch');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.message.split('\n');
  }
  assert.fail('expected a ConfigError');
}

test('reads TLS, users and headers; paths relative to the file', () => {
  const web = parseWebConfig(
    `tls_server_config:\n  cert_file: tls/a.crt\n  key_file: /keys/a.key\n  client_ca_file: ca.crt\n  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]\nhttp_server_config:\n  headers:\n    X-Frame-Options: DENY\nbasic_auth_users:\n  alice: ${HASH}\n`,
    'web.yml',
    '/etc/chainwatch',
  );
  assert.deepEqual(web.tls, {
    certFile: '/etc/chainwatch/tls/a.crt',
    keyFile: '/keys/a.key',
    clientCaFile: '/etc/chainwatch/ca.crt',
    clientAuth: 'RequireAndVerifyClientCert',
    minVersion: 'TLSv1.2',
    ciphers: 'ECDHE-RSA-AES128-GCM-SHA256',
  });
  assert.equal(web.users.get('alice'), HASH);
  assert.deepEqual(web.headers, { 'X-Frame-Options': 'DENY' });
});

test('an empty file serves plain HTTP to anyone', () => {
  assert.deepEqual(parseWebConfig('', 'web.yml', '/'), { tls: null, users: new Map(), headers: {} });
});

test('unknown keys, unknown ciphers, bad auth types and non-bcrypt passwords point at their line', () => {
  const found = issues(
    'tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n  client_auth_type: Maybe\n  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n  max_version: TLS13\nbasic_auth_users:\n  bob: hunter2\nrate_limit: 1\n',
  );
  assert.ok(
    found.some((l) => l.startsWith("web.yml:4:21: tls_server_config.client_auth_type: 'Maybe' is not one of")),
    found.join('\n'),
  );
  assert.ok(
    found.some((l) => l.startsWith("web.yml:5:19: tls_server_config.cipher_suites: 'TLS_RSA_WITH_RC4_128_SHA' is not supported")),
    found.join('\n'),
  );
  assert.ok(
    found.some((l) => l.startsWith('web.yml:6:3: tls_server_config.max_version: unknown key')),
    found.join('\n'),
  );
  assert.ok(
    found.some((l) => l.startsWith('web.yml:8:8: basic_auth_users.bob: is not a bcrypt hash')),
    found.join('\n'),
  );
  assert.ok(
    found.some((l) => l.startsWith('web.yml:9:1: rate_limit: unknown key')),
    found.join('\n'),
  );
});

test('client certificate verification without a CA, a missing key_file and TLS 1.1 are refused', () => {
  assert.match(
    issues('tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n  client_auth_type: VerifyClientCertIfGiven\n').join('\n'),
    /set client_ca_file/,
  );
  assert.match(issues('tls_server_config:\n  cert_file: a.crt\n').join('\n'), /needs both cert_file and key_file/);
  assert.match(issues('tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n  min_version: TLS11\n').join('\n'), /use TLS12 or TLS13/);
  assert.match(issues('a: [').join('\n'), /^web\.yml:\d+:\d+: /);
});
