// The stage's own cache and clock: a CRL is reused for revocation.refresh, fetched again with a
// conditional GET afterwards, and never used past its nextUpdate; a delta CRL adds revocations
// to its base. Chains are analysed by the real analyzer; the CRLs come over loopback HTTP.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ChainAnalyzer } from '../../src/chain/analyzer.js';
import { type EndpointResult, isUnreadable } from '../../src/chain/types.js';
import { x509 } from '../../src/chain/x509.js';
import {
  type CertificateAuthority,
  createIntermediateCa,
  createRootCa,
  type IssuedCert,
  issueClientCert,
  issueCrl,
  issueLeaf,
  issueOcspResponder,
  signingKey,
} from '../../src/demo/pki.js';
import { RevocationChecker } from '../../src/revocation/checker.js';
import type { RevocationOptions } from '../../src/revocation/types.js';
import { type CrlServer, opensslOcspResponse, startCrlServer } from './servers.js';

const HOUR = 3_600_000;
const OPTIONS: RevocationOptions = { refreshMs: HOUR, timeoutMs: 5000, maxCrlBytes: 1024 * 1024, staleWarningMs: 24 * HOUR, ocsp: true };

let crls: CrlServer;
let root: CertificateAuthority;
let issuing: CertificateAuthority;
let analyzer: ChainAnalyzer;

before(async () => {
  crls = await startCrlServer();
  root = await createRootCa({ commonName: 'Clock Test Root' });
  issuing = await createIntermediateCa(root, { commonName: 'Clock Test Issuing CA' });
  analyzer = new ChainAnalyzer({ anchorsPem: [root.pem], systemRoots: false, expiryWarningMs: 0 });
});

after(() => crls.close());

async function endpoint(leaf: Pick<IssuedCert, 'der'>): Promise<EndpointResult> {
  const analysis = await analyzer.analyze([leaf.der, issuing.der], 'e.test', new Date());
  assert.ok(!isUnreadable(analysis));
  const e = {
    key: 'e',
    target: 'e',
    group: 'g',
    role: null,
    labels: {},
    host: 'e.test',
    port: 443,
    address: '127.0.0.1',
    sni: 'e.test',
    url: null,
    clientCert: null,
    starttls: null,
    resolveError: null,
  };
  return {
    probe: { endpoint: e, startedAt: new Date(), durationMs: 1, presented: [leaf.der, issuing.der], tls: null, error: null, stapledOcsp: null },
    analysis,
  };
}

/** One scan's checks of these endpoints, made as a scan makes them: endpoint by endpoint, then the sources' health. */
async function check(checker: RevocationChecker, endpoints: EndpointResult[], signal?: AbortSignal) {
  const pass = checker.startPass(signal);
  const checked = await Promise.all(endpoints.map((e) => pass.endpoint(e)));
  return { endpoints: checked, urls: pass.urls() };
}

