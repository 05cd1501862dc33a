import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { CertificateCache } from '../../src/chain/cache.js';
import { CertificateParseError } from '../../src/chain/certificate.js';
import { type StandardPki, standardPki } from '../helpers/fixtures.js';

let pki: StandardPki;

function parsed(cache: CertificateCache, der: Buffer) {
  const entry = cache.get(der);
  if (entry instanceof CertificateParseError) assert.fail(entry.message);
  return entry;
}

describe('certificate cache', () => {
  before(async () => {
    pki = await standardPki();
  });

  it('keeps a certificate in memory of its own, not in the pool slab its DER arrived in', async () => {
    const leaf = await pki.leaf(pki.contosoIssuing01, 'slab.contoso.test');
    // Small Buffers are slices of one shared 8 KiB slab: this one shares it with whatever came next.
    const arrived = Buffer.from(leaf.der);
    assert.ok(arrived.buffer.byteLength > arrived.length, 'the premise: the DER arrived in a shared slab');
    const held = parsed(new CertificateCache(), arrived);
    assert.equal(held.der.buffer.byteLength, held.der.length, 'the kept DER owns its whole ArrayBuffer');
    assert.ok(held.der.equals(leaf.der));
  });

  it('retainOnly forgets what is not kept; what is kept decodes again from its DER when next read', async () => {
    const cache = new CertificateCache();
    const a = parsed(cache, pki.contosoIssuing01.der);
    const b = parsed(cache, pki.contosoIssuing02.der);
    const decoded = a.cert;
    cache.retainOnly(new Set([a.info.sha256]));
    assert.equal(cache.size, 1);
    assert.equal(cache.get(pki.contosoIssuing01.der), a, 'a kept certificate is the same object');
    assert.notEqual(a.cert, decoded, 'its decoded form was let go and read again');
    assert.ok(Buffer.from(a.cert.rawData).equals(pki.contosoIssuing01.der));
    assert.equal(a.cert.subject, decoded.subject);
    assert.notEqual(cache.get(pki.contosoIssuing02.der), b, 'a forgotten certificate is parsed anew');
    assert.equal(cache.size, 2);
  });
});
