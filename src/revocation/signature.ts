// Checks a signature made over DER bytes, the way X.509 structures sign (OCSP responses here):
// the algorithm comes from the AlgorithmIdentifier's OID, the key from the signer's SPKI.
import { createPublicKey, verify } from 'node:crypto';
import { signatureAlgorithmName } from '../chain/algorithms.js';

// OID → digest handed to OpenSSL (null: the algorithm hashes by itself, as EdDSA does).
const DIGESTS: Record<string, string | null> = {
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.14': 'sha224',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.1': 'sha1',
  '1.2.840.10045.4.3.1': 'sha224',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': null,
  '1.3.101.113': null,
};

/** Null when the signature verifies; otherwise why not, in words. */
export function signatureProblem(algorithmOid: string, signed: ArrayBuffer, signature: ArrayBuffer, signerSpki: Uint8Array): string | null {
  if (!(algorithmOid in DIGESTS)) return `signature algorithm ${signatureAlgorithmName(algorithmOid)} is not supported`;
  try {
    const key = createPublicKey({ key: Buffer.from(signerSpki), format: 'der', type: 'spki' });
    const ok = verify(DIGESTS[algorithmOid] ?? null, Buffer.from(signed), key, Buffer.from(signature));
    return ok ? null : 'the signature does not verify';
  } catch (err) {
    return `the signature cannot be checked (${(err as Error).message})`;
  }
}
