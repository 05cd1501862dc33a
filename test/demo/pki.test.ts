import 'reflect-metadata';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as x509 from '@peculiar/x509';
import { createRootCa, createSelfSigned, type IssuedCert, issueLeaf } from '../../src/demo/pki.js';
import { chainPems, standardPki } from '../helpers/fixtures.js';

const node = (c: IssuedCert): X509Certificate => new X509Certificate(c.der);
const parsed = (c: IssuedCert): x509.X509Certificate => new x509.X509Certificate(c.der);
const opensslText = (c: IssuedCert): string => execFileSync('openssl', ['x509', '-noout', '-text'], { input: c.pem, encoding: 'utf8' });

/** Minimal DER walk: [tag, header length, content length] at `at`. */
function tlv(der: Buffer, at: number): [number, number, number] {
  const first = der[at + 1]!;
  if (first < 0x80) return [der[at]!, 2, first];
  const n = first & 0x7f;
  return [der[at]!, 2 + n, der.readUIntBE(at + 2, n)];
}

/** RFC 5280 4.2.1.2 method 1, computed independently of the code under test. */
function method1KeyId(c: IssuedCert): string {
  const spki = node(c).publicKey.export({ type: 'spki', format: 'der' });
  const [, outerHeader] = tlv(spki, 0);
  const [, algHeader, algLength] = tlv(spki, outerHeader);
  const bitStringAt = outerHeader + algHeader + algLength;
  const [tag, header, length] = tlv(spki, bitStringAt);
  assert.equal(tag, 0x03);
  // Skip the unused-bits octet of the BIT STRING.
  const key = spki.subarray(bitStringAt + header + 1, bitStringAt + header + length);
  return createHash('sha1').update(key).digest('hex');
}

