// `chainwatch run` as operators run it, watching a server whose certificate its CA has revoked
// (CRL on a loopback HTTP server): the metrics are exported and Debian's Alertmanager receives
// ChainwatchCertificateRevoked from the daemon.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createIntermediateCa, createRootCa, issueCrl, issueLeaf } from '../../src/demo/pki.js';
import { type ServedEndpoint, serveChain } from '../../src/demo/servers.js';
import { eventually, killAll, scrape, select, spawnChainwatch, value } from '../helpers/daemon-process.js';
import { type RunningAlertmanager, startAlertmanager } from '../output/alerts/processes.js';
import { type CrlServer, startCrlServer } from './servers.js';

describe('the daemon exports revocation and pushes ChainwatchCertificateRevoked', () => {
  let dir: string;
  let crls: CrlServer;
  let am: RunningAlertmanager;
  let revokedServer: ServedEndpoint;
  let goodServer: ServedEndpoint;
  let daemonUrl: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chainwatch-revocation-daemon-'));
    crls = await startCrlServer();
    const root = await createRootCa({ commonName: 'Daemon Revocation Root' });
    const issuing = await createIntermediateCa(root, { commonName: 'Daemon Revocation Issuing CA', crlUrls: [`${crls.base}/root.crl`] });
    const crlUrls = [`${crls.base}/issuing.crl`];
    const [bad, good] = await Promise.all([
      issueLeaf(issuing, { commonName: 'web-old.contoso.test', dnsNames: ['web-old.contoso.test'], crlUrls }),
      issueLeaf(issuing, { commonName: 'web-new.contoso.test', dnsNames: ['web-new.contoso.test'], crlUrls }),
    ]);
    crls.routes.set('/root.crl', { body: await issueCrl(root) });
    crls.routes.set('/issuing.crl', {
      body: await issueCrl(issuing, { revoked: [{ serialNumber: bad.serialNumber, reason: 1, revokedAt: new Date('2025-05-30T00:00:00Z') }] }),
    });
    revokedServer = await serveChain({ host: '127.0.0.1', port: 0, key: bad.keyPem, chain: [bad.pem, issuing.pem] });
    goodServer = await serveChain({ host: '127.0.0.1', port: 0, key: good.keyPem, chain: [good.pem, issuing.pem] });
    am = await startAlertmanager();
    writeFileSync(join(dir, 'root.pem'), root.pem);
    writeFileSync(
      join(dir, 'chainwatch.yaml'),
      `scan:
  schedule: "*/2 * * * * *"
trust:
  ca_files: [root.pem]
  system_roots: false
state:
  path: ./state
server:
  listen: 127.0.0.1:0
alerting:
  alertmanager_url: ${am.url}
  resend_interval: 5s
targets:
  - {name: web-old, group: web, host: web-old.contoso.test, address: 127.0.0.1, port: ${revokedServer.port}}
  - {name: web-new, group: web, host: web-new.contoso.test, address: 127.0.0.1, port: ${goodServer.port}}
`,
    );
    const cw = spawnChainwatch(['run', '--config', join(dir, 'chainwatch.yaml')]);
    daemonUrl = String((await cw.waitForLog((r) => r.msg === 'chainwatch started', 'the daemon to start', 60_000)).listen);
  });

  after(async () => {
    killAll();
    await Promise.allSettled([am?.stop(), crls?.close(), revokedServer?.close(), goodServer?.close()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('exports chainwatch_cert_revoked per position and the CRL series per URL', async () => {
    const samples = await eventually(
      async () => {
        const s = await scrape(daemonUrl);
        assert.equal(select(s, 'chainwatch_cert_revoked').length, 4);
        return s;
      },
      'revocation series after the first scan',
      60_000,
    );
    const at = (target: string, position: string) => value(samples, 'chainwatch_cert_revoked', { target, group: 'web', address: '127.0.0.1', position });
    assert.deepEqual([at('web-old', '0'), at('web-old', '1'), at('web-new', '0'), at('web-new', '1')], [1, 0, 0, 0]);
    for (const url of [`${crls.base}/issuing.crl`, `${crls.base}/root.crl`]) {
      assert.equal(value(samples, 'chainwatch_crl_fetch_success', { url }), 1);
      assert.ok(value(samples, 'chainwatch_crl_next_update_timestamp_seconds', { url }) > Date.now() / 1000);
      assert.ok(value(samples, 'chainwatch_crl_fetch_duration_seconds', { url }) >= 0);
    }
    assert.equal(value(samples, 'chainwatch_chain_problem', { target: 'web-old', problem: 'revoked' }), 1);
    // Scans every 2 seconds share one CRL fetch per refresh interval (1h by default).
    assert.equal(crls.hits('/issuing.crl'), 1);
  });

  it('Alertmanager receives ChainwatchCertificateRevoked with the endpoint labels', async () => {
    const alert = await eventually(
      async () => {
        const found = (await am.activeAlerts()).find((a) => a.labels.alertname === 'ChainwatchCertificateRevoked');
        assert.ok(found, 'not yet in Alertmanager');
        return found;
      },
      'ChainwatchCertificateRevoked in Alertmanager',
      60_000,
    );
    assert.deepEqual(alert.labels, {
      alertname: 'ChainwatchCertificateRevoked',
      target: 'web-old',
      address: '127.0.0.1',
      group: 'web',
      position: '0',
      severity: 'critical',
    });
    assert.match(
      alert.annotations.summary ?? '',
      /^web-old \(127\.0\.0\.1\): certificate web-old\.contoso\.test was revoked on 2025-05-30T00:00:00\.000Z \(keyCompromise\)$/,
    );
    const others = (await am.activeAlerts()).filter((a) => a.labels.alertname === 'ChainwatchCertificateRevoked' && a.labels.target !== 'web-old');
    assert.deepEqual(others, []);
  });
});
