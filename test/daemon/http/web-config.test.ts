// The web configuration file on a real socket, driven by Debian's curl: TLS, basic auth with
// bcrypt hashes, client certificates, extra headers, and the key-permission warning.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { HttpFront } from '../../../src/daemon/http/front.js';
import { RouteTable } from '../../../src/daemon/http/routes.js';
import { loadWebSetup } from '../../../src/daemon/http/web-setup.js';
import { createLogger, nullLogger } from '../../../src/log/logger.js';
import { standardPki } from '../../helpers/fixtures.js';

let dir: string;
const fronts: HttpFront[] = [];
const routes = new RouteTable()
  .get('/metrics', () => ({ status: 200, type: 'text/plain', body: 'chainwatch_up 1\n' }))
  .get('/healthz', () => ({ status: 200, type: 'text/plain', body: 'ok\n' }));

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chainwatch-web-'));
  const pki = await standardPki();
  const leaf = await pki.leaf(pki.contosoIssuing01, '127.0.0.1');
  const client = await pki.clientCert(pki.contosoIssuing01, 'prometheus');
  await writeFile(join(dir, 'server.crt'), `${leaf.pem}${pki.contosoIssuing01.pem}`);
  await writeFile(join(dir, 'server.key'), leaf.keyPem, { mode: 0o600 });
  await writeFile(join(dir, 'ca.crt'), `${pki.contosoIssuing01.pem}${pki.contosoRoot.pem}`);
  await writeFile(join(dir, 'client.crt'), client.pem);
  await writeFile(join(dir, 'client.key'), client.keyPem, { mode: 0o600 });
  // htpasswd writes $2y$; the low cost keeps the test quick.
  const hash = bcrypt.hashSync('s3cret', 4).replace(/^\$2b\$/, '$2y$');
  await writeFile(
    join(dir, 'web.yml'),
    `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nbasic_auth_users:\n  prometheus: '${hash}'\nhttp_server_config:\n  headers:\n    Strict-Transport-Security: max-age=31536000\n`,
  );
  await writeFile(
    join(dir, 'mtls.yml'),
    'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_ca_file: ca.crt\n  client_auth_type: RequireAndVerifyClientCert\n  min_version: TLS13\n',
  );
});

after(async () => {
  await Promise.all(fronts.map((f) => f.close()));
  await rm(dir, { recursive: true, force: true });
});

async function serve(webFile: string): Promise<HttpFront> {
  const web = await loadWebSetup(join(dir, webFile), nullLogger);
  const front = await HttpFront.listen({ host: '127.0.0.1', port: 0, handler: (req) => routes.handle(req), log: nullLogger, web });
  fronts.push(front);
  return front;
}

interface Curl {
  exit: number;
  status: number;
  headers: string;
}

/** curl's exit code, the HTTP status (0 when none) and the response headers. */
function curl(url: string, ...args: string[]): Promise<Curl> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', '20', '-D', '-', '-o', '/dev/null', '-w', '%{http_code}', ...args, url], (err, stdout) => {
      const code = Number(stdout.slice(-3));
      resolve({
        exit: err ? Number((err as { code?: number }).code ?? 1) : 0,
        status: Number.isNaN(code) ? 0 : code,
        headers: stdout.slice(0, -3).toLowerCase(),
      });
    });
  });
}

test('basic auth over TLS: the right password gets 200, a wrong or missing one 401 with WWW-Authenticate', async () => {
  const front = await serve('web.yml');
  assert.match(front.url, /^https:/);
  const ca = ['--cacert', join(dir, 'ca.crt')];
  const ok = await curl(`${front.url}/metrics`, ...ca, '-u', 'prometheus:s3cret');
  assert.equal(ok.status, 200);
  assert.match(ok.headers, /strict-transport-security: max-age=31536000/);
  // Twice: the second answer comes from the remembered verification and must agree.
  assert.equal((await curl(`${front.url}/metrics`, ...ca, '-u', 'prometheus:s3cret')).status, 200);
  for (const creds of [['-u', 'prometheus:wrong'], ['-u', 'nobody:s3cret'], []]) {
    const denied = await curl(`${front.url}/metrics`, ...ca, ...creds);
    assert.equal(denied.status, 401, `credentials ${creds.join(' ')}`);
    assert.match(denied.headers, /www-authenticate: basic realm="chainwatch"/);
  }
  assert.equal((await curl(`${front.url}/healthz`, ...ca)).status, 200, '/healthz stays open for health checks');
});

test('plain HTTP on the TLS port gets no answer', async () => {
  const front = await serve('web.yml');
  const plain = await curl(`${front.url.replace('https:', 'http:')}/healthz`);
  assert.notEqual(plain.exit, 0);
  assert.notEqual(plain.status, 200);
});

test('RequireAndVerifyClientCert: no certificate fails, one from the client CA gets through', async () => {
  const front = await serve('mtls.yml');
  const ca = ['--cacert', join(dir, 'ca.crt')];
  const without = await curl(`${front.url}/metrics`, ...ca);
  assert.notEqual(without.status, 200);
  const withCert = await curl(`${front.url}/metrics`, ...ca, '--cert', join(dir, 'client.crt'), '--key', join(dir, 'client.key'));
  assert.equal(withCert.status, 200);
  const tls12 = await curl(`${front.url}/metrics`, ...ca, '--tls-max', '1.2', '--cert', join(dir, 'client.crt'), '--key', join(dir, 'client.key'));
  assert.notEqual(tls12.status, 200, 'min_version TLS13 refuses TLS 1.2');
});

test('a private key readable by others is served with a warning naming the file', async () => {
  await chmod(join(dir, 'server.key'), 0o644);
  const lines: string[] = [];
  try {
    await loadWebSetup(join(dir, 'web.yml'), createLogger({ format: 'json', sink: { write: (l: string) => lines.push(l) } }));
  } finally {
    await chmod(join(dir, 'server.key'), 0o600);
  }
  const warn = lines.map((l) => JSON.parse(l)).find((r) => r.level === 'warn');
  assert.ok(warn, lines.join(''));
  assert.match(warn.msg, /readable by group or others/);
  assert.equal(warn.file, join(dir, 'server.key'));
});

test('a key that does not match the certificate is refused in words', async () => {
  await writeFile(join(dir, 'other.key'), (await standardPki()).contosoRoot.keyPem, { mode: 0o600 });
  await writeFile(join(dir, 'mismatch.yml'), 'tls_server_config:\n  cert_file: server.crt\n  key_file: other.key\n');
  await assert.rejects(loadWebSetup(join(dir, 'mismatch.yml'), nullLogger), /TLS files are not usable/);
});
