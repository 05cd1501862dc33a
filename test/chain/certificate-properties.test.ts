// Property-based fuzzing (fast-check) of the DER certificate reader: any bytes a server presents
// become a parsed certificate or a CertificateParseError, never another exception.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { CertificateParseError, parseCertificate } from '../../src/chain/certificate.js';
import { standardPki } from '../helpers/fixtures.js';
import { FUZZ, mutated, randomBytes } from '../support/fuzz.js';

describe('parseCertificate under arbitrary input (fast-check)', () => {
  let ders: Buffer[];
  before(async () => {
    const pki = await standardPki();
    const leaf = await pki.leaf(pki.contosoIssuing01, 'fuzz.contoso.test');
    ders = [leaf.der, pki.contosoIssuing01.der, pki.contosoRoot.der];
  });

  it('returns a certificate or throws CertificateParseError', () => {
    let parsed = 0;
    fc.assert(
      fc.property(fc.oneof(randomBytes, ...ders.map(mutated)), (der) => {
        try {
          const c = parseCertificate(der);
          assert.equal(c.info.sha256.length, 64);
          parsed++;
        } catch (err) {
          if (!(err instanceof CertificateParseError)) throw err;
        }
      }),
      FUZZ,
    );
    assert.ok(parsed > 0, 'some mutations still parse (a fuzzer that only makes garbage tests little)');
  });
});
