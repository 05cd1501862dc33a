// Signature algorithm names as operators know them from `openssl x509 -text`.
const SIGNATURE_NAMES: Record<string, string> = {
  '1.2.840.113549.1.1.2': 'md2WithRSAEncryption',
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'rsassaPss',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.113549.1.1.14': 'sha224WithRSAEncryption',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10045.4.3.1': 'ecdsa-with-SHA224',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
  '1.2.840.10040.4.3': 'dsa-with-SHA1',
  '2.16.840.1.101.3.4.3.2': 'dsa-with-SHA256',
  '1.3.101.112': 'ED25519',
  '1.3.101.113': 'ED448',
};

const WEAK_SIGNATURES = new Set(['1.2.840.113549.1.1.2', '1.2.840.113549.1.1.4', '1.2.840.113549.1.1.5', '1.2.840.10045.4.1', '1.2.840.10040.4.3']);

export function signatureAlgorithmName(oid: string): string {
  return SIGNATURE_NAMES[oid] ?? oid;
}

/** SHA-1 and MD5 (and MD2) signatures: collisions are practical, browsers refuse them. */
export function isWeakSignature(oid: string): boolean {
  return WEAK_SIGNATURES.has(oid);
}

const CURVE_BITS: Record<string, number> = {
  prime256v1: 256,
  'P-256': 256,
  secp256k1: 256,
  secp384r1: 384,
  'P-384': 384,
  secp521r1: 521,
  'P-521': 521,
  secp224r1: 224,
  prime192v1: 192,
};

export function curveBits(curve: string | undefined): number | null {
  return curve === undefined ? null : (CURVE_BITS[curve] ?? null);
}

/** RSA/DSA below 2048 bits and EC below 256 bits are within reach of a determined attacker. */
export function isWeakKey(algorithm: string, bits: number | null): boolean {
  if (bits === null) return false;
  if (algorithm === 'RSA' || algorithm === 'RSA-PSS' || algorithm === 'DSA') return bits < 2048;
  if (algorithm === 'EC') return bits < 256;
  return false;
}
