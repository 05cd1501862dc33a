import { createHash, createPublicKey } from 'node:crypto';
import type * as X509 from '@peculiar/x509';
import { curveBits, signatureAlgorithmName } from './algorithms.js';
import type { CertificateInfo, PublicKeyInfo } from './types.js';
import { x509 } from './x509.js';

/** A presented or trusted certificate, parsed once and shared by every endpoint that shows it. */
export interface ParsedCertificate {
  /** The DER in memory of its own (never a slice of a shared pool slab). */
  readonly der: Buffer;
  /** The decoded structure (signatures, extensions); see HeldCertificate for its lifetime. */
  readonly cert: X509.X509Certificate;
  info: CertificateInfo;
  notBefore: Date;
  notAfter: Date;
  signatureOid: string;
  /** Subject and issuer names are equal; whether the signature verifies is checked separately. */
  selfIssued: boolean;
  /** An extension is present but does not decode (read as absent); the chain gets malformed_certificate. */
  unreadableExtension: boolean;
}

/** Thrown for bytes that are not an X.509 certificate; the message says what was wrong. */
export class CertificateParseError extends Error {}

// A presented certificate larger than this is hostile or broken; nothing legitimate comes close.
const MAX_CERTIFICATE_BYTES = 64 * 1024;

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function normalizeHex(hex: string): string {
  return hex.replace(/[:\s]/g, '').toLowerCase();
}

export function parseCertificate(der: Buffer): HeldCertificate {
  if (der.length === 0) throw new CertificateParseError('empty certificate entry');
  if (der.length > MAX_CERTIFICATE_BYTES) {
    throw new CertificateParseError(`certificate entry of ${der.length} bytes exceeds ${MAX_CERTIFICATE_BYTES}`);
  }
  let cert: X509.X509Certificate;
  try {
    cert = decode(der);
  } catch (err) {
    throw new CertificateParseError(`not a DER X.509 certificate (${(err as Error).message})`);
  }
  try {
    return describe(ownCopy(der), cert);
  } catch (err) {
    throw new CertificateParseError(`malformed X.509 certificate (${(err as Error).message})`);
  }
}

function decode(der: Buffer): X509.X509Certificate {
  return new x509.X509Certificate(new Uint8Array(der));
}

/**
 * A small Buffer is a slice of an 8 KiB pool slab shared with whatever else was allocated next to
 * it; keeping the slice keeps the whole slab. A certificate kept across scans gets its own memory.
 */
function ownCopy(der: Buffer): Buffer {
  const own = Buffer.allocUnsafeSlow(der.length);
  der.copy(own);
  return own;
}

/**
 * The decoded structure is most of a parsed certificate's memory (about 8 KB of objects against
 * the 2 KB of what reports show) and only path building and revocation checks read it. It is
 * decoded again from the DER on first use after release(), which the parse cache calls after
 * every scan: a fleet of distinct leaves then holds its DER and report fields between scans.
 */
export class HeldCertificate implements ParsedCertificate {
  #decoded: X509.X509Certificate | null;

  constructor(
    readonly der: Buffer,
    decoded: X509.X509Certificate,
    readonly info: CertificateInfo,
    readonly notBefore: Date,
    readonly notAfter: Date,
    readonly signatureOid: string,
    readonly selfIssued: boolean,
    readonly unreadableExtension: boolean,
  ) {
    this.#decoded = decoded;
  }

  get cert(): X509.X509Certificate {
    this.#decoded ??= decode(this.der);
    return this.#decoded;
  }

  release(): void {
    this.#decoded = null;
  }
}

/**
 * An extension, decoded by the library on first access; one that does not decode is read as
 * absent and flagged, so one garbage extension does not hide the rest of the certificate.
 */
function extension<T extends X509.Extension>(cert: X509.X509Certificate, type: new (raw: ArrayBuffer) => T, flag: { unreadable: boolean }): T | null {
  try {
    return cert.getExtension(type);
  } catch {
    flag.unreadable = true;
    return null;
  }
}

function describe(der: Buffer, cert: X509.X509Certificate): HeldCertificate {
  const spki = Buffer.from(cert.publicKey.rawData);
  const flag = { unreadable: false };
  const ski = extension(cert, x509.SubjectKeyIdentifierExtension, flag);
  const aki = extension(cert, x509.AuthorityKeyIdentifierExtension, flag);
  const basic = extension(cert, x509.BasicConstraintsExtension, flag);
  const san = extension(cert, x509.SubjectAlternativeNameExtension, flag);
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  for (const name of san?.names.items ?? []) {
    if (name.type === 'dns') dnsNames.push(name.value);
    else if (name.type === 'ip') ipAddresses.push(name.value);
  }
  // The library exposes the signature algorithm only as a WebCrypto name; reports want the OID's name.
  const signatureOid = (cert as unknown as { asn: { signatureAlgorithm: { algorithm: string } } }).asn.signatureAlgorithm.algorithm;
  const notBefore = cert.notBefore;
  const notAfter = cert.notAfter;
  const info: CertificateInfo = {
    subject: cert.subject,
    issuer: cert.issuer,
    serialNumber: normalizeHex(cert.serialNumber),
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
    sha256: sha256Hex(der),
    spkiSha256: sha256Hex(spki),
    subjectKeyId: ski ? normalizeHex(ski.keyId) : null,
    authorityKeyId: aki?.keyId ? normalizeHex(aki.keyId) : null,
    signatureAlgorithm: signatureAlgorithmName(signatureOid),
    publicKey: describeKey(spki),
    dnsNames,
    ipAddresses,
    isCA: basic?.ca ?? false,
  };
  return new HeldCertificate(der, cert, info, notBefore, notAfter, signatureOid, cert.subject === cert.issuer, flag.unreadable);
}

function describeKey(spki: Buffer): PublicKeyInfo {
  try {
    const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    const details = key.asymmetricKeyDetails ?? {};
    switch (key.asymmetricKeyType) {
      case 'rsa':
        return { algorithm: 'RSA', bits: details.modulusLength ?? null };
      case 'rsa-pss':
        return { algorithm: 'RSA-PSS', bits: details.modulusLength ?? null };
      case 'dsa':
        return { algorithm: 'DSA', bits: details.modulusLength ?? null };
      case 'ec':
        return { algorithm: 'EC', bits: curveBits(details.namedCurve), curve: details.namedCurve };
      case 'ed25519':
        return { algorithm: 'Ed25519', bits: 256 };
      case 'ed448':
        return { algorithm: 'Ed448', bits: 456 };
      default:
        return { algorithm: String(key.asymmetricKeyType ?? 'unknown'), bits: null };
    }
  } catch {
    // A key OpenSSL cannot load (exotic curve, broken encoding) is still a certificate to report.
    return { algorithm: 'unknown', bits: null };
  }
}
