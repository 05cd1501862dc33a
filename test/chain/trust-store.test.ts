// The trust store indexes its anchors from the DER and parses one only when a path asks for its
// subject: the index must name and key every anchor exactly as the full parse does, or paths
// would miss anchors and re-issued anchors would not be recognised.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rootCertificates } from 'node:tls';
import { CertificateCache } from '../../src/chain/cache.js';
import { CertificateParseError, type ParsedCertificate, parseCertificate } from '../../src/chain/certificate.js';
import { TrustStore } from '../../src/chain/trust-store.js';
import { createIntermediateCa, createRootCa } from '../../src/demo/pki.js';
import { pemCertificatesDer } from '../../src/util/pem.js';

/** A certificate as isAnchor sees it: another DER with this name and key (a re-issued anchor). */
function sameNameAndKey(cert: ParsedCertificate, spkiSha256 = cert.info.spkiSha256): ParsedCertificate {
  return { ...cert, info: { ...cert.info, sha256: '00'.repeat(32), spkiSha256 } };
}

test('every bundled root is found by its subject and recognised by its DER and by its name and key', () => {
  const store = new TrustStore([], true, new CertificateCache());
  const roots = rootCertificates.flatMap(pemCertificatesDer).map((der) => parseCertificate(der));
  assert.ok(roots.length > 100);
  for (const root of roots) {
    assert.ok(!(root instanceof CertificateParseError));
    const found = [...store.anchorsWhere((subject) => subject === root.info.subject)].map((a) => a.info.sha256);
    assert.ok(found.includes(root.info.sha256), root.info.subject);
    assert.ok(store.isAnchor(root), root.info.subject);
    assert.ok(store.isAnchor(sameNameAndKey(root)), `re-issued ${root.info.subject}`);
    assert.equal(store.isAnchor(sameNameAndKey(root, 'ff'.repeat(32))), false, `${root.info.subject} with another key`);
  }
});

test('configured anchors are parsed only when a path asks for their subject, in store order', async () => {
  const root = await createRootCa({ commonName: 'Store Root CA' });
  const issuing = await createIntermediateCa(root, { commonName: 'Store Issuing CA' });
  const cache = new CertificateCache();
  const store = new TrustStore([issuing.pem, root.pem], false, cache);
  assert.equal(cache.size, 0, 'nothing parsed before a path asks');
  assert.equal(store.anchors.length, 0);
  assert.deepEqual(
    [...store.anchorsWhere((subject) => subject === 'CN=Store Root CA')].map((a) => a.info.subject),
    ['CN=Store Root CA'],
  );
  assert.deepEqual(
    store.anchors.map((a) => a.info.subject),
    ['CN=Store Root CA'],
    'only the anchor asked for is parsed',
  );
  const asked: string[] = [];
  const all = [
    ...store.anchorsWhere((subject) => {
      asked.push(subject);
      return true;
    }),
  ].map((a) => a.info.subject);
  assert.deepEqual(all, asked);
  assert.deepEqual(all, ['CN=Store Issuing CA', 'CN=Store Root CA']);
  assert.deepEqual(
    store.anchors.map((a) => a.info.subject),
    ['CN=Store Issuing CA', 'CN=Store Root CA'],
  );
});
