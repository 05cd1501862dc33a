// The web config is reloaded with the config: new users take effect, a bad file keeps the old
// setup serving (and says why), and switching TLS on rebinds the same address.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { type DaemonHandle, startDaemon } from '../../src/daemon/daemon.js';
import { createLogger } from '../../src/log/logger.js';
import { standardPki } from '../helpers/fixtures.js';

let dir: string;
const SECRET = 'w3bh00k';
let daemon: DaemonHandle;
const logs: { level: string; msg: string }[] = [];

const users = (user: string, password: string) => `basic_auth_users:\n  ${user}: '${bcrypt.hashSync(password, 4)}'\n`;

function status(url: string, ...args: string[]): Promise<number> {
  return new Promise((resolve) => {
    execFile('curl', ['-s', '--max-time', '20', '-o', '/dev/null', '-w', '%{http_code}', ...args, url], (_err, stdout) => resolve(Number(stdout) || 0));
  });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chainwatch-web-reload-'));
  const pki = await standardPki();
  const leaf = await pki.leaf(pki.contosoIssuing01, '127.0.0.1');
  await writeFile(join(dir, 'server.crt'), `${leaf.pem}${pki.contosoIssuing01.pem}`);
  await writeFile(join(dir, 'server.key'), leaf.keyPem, { mode: 0o600 });
  await writeFile(join(dir, 'ca.crt'), `${pki.contosoIssuing01.pem}${pki.contosoRoot.pem}`);
  await writeFile(join(dir, 'web.yml'), users('alice', 'one'));
  await writeFile(
    join(dir, 'chainwatch.yaml'),
    `scan:\n  schedule: "0 0 1 1 *"\nstate:\n  path: ${join(dir, 'state')}\nserver:\n  listen: 127.0.0.1:0\n  web_config_file: web.yml\nalerting:\n  webhooks:\n    - url: http://127.0.0.1:1/hook/TOKEN-${SECRET}\ntargets:\n  - name: t\n    group: g\n    host: 127.0.0.1\n    port: 1\n    client_cert: {cert: server.crt, key: server.key}\n`,
  );
  const log = createLogger({ level: 'info', format: 'json', sink: { write: (l: string) => logs.push(JSON.parse(l)) } });
  daemon = await startDaemon(join(dir, 'chainwatch.yaml'), { log, watchConfig: false });
});

after(async () => {
  await daemon?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('reloads users, keeps the old setup when the new file is bad, and rebinds for TLS', async () => {
  const url = () => `${daemon.url()}/metrics`;
  assert.equal(await status(url(), '-u', 'alice:one'), 200);
  assert.equal(await status(url()), 401);

  await writeFile(join(dir, 'web.yml'), users('bob', 'two'));
  assert.equal(await daemon.reload(), true);
  assert.equal(await status(url(), '-u', 'bob:two'), 200);
  assert.equal(await status(url(), '-u', 'alice:one'), 401);

  await writeFile(join(dir, 'web.yml'), `${users('carol', 'three')}tls_server_config:\n  cert_file: missing.crt\n  key_file: server.key\n`);
  assert.equal(await daemon.reload(), false);
  assert.ok(
    logs.some((r) => r.level === 'error' && /missing\.crt/.test(r.msg)),
    'the refusal names the missing file',
  );
  assert.equal(await status(url(), '-u', 'bob:two'), 200, 'the previous web config keeps serving');

  const port = new URL(daemon.url()).port;
  await writeFile(join(dir, 'web.yml'), `${users('carol', 'three')}tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n`);
  assert.equal(await daemon.reload(), true);
  assert.match(daemon.url(), /^https:/);
  assert.equal(new URL(daemon.url()).port, port, 'same address');
  assert.equal(await status(url(), '--cacert', join(dir, 'ca.crt'), '-u', 'carol:three'), 200);
});

test('/api/v1/status names no key file, config path, password hash or webhook token', async () => {
  const auth = ['--cacert', join(dir, 'ca.crt'), '-u', 'carol:three'];
  const body = await new Promise<string>((resolve, reject) => {
    const started = Date.now();
    const poll = () =>
      execFile('curl', ['-s', '--max-time', '20', '-f', ...auth, `${daemon.url()}/api/v1/status`], (err, stdout) => {
        if (!err) resolve(stdout);
        else if (Date.now() - started > 60_000) reject(new Error('no scan completed within 60 s'));
        else setTimeout(poll, 200);
      });
    poll();
  });
  assert.match(body, /"t"/, 'the status lists the target');
  for (const secret of [dir, 'server.key', 'web.yml', '$2', SECRET, 'BEGIN']) assert.ok(!body.includes(secret), `status contains ${secret}`);
});
