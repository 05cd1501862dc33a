// `chainwatch healthcheck --config FILE` (the container HEALTHCHECK) asks /healthz on the
// address the config listens on, and says healthy only when it answers 200.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chainwatch } from '../helpers/cli.js';
import { standardPki } from '../helpers/fixtures.js';

describe('chainwatch healthcheck', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chainwatch-healthcheck-'));
  let status = 200;
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(req.url ?? '');
    res.writeHead(status).end();
  });
  let port = 0;

  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const config = (listen: string, extra = '') => {
    const file = join(dir, `c-${listen.replace(/\W/g, '_')}.yaml`);
    writeFileSync(file, `server:\n  listen: ${listen}\n${extra}targets:\n  - name: t\n    group: g\n    host: h.test\n`);
    return file;
  };

  it('exits 0 when /healthz answers 200 on the configured port, reaching a wildcard listen over loopback', async () => {
    const run = await chainwatch('healthcheck', '--config', config(`0.0.0.0:${port}`));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`healthy: http://127\\.0\\.0\\.1:${port}/healthz answered 200`));
    assert.equal(paths.at(-1), '/healthz');
  });

  it('exits 1 when the daemon answers otherwise, or nobody listens', async () => {
    status = 503;
    const sick = await chainwatch('healthcheck', '--config', config(`127.0.0.1:${port}`));
    assert.equal(sick.code, 1);
    assert.match(sick.stderr, /unhealthy: .* answered 503/);
    status = 200;
    const closed = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const none = await chainwatch('healthcheck', '--config', config(`127.0.0.1:${closed}`));
    assert.equal(none.code, 1);
    assert.match(none.stderr, /unhealthy: http:\/\/127\.0\.0\.1:\d+\/healthz: /);
  });

  it('reads only server.listen: a config the daemon would refuse elsewhere still finds the running daemon', async () => {
    const run = await chainwatch('healthcheck', '--config', config(`127.0.0.1:${port}`, 'scan:\n  timeout: not-a-duration\n'));
    assert.equal(run.code, 0, run.stderr);
  });

  it('finds server.listen in YAML written with anchors, block text and a flow list over several lines too', async () => {
    const file = join(dir, 'anchored.yaml');
    writeFileSync(file, `server:\n  listen: &here 127.0.0.1:${port}\nnote: |\n  written by hand\ntargets: [\n  {name: t, group: g, host: h.test}]\n`);
    const run = await chainwatch('healthcheck', '--config', file);
    assert.equal(run.code, 0, run.stderr);
  });

  it('speaks HTTPS when the web config serves TLS, from server.web_config_file or --web.config.file', async () => {
    const pki = await standardPki();
    const leaf = await pki.leaf(pki.contosoIssuing01, 'chainwatch.contoso.local');
    const tlsServer = createHttpsServer({ cert: leaf.pem, key: leaf.keyPem }, (req, res) => res.writeHead(req.url === '/healthz' ? 200 : 404).end());
    await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
    const tlsPort = (tlsServer.address() as AddressInfo).port;
    try {
      writeFileSync(join(dir, 'web.yml'), 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n');
      const file = join(dir, 'tls.yaml');
      writeFileSync(file, `server:\n  listen: 127.0.0.1:${tlsPort}\n  web_config_file: web.yml\ntargets: []\n`);
      const run = await chainwatch('healthcheck', '--config', file);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`healthy: https://127\\.0\\.0\\.1:${tlsPort}/healthz answered 200`));
      const flag = await chainwatch('healthcheck', '--config', config(`127.0.0.1:${tlsPort}`), '--web.config.file', join(dir, 'web.yml'));
      assert.equal(flag.code, 0, flag.stderr);
    } finally {
      tlsServer.close();
    }
  });
});
