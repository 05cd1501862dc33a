// `chainwatch demo` as a newcomer runs it: within seconds its metrics show the one Persistent Chat
// web divergence of its two sites, and Ctrl-C (SIGINT) stops everything and removes what it wrote.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { after, test } from 'node:test';
import { eventually, killAll, scrape, select, spawnChainwatch, value } from '../helpers/daemon-process.js';

after(() => killAll());

// Its own loopback range, so a demo someone runs by hand on 127.0.0.x does not collide.
const PREFIX = `127.${100 + (process.pid % 100)}.${process.pid % 250}`;

function connectable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

test('the demo serves divergence in its metrics within seconds, and Ctrl-C stops all of it', async () => {
  const t0 = Date.now();
  const cw = spawnChainwatch(['demo', '--listen', '127.0.0.1:0', '--ip-prefix', PREFIX]);
  const [, url] = (await cw.waitForText(/Prometheus metrics\s+(http:\/\/\S+)\/metrics/, 60_000)) as RegExpMatchArray;
  const [, dir] = (await cw.waitForText(/Files live in (\S+) and are removed on exit/)) as RegExpMatchArray;
  assert.ok(url && dir);
  assert.ok(existsSync(dir));

  const m = await eventually(
    async () => {
      const s = await scrape(url);
      assert.equal(value(s, 'chainwatch_scans_total'), 1);
      return s;
    },
    'the first demo scan',
    30_000,
  );
  const elapsed = Date.now() - t0;

  // Two sites, each on its own issuing CA; the one breach is Dublin's dubfe02 web certificate from London's CA.
  assert.equal(value(m, 'chainwatch_policy_consistent', { policy: 'pchat-web-same-ca' }), 0);
  assert.equal(value(m, 'chainwatch_policy_divergent_endpoints', { policy: 'pchat-web-same-ca' }), 1);
  const divergent = select(m, 'chainwatch_policy_member_divergent').filter((s) => s.value === 1);
  assert.deepEqual(
    divergent.map((s) => [s.labels.policy, s.labels.target, s.labels.address, s.labels.site]),
    [['pchat-web-same-ca', 'dubpool-pchat-web', `${PREFIX}.12`, 'Dublin']],
  );
  assert.equal(value(m, 'chainwatch_policy_member_divergent', { policy: 'pchat-web-same-ca', target: 'dubpool-pchat-web', address: `${PREFIX}.11` }), 0);
  assert.equal(
    value(m, 'chainwatch_policy_member_divergent', { policy: 'pchat-web-same-ca', target: 'lonpool-pchat-web', address: `${PREFIX}.21`, site: 'London' }),
    0,
  );
  assert.equal(value(m, 'chainwatch_policy_consistent', { policy: 'lync-internal-same-root' }), 1);
  // Every server answered with a chain, the MTLS ones included.
  const success = select(m, 'chainwatch_probe_success');
  assert.equal(success.length, 11, 'per site: pool SIP (2) + Persistent Chat + pchat-web (2); Dublin also its Edge');
  assert.deepEqual(
    success.filter((s) => s.value !== 1).map((s) => s.labels),
    [],
  );
  assert.equal(
    value(m, 'chainwatch_chain_info', {
      target: 'dubpool-pchat-web',
      address: `${PREFIX}.12`,
      issuer_dn: 'CN=Contoso London Issuing CA, O=Contoso',
      site: 'Dublin',
    }),
    1,
  );
  // Each site's CA publishes CRLs and OCSP on loopback; Dublin's Edge internal certificate is revoked.
  assert.equal(value(m, 'chainwatch_cert_revoked', { target: 'dubedge01-int-default', position: '0' }), 1);
  assert.equal(value(m, 'chainwatch_cert_revoked', { target: 'dubchat01-default', position: '0' }), 0);
  assert.equal(value(m, 'chainwatch_cert_revoked', { target: 'lonchat01-default', position: '0' }), 0);
  assert.equal(value(m, 'chainwatch_crl_fetch_success', { url: `http://${PREFIX}.10:8080/crl/contoso-issuing.crl` }), 1);
  assert.equal(value(m, 'chainwatch_crl_fetch_success', { url: `http://${PREFIX}.20:8080/crl/contoso-issuing.crl` }), 1);
  assert.equal(value(m, 'chainwatch_ocsp_response_status', { url: `http://${PREFIX}.10:8080/ocsp`, status: 'successful' }), 1);
  assert.equal(value(m, 'chainwatch_ocsp_response_status', { url: `http://${PREFIX}.20:8080/ocsp`, status: 'successful' }), 1);
  assert.ok(elapsed < 45_000, `first metrics after ${elapsed} ms`);

  cw.proc.kill('SIGINT');
  const exit = await cw.exited;
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.ok(!existsSync(dir), 'the demo folder is removed');
  assert.equal(await connectable(`${PREFIX}.11`, 5061), false, 'the demo servers are gone');
});