describe('the revocation cache and clock', () => {
  it('reuses a CRL for refresh, then asks again with If-None-Match, and never past nextUpdate', async () => {
    const t0 = Date.now();
    const leaf = await issueLeaf(issuing, { commonName: 'clock.test', dnsNames: ['clock.test'], crlUrls: [`${crls.base}/clock.crl`] });
    crls.routes.set('/clock.crl', { body: await issueCrl(issuing, { thisUpdate: new Date(t0 - HOUR), nextUpdate: new Date(t0 + 3 * HOUR) }), etag: '"a"' });
    let now = t0;
    const checker = new RevocationChecker(OPTIONS, () => new Date(now));
    const ep = await endpoint(leaf);

    const first = await check(checker, [ep]);
    assert.equal(first.endpoints[0]!.revocation![0]!.status, 'good');
    assert.equal(crls.hits('/clock.crl'), 1);

    now = t0 + 30 * 60_000; // within refresh
    await check(checker, [ep]);
    assert.equal(crls.hits('/clock.crl'), 1);

    now = t0 + HOUR + 60_000; // refresh passed: conditional GET, answered 304
    const third = await check(checker, [ep]);
    assert.equal(crls.hits('/clock.crl'), 2);
    assert.equal(crls.notModified('/clock.crl'), 1);
    assert.equal(third.endpoints[0]!.revocation![0]!.status, 'good');

    // Past nextUpdate the held copy is stale: fetched again at once, and the stale copy (the
    // server still has nothing newer) gives unknown, never good.
    now = t0 + 3 * HOUR + 60_000;
    const fourth = await check(checker, [ep]);
    assert.equal(crls.hits('/clock.crl'), 3);
    const r = fourth.endpoints[0]!.revocation![0]!;
    assert.equal(r.status, 'unknown');
    assert.match(r.error!, /\(stale\)/);
    const health = fourth.urls.find((u) => u.url.endsWith('/clock.crl'))!;
    assert.equal(health.stale, true);
    assert.ok(fourth.endpoints[0]!.analysis!.problems.includes('revocation_unknown'));
  });

  it('reports a CRL close to its nextUpdate as expiring', async () => {
    const t0 = Date.now();
    const leaf = await issueLeaf(issuing, { commonName: 'soon.test', dnsNames: ['soon.test'], crlUrls: [`${crls.base}/soon.crl`] });
    crls.routes.set('/soon.crl', { body: await issueCrl(issuing, { nextUpdate: new Date(t0 + 2 * HOUR) }) });
    const found = await check(new RevocationChecker(OPTIONS, () => new Date(t0)), [await endpoint(leaf)]);
    const h = found.urls.find((u) => u.url.endsWith('/soon.crl'))!;
    assert.deepEqual([h.expiring, h.stale, h.reachable], [true, false, true]);
  });

  it('a delta CRL named by the certificate revokes what the base does not list yet', async () => {
    const leaf = await issueLeaf(issuing, {
      commonName: 'delta.test',
      dnsNames: ['delta.test'],
      crlUrls: [`${crls.base}/base.crl`],
      deltaCrlUrls: [`${crls.base}/delta.crl`],
    });
    crls.routes.set('/base.crl', { body: await issueCrl(issuing, { number: 7 }) });
    crls.routes.set('/delta.crl', { body: await issueCrl(issuing, { number: 8, deltaOf: 7, revoked: [{ serialNumber: leaf.serialNumber, reason: 4 }] }) });
    const found = await check(new RevocationChecker({ ...OPTIONS, ocsp: false }), [await endpoint(leaf)]);
    const r = found.endpoints[0]!.revocation![0]!;
    assert.deepEqual([r.status, r.source, r.reason], ['revoked', 'crl', 'superseded']);
    assert.ok(found.urls.some((u) => u.url.endsWith('/delta.crl') && u.kind === 'delta_crl' && u.reachable));
  });

  it('reads a CRL served as PEM', async () => {
    const leaf = await issueLeaf(issuing, { commonName: 'pem.test', dnsNames: ['pem.test'], crlUrls: [`${crls.base}/pem.crl`] });
    const der = await issueCrl(issuing, { revoked: [{ serialNumber: leaf.serialNumber }] });
    const pem = `-----BEGIN X509 CRL-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END X509 CRL-----\n`;
    crls.routes.set('/pem.crl', { body: Buffer.from(pem) });
    const found = await check(new RevocationChecker(OPTIONS), [await endpoint(leaf)]);
    assert.equal(found.endpoints[0]!.revocation![0]!.status, 'revoked');
  });

  it('a shutdown cancels the requests in flight instead of waiting for their timeout', async () => {
    const leaf = await issueLeaf(issuing, { commonName: 'cancel.test', dnsNames: ['cancel.test'], crlUrls: [`${crls.base}/cancel.crl`] });
    crls.routes.set('/cancel.crl', 'hang');
    const controller = new AbortController();
    const checking = check(new RevocationChecker({ ...OPTIONS, timeoutMs: 3_600_000 }), [await endpoint(leaf)], controller.signal);
    await new Promise((r) => setTimeout(r, 200));
    controller.abort();
    const found = await checking;
    assert.match(found.endpoints[0]!.revocation![0]!.error!, /cancel\.crl: cancelled \(shutdown or reload\)/);
  });

  it('an OCSP response signed by another key, or by a responder without the OCSP-signing usage, is never good', async () => {
    const leaf = await issueLeaf(issuing, { commonName: 'forged-ocsp.test', dnsNames: ['forged-ocsp.test'] });
    const impostor = await createRootCa({ commonName: 'Clock Test Issuing CA' });
    const notAResponder = await issueClientCert(issuing, { commonName: 'Not An OCSP Responder' });
    const genuine = await issueOcspResponder(issuing, { commonName: 'Clock Test OCSP' });
    const ep = await endpoint(leaf);
    const staple = async (signer: { pem: string; keyPem: string }) => {
      const r = await check(new RevocationChecker(OPTIONS), [
        { ...ep, probe: { ...ep.probe, stapledOcsp: await opensslOcspResponse(issuing, leaf, [{ cert: leaf }], signer) } },
      ]);
      return r.endpoints[0]!.revocation![0]!;
    };
    const forged = await staple(impostor);
    assert.equal(forged.status, 'unknown');
    assert.match(forged.error!, /stapled OCSP response: .*signature does not verify/);
    const unauthorised = await staple(notAResponder);
    assert.equal(unauthorised.status, 'unknown');
    assert.match(unauthorised.error!, /not authorised for OCSP signing/);
    const delegated = await staple(genuine);
    assert.deepEqual([delegated.status, delegated.source], ['good', 'stapled']);
  });

  it('a certificate whose Freshest CRL extension is garbage is unknown for that certificate only', async () => {
    const key = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: '0badcd90',
      subject: 'CN=garbled.test',
      issuer: issuing.subject,
      notBefore: new Date(Date.now() - HOUR),
      notAfter: new Date(Date.now() + 24 * HOUR),
      publicKey: key.publicKey,
      signingKey: await signingKey(issuing, 'SHA-256'),
      signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      extensions: [new x509.Extension('2.5.29.46', false, new Uint8Array([0x30, 0x03, 0xff, 0xff, 0xff]))],
    });
    const der = Buffer.from(cert.rawData);
    const garbled = await endpoint({ der });
    const good = await endpoint(await issueLeaf(issuing, { commonName: 'fine.test', dnsNames: ['fine.test'], crlUrls: [`${crls.base}/fine.crl`] }));
    crls.routes.set('/fine.crl', { body: await issueCrl(issuing) });
    const found = await check(new RevocationChecker(OPTIONS), [garbled, good]);
    assert.equal(found.endpoints[0]!.revocation![0]!.status, 'unknown');
    assert.match(found.endpoints[0]!.revocation![0]!.error!, /its revocation sources cannot be read/);
    assert.equal(found.endpoints[1]!.revocation![0]!.status, 'good');
  });

  it('redirects: at most 3, and only to http(s)', async () => {
    const leaf = async (name: string) =>
      endpoint(await issueLeaf(issuing, { commonName: `${name}.test`, dnsNames: [`${name}.test`], crlUrls: [`${crls.base}/${name}.crl`] }));
    crls.routes.set('/to-ldap.crl', { redirect: 'ldap://pki.contoso.test/CN=CRL' });
    for (let i = 0; i < 4; i++) crls.routes.set(`/loop${i}.crl`, { redirect: `${crls.base}/loop${i + 1}.crl` });
    crls.routes.set('/loop4.crl', { body: await issueCrl(issuing) });
    const found = await check(new RevocationChecker(OPTIONS), [await leaf('to-ldap'), await leaf('loop0')]);
    assert.match(found.endpoints[0]!.revocation![0]!.error!, /redirected to ldap:\/\/pki\.contoso\.test\/CN=CRL, which is not http\(s\); not followed/);
    assert.match(found.endpoints[1]!.revocation![0]!.error!, /more than 3 redirects \(last to .*\/loop4\.crl\)/);
    assert.equal(crls.hits('/loop4.crl'), 0);
  });
});