test('standard PKI: every issued chain verifies link by link with node', async (t) => {
  const started = performance.now();
  const pki = await standardPki();
  const leaf = await pki.leaf(pki.contosoIssuing01, 'pool01.contoso.local');
  const pairs: [IssuedCert, IssuedCert][] = [
    [leaf, pki.contosoIssuing01],
    [pki.contosoIssuing01, pki.contosoRoot],
    [pki.contosoIssuing02, pki.contosoRoot],
    [pki.contosoIssuing01Twin, pki.contosoRoot],
    [pki.contosoIssuing01UnderTwinRoot, pki.contosoRootTwin],
    [pki.fabrikamTlsCa, pki.fabrikamRoot],
    [pki.contosoRoot, pki.contosoRoot],
    [pki.contosoRootTwin, pki.contosoRootTwin],
    [pki.fabrikamRoot, pki.fabrikamRoot],
  ];
  for (const [child, issuer] of pairs) {
    assert.ok(node(child).checkIssued(node(issuer)), `${child.subject} names ${issuer.subject} as issuer`);
    assert.ok(node(child).verify(node(issuer).publicKey), `${child.subject} is signed by ${issuer.subject}`);
  }
  assert.deepEqual(
    [pki.contosoRoot, pki.contosoIssuing01, pki.contosoIssuing02, pki.fabrikamRoot, pki.fabrikamTlsCa].map((c) => c.subject),
    [
      'CN=Contoso Root CA, O=Contoso',
      'CN=Contoso Issuing CA 01, O=Contoso',
      'CN=Contoso Issuing CA 02, O=Contoso',
      'CN=Fabrikam Root CA, O=Fabrikam',
      'CN=Fabrikam TLS CA, O=Fabrikam',
    ],
  );
  assert.deepEqual(chainPems(leaf, pki.contosoIssuing01), [leaf.pem, pki.contosoIssuing01.pem]);
  // openssl agrees on the whole path, and rejects it under the twin root.
  const dir = mkdtempSync(join(tmpdir(), 'chainwatch-pki-'));
  try {
    const write = (name: string, ...certs: IssuedCert[]): string => {
      writeFileSync(join(dir, name), chainPems(...certs).join(''));
      return join(dir, name);
    };
    const verify = (root: IssuedCert): string =>
      execFileSync('openssl', ['verify', '-CAfile', write('root.pem', root), '-untrusted', write('ica.pem', pki.contosoIssuing01), write('leaf.pem', leaf)], {
        encoding: 'utf8',
        stdio: 'pipe',
      });
    assert.match(verify(pki.contosoRoot), /leaf\.pem: OK/);
    assert.throws(() => verify(pki.contosoRootTwin), /certificate signature failure|unable to get/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  t.diagnostic(`standard PKI and one leaf built in ${(performance.now() - started).toFixed(0)} ms`);
});

test('twins share a name but not a key, and are told apart by signature', async () => {
  const pki = await standardPki();
  const { contosoIssuing01: ca, contosoIssuing01Twin: twin, contosoIssuing01UnderTwinRoot: underTwin } = pki;
  for (const other of [twin, underTwin]) {
    assert.equal(other.subject, ca.subject);
    assert.notEqual(other.spkiSha256, ca.spkiSha256);
    assert.notEqual(other.subjectKeyId, ca.subjectKeyId);
  }
  assert.equal(pki.contosoRootTwin.subject, pki.contosoRoot.subject);
  assert.notEqual(pki.contosoRootTwin.spkiSha256, pki.contosoRoot.spkiSha256);

  const leaf = await pki.leaf(ca, 'pool01.contoso.local');
  assert.equal(leaf.issuer, twin.subject, 'by name the twin looks like the issuer');
  assert.equal(node(leaf).checkIssued(node(twin)), false, 'the authority key id tells them apart');
  assert.equal(node(leaf).verify(node(twin).publicKey), false, 'and so does the signature');
  const noAki = await pki.leaf(ca, 'noaki.contoso.local', { omitAuthorityKeyId: true });
  assert.ok(node(noAki).checkIssued(node(twin)), 'without AKI only the signature tells them apart');
  assert.equal(node(noAki).verify(node(twin).publicKey), false);
  assert.ok(node(noAki).verify(node(ca).publicKey));
  assert.equal(node(underTwin).verify(node(pki.contosoRoot).publicKey), false);
  assert.equal(leaf.authorityKeyId, ca.subjectKeyId);
});

test('CA extensions: critical CA basicConstraints, keyCertSign+cRLSign, RFC 5280 method 1 SKI, AKI = issuer SKI', async () => {
  const pki = await standardPki();
  for (const ca of [pki.contosoRoot, pki.contosoIssuing01, pki.fabrikamTlsCa]) {
    const cert = parsed(ca);
    const bc = cert.getExtension(x509.BasicConstraintsExtension);
    assert.ok(bc?.ca && bc.critical, `${ca.subject} is a CA (critical)`);
    const ku = cert.getExtension(x509.KeyUsagesExtension);
    assert.equal(ku?.usages, x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    assert.equal(ca.subjectKeyId, method1KeyId(ca));
    assert.equal(ca.keyId, ca.subjectKeyId);
    assert.equal(
      ca.spkiSha256,
      createHash('sha256')
        .update(node(ca).publicKey.export({ type: 'spki', format: 'der' }))
        .digest('hex'),
    );
    assert.equal(ca.sha256, createHash('sha256').update(ca.der).digest('hex'));
    assert.equal(node(ca).fingerprint256.replaceAll(':', '').toLowerCase(), ca.sha256);
  }
  assert.equal(pki.contosoRoot.authorityKeyId, null, 'roots carry no AKI');
  assert.equal(pki.contosoIssuing01.authorityKeyId, pki.contosoRoot.subjectKeyId);
  assert.equal(pki.fabrikamTlsCa.authorityKeyId, pki.fabrikamRoot.subjectKeyId);
  assert.match(opensslText(pki.contosoIssuing01), /Basic Constraints: critical\s+CA:TRUE/);
});

test('leaf extensions: CA:false, server key usages, EKU serverAuth, SAN with DNS and IP names', async () => {
  const pki = await standardPki();
  const leaf = await pki.leaf(pki.contosoIssuing02, 'pool02.contoso.local', {
    dnsNames: ['pool02.contoso.local', '*.pool02.contoso.local'],
    ipAddresses: ['127.0.0.9', '::1'],
  });
  const cert = parsed(leaf);
  assert.equal(cert.getExtension(x509.BasicConstraintsExtension)?.ca, false);
  assert.equal(cert.getExtension(x509.KeyUsagesExtension)?.usages, x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment);
  assert.deepEqual([...(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])], [x509.ExtendedKeyUsage.serverAuth]);
  assert.equal(node(leaf).subjectAltName, 'DNS:pool02.contoso.local, DNS:*.pool02.contoso.local, IP Address:127.0.0.9, IP Address:0:0:0:0:0:0:0:1');
  assert.equal(node(leaf).checkHost('x.pool02.contoso.local'), '*.pool02.contoso.local');
  assert.equal(node(leaf).checkIP('127.0.0.9'), '127.0.0.9');
  assert.equal(leaf.subjectKeyId, method1KeyId(leaf));
  assert.equal(leaf.authorityKeyId, pki.contosoIssuing02.subjectKeyId);

  const byIp = await pki.leaf(pki.contosoIssuing02, '127.0.0.7');
  assert.equal(node(byIp).subjectAltName, 'IP Address:127.0.0.7');
});

test('weak certificates really are weak: SHA-1 signature, RSA-1024 key; EC keys and SHA-384 too', async () => {
  const pki = await standardPki();
  const sha1 = await pki.leaf(pki.contosoIssuing01, 'legacy.contoso.local', { hash: 'SHA-1', key: 'rsa1024' });
  const text = opensslText(sha1);
  assert.match(text, /Signature Algorithm: sha1WithRSAEncryption/);
  assert.match(text, /Public-Key: \(1024 bit\)/);
  assert.ok(node(sha1).verify(node(pki.contosoIssuing01).publicKey));

  const ec = await pki.leaf(pki.contosoIssuing01, 'ec.contoso.local', { key: 'p384', hash: 'SHA-384' });
  assert.match(opensslText(ec), /Signature Algorithm: sha384WithRSAEncryption[\s\S]*NIST CURVE: P-384/);

  const ecRoot = await createRootCa({ commonName: 'EC Root', key: 'p256', hash: 'SHA-384' });
  const ecLeaf = await issueLeaf(ecRoot, { commonName: 'ec', key: 'p256', hash: 'SHA-1' });
  assert.match(opensslText(ecRoot), /Signature Algorithm: ecdsa-with-SHA384/);
  assert.match(opensslText(ecLeaf), /Signature Algorithm: ecdsa-with-SHA1/);
  assert.ok(node(ecLeaf).verify(node(ecRoot).publicKey));
  assert.ok(node(ecRoot).verify(node(ecRoot).publicKey));
});

test('options: validity, serial, omitted key identifiers and EKU, self-signed', async () => {
  const pki = await standardPki();
  const notBefore = new Date('2020-01-01T00:00:00Z');
  const notAfter = new Date('2021-01-01T00:00:00Z');
  const expired = await issueLeaf(pki.contosoIssuing01, {
    commonName: 'old.contoso.local',
    notBefore,
    notAfter,
    serialNumber: '01a2b3',
    omitAuthorityKeyId: true,
    omitSubjectKeyId: true,
    serverAuth: false,
  });
  assert.equal(expired.notBefore.toISOString(), notBefore.toISOString());
  assert.equal(new Date(node(expired).validTo).toISOString(), notAfter.toISOString());
  assert.equal(node(expired).serialNumber.toLowerCase(), '01a2b3');
  assert.equal(expired.subjectKeyId, null);
  assert.equal(expired.authorityKeyId, null);
  assert.equal(parsed(expired).getExtension(x509.ExtendedKeyUsageExtension), null);
  assert.ok(node(expired).verify(node(pki.contosoIssuing01).publicKey));

  const defaults = await pki.leaf(pki.contosoIssuing01, 'pool01.contoso.local');
  const day = 24 * 60 * 60 * 1000;
  assert.ok(Math.abs(defaults.notBefore.getTime() - (Date.now() - day)) < 5 * 60 * 1000);
  assert.ok(Math.abs(defaults.notAfter.getTime() - (Date.now() + 365 * day)) < 5 * 60 * 1000);

  const self = await createSelfSigned({ commonName: 'appliance.contoso.local', dnsNames: ['appliance.contoso.local'] });
  assert.equal(self.subject, self.issuer);
  assert.ok(node(self).verify(node(self).publicKey));
  assert.equal(parsed(self).getExtension(x509.BasicConstraintsExtension)?.ca, false);
});

test('every CA gets a fresh key; fixtures and leaves are memoised', async () => {
  const [a, b] = await Promise.all([createRootCa({ commonName: 'Same Name', key: 'p256' }), createRootCa({ commonName: 'Same Name', key: 'p256' })]);
  assert.notEqual(a.spkiSha256, b.spkiSha256);

  assert.equal(await standardPki(), await standardPki());
  const pki = await standardPki();
  const one = await pki.leaf(pki.contosoIssuing01, 'memo.contoso.local');
  assert.equal(await pki.leaf(pki.contosoIssuing01, 'memo.contoso.local'), one);
  assert.notEqual(await pki.leaf(pki.contosoIssuing02, 'memo.contoso.local'), one);
  assert.notEqual(await pki.leaf(pki.contosoIssuing01, 'memo.contoso.local', { hash: 'SHA-1' }), one);
  const fresh = await issueLeaf(pki.contosoIssuing01, { commonName: 'fresh', freshKey: true });
  const pooled = await Promise.all([1, 2, 3, 4].map((i) => issueLeaf(pki.contosoIssuing01, { commonName: `p${i}` })));
  assert.ok(
    pooled.every((p) => p.spkiSha256 !== fresh.spkiSha256),
    'freshKey never comes from the pool',
  );
});
