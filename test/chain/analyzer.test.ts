import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ChainAnalyzer } from '../../src/chain/analyzer.js';
import { type ChainAnalysis, isUnreadable, type UnreadableLeaf } from '../../src/chain/types.js';
import { createSelfSigned, type IssuedCert, issueLeaf } from '../../src/demo/pki.js';
import { type StandardPki, standardPki } from '../helpers/fixtures.js';

const DAY = 86_400_000;
let pki: StandardPki;

function analyzer(anchors: IssuedCert[], systemRoots = false): ChainAnalyzer {
  return new ChainAnalyzer({ anchorsPem: anchors.map((a) => a.pem), systemRoots, expiryWarningMs: 30 * DAY });
}

async function analyze(a: ChainAnalyzer, certs: (IssuedCert | Buffer)[], name: string, now = new Date()): Promise<ChainAnalysis> {
  const r = await a.analyze(
    certs.map((c) => (Buffer.isBuffer(c) ? c : c.der)),
    name,
    now,
  );
  if (isUnreadable(r)) assert.fail(`unexpected unreadable leaf: ${r.unreadable}`);
  return r;
}

describe('chain analysis', () => {
  before(async () => {
    pki = await standardPki();
  });

  it('reports every field of a good chain and identifies the issuing CA by its key', async () => {
    const leaf = await pki.leaf(pki.contosoIssuing01, 'pool01.contoso.test');
    const r = await analyze(analyzer([pki.contosoRoot]), [leaf, pki.contosoIssuing01, pki.contosoRoot], 'pool01.contoso.test');
    assert.deepEqual(r.problems, []);
    assert.equal(r.trusted, true);
    assert.equal(r.hostnameMatch, true);
    assert.equal(r.chain.length, 3);
    const c = r.chain[0]!;
    assert.equal(c.subject, leaf.subject);
    assert.equal(c.issuer, 'CN=Contoso Issuing CA 01, O=Contoso');
    assert.equal(c.sha256, leaf.sha256);
    assert.equal(c.spkiSha256, leaf.spkiSha256);
    assert.equal(c.serialNumber, leaf.serialNumber.toLowerCase());
    assert.equal(c.subjectKeyId, leaf.subjectKeyId);
    assert.equal(c.authorityKeyId, pki.contosoIssuing01.keyId);
    assert.equal(c.signatureAlgorithm, 'sha256WithRSAEncryption');
    assert.deepEqual(c.publicKey, { algorithm: 'RSA', bits: 2048 });
    assert.deepEqual(c.dnsNames, ['pool01.contoso.test']);
    assert.equal(c.notAfter, leaf.notAfter.toISOString());
    assert.match(c.sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(r.issuer, { dn: 'CN=Contoso Issuing CA 01, O=Contoso', keyId: pki.contosoIssuing01.keyId, spkiSha256: pki.contosoIssuing01.spkiSha256 });
    assert.equal(r.root?.sha256, pki.contosoRoot.sha256);
    assert.equal(r.root?.dn, 'CN=Contoso Root CA, O=Contoso');
  });

  it('analyses the same after a scan lets go of decoded certificates and forgets chains no longer presented', async () => {
    const a = analyzer([pki.contosoRoot]);
    const leaf1 = await pki.leaf(pki.contosoIssuing01, 'fe1.contoso.test');
    const leaf2 = await pki.leaf(pki.contosoIssuing01, 'fe2.contoso.test');
    const first = await analyze(a, [leaf1, pki.contosoIssuing01], 'fe1.contoso.test');
    await analyze(a, [pki.contosoIssuing01], 'gone.contoso.test');
    a.scanFinished();
    // Kept facts, and a new leaf whose issuer must be decoded again to verify its signature.
    const again = await analyze(a, [leaf1, pki.contosoIssuing01], 'fe1.contoso.test');
    const renewed = await analyze(a, [leaf2, pki.contosoIssuing01], 'fe2.contoso.test');
    a.scanFinished();
    const back = await analyze(a, [pki.contosoIssuing01], 'gone.contoso.test');
    assert.deepEqual(again, first);
    assert.equal(renewed.trusted, true);
    assert.deepEqual(renewed.problems, []);
    assert.deepEqual(renewed.issuer, first.issuer);
    assert.equal(back.chain[0]!.sha256, pki.contosoIssuing01.sha256);
  });

  it('tells a same-name CA with a different key apart', async () => {
    const a = analyzer([pki.contosoRoot]);
    const real = await analyze(a, [await pki.leaf(pki.contosoIssuing01, 'web1.contoso.test'), pki.contosoIssuing01], 'web1.contoso.test');
    const twin = await analyze(a, [await pki.leaf(pki.contosoIssuing01Twin, 'web2.contoso.test'), pki.contosoIssuing01Twin], 'web2.contoso.test');
    assert.equal(real.issuer?.dn, twin.issuer?.dn);
    assert.notEqual(real.issuer?.keyId, twin.issuer?.keyId);
    assert.equal(twin.issuer?.keyId, pki.contosoIssuing01Twin.keyId);
    assert.equal(twin.trusted, true, 'the twin is signed by the same root');
  });

  it('never takes a same-name CA whose key does not verify the leaf as its issuer', async () => {
    // The server sends the real CA 01 certificate, but its leaf was signed by the twin.
    const leaf = await pki.leaf(pki.contosoIssuing01Twin, 'web3.contoso.test');
    const r = await analyze(analyzer([pki.contosoRoot]), [leaf, pki.contosoIssuing01], 'web3.contoso.test');
    assert.equal(r.issuer?.keyId, pki.contosoIssuing01Twin.keyId, 'identified by the authority key id');
    assert.equal(r.issuer?.spkiSha256, null, 'the issuer certificate was not seen');
    assert.equal(r.trusted, false);
    assert.deepEqual(r.problems, ['untrusted', 'incomplete_chain', 'misordered_chain']);
  });

  it('matches a leaf served without its intermediate to the right CA, via the trust store or its authority key id', async () => {
    const leaf = await pki.leaf(pki.contosoIssuing01, 'leafonly.contoso.test');
    const withStore = await analyze(analyzer([pki.contosoRoot, pki.contosoIssuing01Twin, pki.contosoIssuing01]), [leaf], 'leafonly.contoso.test');
    assert.equal(withStore.issuer?.keyId, pki.contosoIssuing01.keyId);
    assert.equal(withStore.issuer?.spkiSha256, pki.contosoIssuing01.spkiSha256);
    assert.equal(withStore.trusted, true);
    assert.deepEqual(withStore.problems, ['incomplete_chain']);

    const rootOnly = await analyze(analyzer([pki.contosoRoot]), [leaf], 'leafonly.contoso.test');
    assert.equal(rootOnly.issuer?.keyId, pki.contosoIssuing01.keyId);
    assert.equal(rootOnly.trusted, false);
    assert.deepEqual(rootOnly.problems, ['untrusted', 'incomplete_chain']);
  });

  it('builds a good path from a misordered chain with duplicates and strays, keeping the presented order', async () => {
    const leaf = await pki.leaf(pki.contosoIssuing01, 'mess.contoso.test');
    const presented = [leaf, pki.contosoRoot, pki.contosoIssuing01, pki.contosoIssuing01, pki.fabrikamRoot];
    const r = await analyze(analyzer([pki.contosoRoot]), presented, 'mess.contoso.test');
    assert.deepEqual(
      r.chain.map((c) => c.sha256),
      presented.map((c) => c.sha256),
    );
    assert.equal(r.trusted, true);
    assert.equal(r.issuer?.keyId, pki.contosoIssuing01.keyId);
    assert.deepEqual(r.problems, ['misordered_chain']);
  });

  it('flags validity: expired, not yet valid and expiring soon, against the scan time', async () => {
    const now = new Date();
    const a = analyzer([pki.contosoRoot]);
    const expired = await pki.leaf(pki.contosoIssuing01, 'old.contoso.test', {
      notBefore: new Date(now.getTime() - 400 * DAY),
      notAfter: new Date(now.getTime() - DAY),
    });
    const future = await pki.leaf(pki.contosoIssuing01, 'new.contoso.test', {
      notBefore: new Date(now.getTime() + 2 * DAY),
      notAfter: new Date(now.getTime() + 300 * DAY),
    });
    const soon = await pki.leaf(pki.contosoIssuing01, 'soon.contoso.test', { notAfter: new Date(now.getTime() + 3 * DAY) });
    assert.deepEqual((await analyze(a, [expired, pki.contosoIssuing01], 'old.contoso.test', now)).problems, ['expired']);
    assert.deepEqual((await analyze(a, [future, pki.contosoIssuing01], 'new.contoso.test', now)).problems, ['not_yet_valid']);
    assert.deepEqual((await analyze(a, [soon, pki.contosoIssuing01], 'soon.contoso.test', now)).problems, ['expires_soon']);
    // The same chain judged 4 days later has expired: problems follow the clock, not a cache.
    const later = new Date(now.getTime() + 4 * DAY);
    assert.deepEqual((await analyze(a, [soon, pki.contosoIssuing01], 'soon.contoso.test', later)).problems, ['expired']);
  });

  it('flags SHA-1 signatures and small keys', async () => {
    const a = analyzer([pki.contosoRoot]);
    const sha1 = await pki.leaf(pki.contosoIssuing01, 'sha1.contoso.test', { hash: 'SHA-1' });
    const r1 = await analyze(a, [sha1, pki.contosoIssuing01], 'sha1.contoso.test');
    assert.equal(r1.chain[0]!.signatureAlgorithm, 'sha1WithRSAEncryption');
    assert.deepEqual(r1.problems, ['weak_signature']);
    const small = await pki.leaf(pki.contosoIssuing01, 'rsa1024.contoso.test', { key: 'rsa1024' });
    const r2 = await analyze(a, [small, pki.contosoIssuing01], 'rsa1024.contoso.test');
    assert.deepEqual(r2.chain[0]!.publicKey, { algorithm: 'RSA', bits: 1024 });
    assert.deepEqual(r2.problems, ['weak_key']);
    const ec = await pki.leaf(pki.contosoIssuing01, 'ec.contoso.test', { key: 'p256' });
    const r3 = await analyze(a, [ec, pki.contosoIssuing01], 'ec.contoso.test');
    assert.deepEqual(r3.chain[0]!.publicKey, { algorithm: 'EC', bits: 256, curve: 'prime256v1' });
    assert.deepEqual(r3.problems, []);
  });

  it('reports a self-signed leaf as self_signed and untrusted, and trusts it when pinned as an anchor', async () => {
    const self = await createSelfSigned({ commonName: 'selfie.contoso.test', dnsNames: ['selfie.contoso.test'] });
    const r = await analyze(analyzer([pki.contosoRoot]), [self], 'selfie.contoso.test');
    assert.deepEqual(r.problems, ['untrusted', 'self_signed']);
    assert.equal(r.issuer?.dn, self.subject);
    assert.equal(r.root?.sha256, self.sha256);
    const pinned = await analyze(analyzer([self]), [self], 'selfie.contoso.test');
    assert.equal(pinned.trusted, true);
    assert.deepEqual(pinned.problems, ['self_signed']);
  });

  it('matches hostnames: exact, wildcard one label deep, IP SANs, and reports a mismatch', async () => {
    const a = analyzer([pki.contosoRoot]);
    const wild = await issueLeaf(pki.contosoIssuing01, { commonName: '*.contoso.test', dnsNames: ['*.contoso.test'] });
    assert.equal((await analyze(a, [wild, pki.contosoIssuing01], 'meet.contoso.test')).hostnameMatch, true);
    assert.equal((await analyze(a, [wild, pki.contosoIssuing01], 'MEET.Contoso.Test.')).hostnameMatch, true);
    const deep = await analyze(a, [wild, pki.contosoIssuing01], 'a.b.contoso.test');
    assert.equal(deep.hostnameMatch, false);
    assert.deepEqual(deep.problems, ['hostname_mismatch']);
    const ip = await pki.leaf(pki.contosoIssuing01, '127.0.0.9');
    assert.equal((await analyze(a, [ip, pki.contosoIssuing01], '127.0.0.9')).hostnameMatch, true);
    assert.equal((await analyze(a, [ip, pki.contosoIssuing01], '127.0.0.8')).hostnameMatch, false);
  });

  it('does not trust a private hierarchy through the system roots alone', async () => {
    const leaf = await pki.leaf(pki.contosoIssuing01, 'pool01.contoso.test');
    const r = await analyze(analyzer([], true), [leaf, pki.contosoIssuing01, pki.contosoRoot], 'pool01.contoso.test');
    assert.equal(r.trusted, false);
    assert.deepEqual(r.problems, ['untrusted']);
    assert.equal(r.root?.sha256, pki.contosoRoot.sha256, 'root of an untrusted chain: the top of what was presented');
  });

  it('gives the same root identity to chains through different issuing CAs under one root', async () => {
    const a = analyzer([pki.contosoRoot]);
    const one = await analyze(a, [await pki.leaf(pki.contosoIssuing01, 'x.contoso.test'), pki.contosoIssuing01], 'x.contoso.test');
    const two = await analyze(a, [await pki.leaf(pki.contosoIssuing02, 'y.contoso.test'), pki.contosoIssuing02], 'y.contoso.test');
    assert.notEqual(one.issuer?.keyId, two.issuer?.keyId);
    assert.equal(one.root?.keyId, two.root?.keyId);
    const twinRoot = await analyze(
      analyzer([pki.contosoRoot, pki.contosoRootTwin]),
      [await pki.leaf(pki.contosoIssuing01UnderTwinRoot, 'z.contoso.test'), pki.contosoIssuing01UnderTwinRoot],
      'z.contoso.test',
    );
    assert.equal(twinRoot.root?.dn, one.root?.dn);
    assert.notEqual(twinRoot.root?.keyId, one.root?.keyId);
  });

  it('turns garbage into an error for the endpoint, never an exception', async () => {
    const a = analyzer([pki.contosoRoot]);
    const garbage = Buffer.from('30820a0b0c0d0e0f', 'hex');
    const bad = (await a.analyze([garbage], 'x', new Date())) as UnreadableLeaf;
    assert.match(bad.unreadable, /position 0/);
    assert.deepEqual(await a.analyze([], 'x', new Date()), { unreadable: 'the server sent an empty certificate list' });
    const leaf = await pki.leaf(pki.contosoIssuing01, 'stray.contoso.test');
    const r = await analyze(a, [leaf, pki.contosoIssuing01, Buffer.from('not a certificate')], 'stray.contoso.test');
    assert.equal(r.chain.length, 3);
    assert.match(r.chain[2]!.subject, /^\(unparsable certificate/);
    assert.deepEqual(r.problems, ['malformed_certificate'], 'the junk entry is reported once, as malformed');
    assert.equal(r.trusted, true);
  });
});
