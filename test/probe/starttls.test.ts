// STARTTLS: the probe speaks each protocol's clear-text exchange before its TLS handshake,
// against loopback servers that then hand the socket to a real TLS server. openssl s_client
// -starttls confirms each server side works the way real clients expect.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { STARTTLS_PROTOCOLS, type StartTlsProtocol } from '../../src/config/options.js';
import type { IssuedCert } from '../../src/demo/pki.js';
import type { ServedEndpoint } from '../../src/demo/servers.js';
import { probeEndpoint } from '../../src/probe/probe.js';
import { chainPems, type StandardPki, standardPki } from '../helpers/fixtures.js';
import { opensslShowCerts } from '../helpers/openssl.js';
import { serveBlackHole } from '../helpers/servers.js';
import { serveStartTls } from '../helpers/starttls-servers.js';
import { endpointFor } from './endpoint.js';

const HOST = 'mail.contoso.test';
const TIMEOUT = 5000;
const servers: ServedEndpoint[] = [];
let pki: StandardPki;
let leaf: IssuedCert;

before(async () => {
  pki = await standardPki();
  leaf = await pki.leaf(pki.contosoIssuing01, HOST);
});
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function serve(protocol: StartTlsProtocol, refuse = false): Promise<ServedEndpoint> {
  const s = await serveStartTls({ protocol, refuse, key: leaf.keyPem, chain: chainPems(leaf, pki.contosoIssuing01) });
  servers.push(s);
  return s;
}

const REFUSALS: Record<StartTlsProtocol, RegExp> = {
  smtp: /refused SMTP STARTTLS: it answered STARTTLS with "454 4\.7\.0 TLS not available due to local problem"/,
  imap: /refused IMAP STARTTLS: it answered STARTTLS with "a1 BAD STARTTLS not available"/,
  pop3: /refused POP3 STARTTLS: it answered STLS with "-ERR command not recognised"/,
  ftp: /refused FTP STARTTLS: it answered AUTH TLS with "502 Command not implemented"/,
  postgres: /refused POSTGRES STARTTLS: it answered 'N': the server does not accept TLS/,
  ldap: /refused LDAP STARTTLS: it answered StartTLS with protocolError \(2\): "unsupported extended operation"/,
  xmpp: /refused XMPP STARTTLS: it does not offer STARTTLS among its stream features "<stream:features><mechanisms/,
};

describe('STARTTLS', () => {
  for (const protocol of ['smtp', 'ldap', 'xmpp'] as const) {
    it(`${protocol}: openssl s_client -starttls ${protocol} reads the chain from the test server`, async () => {
      const s = await serve(protocol);
      const seen = await opensslShowCerts({
        host: s.host,
        port: s.port,
        servername: HOST,
        starttls: protocol,
        xmppHost: protocol === 'xmpp' ? HOST : undefined,
      });
      assert.deepEqual(seen, [leaf.der, pki.contosoIssuing01.der]);
    });
  }

  for (const protocol of STARTTLS_PROTOCOLS) {
    for (const capture of ['auto', 'stream'] as const) {
      it(`${protocol} (capture ${capture}): the chain after the exchange, exactly as presented`, async () => {
        const s = await serve(protocol);
        const r = await probeEndpoint(endpointFor(s, { host: HOST, sni: HOST, starttls: protocol }), { timeoutMs: TIMEOUT, capture });
        assert.deepEqual([r.error, r.presented, r.tls?.completed], [null, [leaf.der, pki.contosoIssuing01.der], true]);
      });
    }

    it(`${protocol}: a server refusing STARTTLS → starttls, quoting its answer`, async () => {
      const s = await serve(protocol, true);
      const r = await probeEndpoint(endpointFor(s, { host: HOST, sni: HOST, starttls: protocol }), { timeoutMs: TIMEOUT });
      assert.deepEqual([r.error?.kind, r.presented, r.tls], ['starttls', [], null]);
      assert.match(r.error!.message, REFUSALS[protocol]);
    });
  }

  it('a TLS port probed with starttls → starttls, naming what it said', async () => {
    const s = await serve('smtp');
    const r = await probeEndpoint(endpointFor(s, { host: HOST, sni: HOST, starttls: 'imap' }), { timeoutMs: TIMEOUT });
    assert.equal(r.error?.kind, 'starttls');
    assert.match(r.error!.message, /refused IMAP STARTTLS: it greeted with "220 mail\.contoso\.test ESMTP ready" instead of \* OK/);
  });

  it('a silent server: the one deadline covers the exchange → timeout, naming the protocol', async () => {
    const s = await serveBlackHole();
    servers.push(s);
    const r = await probeEndpoint(endpointFor(s, { starttls: 'smtp' }), { timeoutMs: 600 });
    assert.equal(r.error?.kind, 'timeout');
    assert.match(r.error!.message, /did not complete the SMTP STARTTLS exchange within 0\.6s; it sent nothing/);
  });
});
