// Certificates no CA tooling would issue, for the hostile-endpoint tests.
import { generateKeyPairSync } from 'node:crypto';
import { x509 } from '../../src/chain/x509.js';
import { type CertificateAuthority, signingKey } from '../../src/demo/pki.js';

const SUBJECT_ALT_NAME = '2.5.29.17';

/**
 * A leaf signed by `issuer` whose subjectAltName extension holds bytes that are not
 * GeneralNames (an OCTET STRING where a SEQUENCE belongs). The rest of it is well formed.
 */
export async function garbageSanLeaf(issuer: CertificateAuthority, commonName: string): Promise<Buffer> {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '0badc0de',
    subject: `CN=${commonName}`,
    issuer: new x509.X509Certificate(issuer.der).subject,
    notBefore: new Date(Date.now() - 86_400_000),
    notAfter: new Date(Date.now() + 90 * 86_400_000),
    publicKey: publicKey.export({ type: 'spki', format: 'der' }),
    signingKey: await signingKey(issuer, 'SHA-256'),
    signingAlgorithm: issuer.keySpec.startsWith('rsa') ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } : { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [new x509.Extension(SUBJECT_ALT_NAME, false, Buffer.from('0403deadbe', 'hex'))],
  });
  return Buffer.from(cert.rawData);
}
