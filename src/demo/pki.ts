// Builds certificate hierarchies for the demo fleet and for tests: roots, issuing CAs (including
// same-name twins with different keys), leaves, and deliberately weak or broken certificates.
// @peculiar/x509 needs reflect-metadata loaded before it and a WebCrypto provider set.
import 'reflect-metadata';
import { createHash, generateKeyPair, type KeyObject, randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import { AsnConvert } from '@peculiar/asn1-schema';
import { BaseCRLNumber, CRLNumber, FreshestCRL } from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;

export type KeySpec = 'rsa2048' | 'rsa1024' | 'rsa3072' | 'p256' | 'p384';
export type HashSpec = 'SHA-256' | 'SHA-384' | 'SHA-1';

export interface IssuedCert {
  /** DN as @peculiar/x509 prints it, e.g. 'CN=Contoso Issuing CA 01, O=Contoso'. */
  subject: string;
  issuer: string;
  serialNumber: string;
  pem: string;
  der: Buffer;
  /** PKCS#8 PEM private key. */
  keyPem: string;
  keySpec: KeySpec;
  /** Lowercase hex SHA-256 of the certificate DER. */
  sha256: string;
  /** Lowercase hex SHA-256 of the SubjectPublicKeyInfo DER. */
  spkiSha256: string;
  /** Lowercase hex; null when the extension was omitted. */
  subjectKeyId: string | null;
  /** Lowercase hex; null when the extension was omitted. */
  authorityKeyId: string | null;
  notBefore: Date;
  notAfter: Date;
}

export interface CertificateAuthority extends IssuedCert {
  /** Always set for CAs, whether or not the certificate carries the extension: what children put in AKI. */
  keyId: string;
  privateKey: KeyObject;
}

export interface CertOptions {
  commonName: string;
  organization?: string;
  /** Default rsa2048. */
  key?: KeySpec;
  /** Hash of the signature on THIS certificate (made with the issuer's key). Default SHA-256. */
  hash?: HashSpec;
  /** Defaults: now - 1 day .. now + 365 days. */
  notBefore?: Date;
  notAfter?: Date;
  /** Hex. Default: 16 random bytes. */
  serialNumber?: string;
  /** CRL distribution points (any scheme) written into the certificate. */
  crlUrls?: string[];
  /** OCSP responders written into Authority Information Access. */
  ocspUrls?: string[];
  /** Delta CRL locations (Freshest CRL extension). */
  deltaCrlUrls?: string[];
}

export interface LeafOptions extends CertOptions {
  dnsNames?: string[];
  ipAddresses?: string[];
  omitAuthorityKeyId?: boolean;
  omitSubjectKeyId?: boolean;
  /** extendedKeyUsage serverAuth; default true. */
  serverAuth?: boolean;
  /** Generate a new key instead of taking one from the shared leaf-key pool. */
  freshKey?: boolean;
}

export interface IntermediateOptions extends CertOptions {
  omitSubjectKeyId?: boolean;
  /** basicConstraints pathLenConstraint; default none. */
  pathLength?: number;
}

export interface SelfSignedOptions extends CertOptions {
  dnsNames?: string[];
  ipAddresses?: string[];
  freshKey?: boolean;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const FRESHEST_CRL = '2.5.29.46';
const DELTA_CRL_INDICATOR = '2.5.29.27';
const CRL_NUMBER = '2.5.29.20';

interface KeyPair {
  spec: KeySpec;
  privateKey: KeyObject;
  spkiDer: Buffer;
}

function generateKey(spec: KeySpec): Promise<KeyPair> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, publicKey: KeyObject, privateKey: KeyObject): void => {
      if (err) reject(err);
      else resolve({ spec, privateKey, spkiDer: publicKey.export({ type: 'spki', format: 'der' }) });
    };
    switch (spec) {
      case 'rsa1024':
      case 'rsa2048':
      case 'rsa3072':
        generateKeyPair('rsa', { modulusLength: Number(spec.slice(3)), publicExponent: 0x10001 }, done);
        break;
      case 'p256':
        generateKeyPair('ec', { namedCurve: 'P-256' }, done);
        break;
      case 'p384':
        generateKeyPair('ec', { namedCurve: 'P-384' }, done);
        break;
      default:
        reject(new Error(`unknown key spec ${String(spec)}`));
    }
  });
}

// RSA key generation dominates fixture time, so leaves share a few keys per spec. CAs never do:
// telling same-name CAs apart by key is exactly what the product has to get right.
const LEAF_POOL_SIZE = 3;
const leafPool = new Map<KeySpec, { keys: Promise<KeyPair>[]; next: number }>();

function leafKey(spec: KeySpec): Promise<KeyPair> {
  let pool = leafPool.get(spec);
  if (!pool) {
    pool = { keys: [], next: 0 };
    leafPool.set(spec, pool);
  }
  if (pool.keys.length < LEAF_POOL_SIZE) {
    const key = generateKey(spec);
    pool.keys.push(key);
    return key;
  }
  const key = pool.keys[pool.next % pool.keys.length]!;
  pool.next++;
  return key;
}

const isRsa = (spec: KeySpec): boolean => spec.startsWith('rsa');

// WebCrypto binds the hash to an imported RSA key, so one issuer key is imported once per hash.
const signingKeys = new WeakMap<KeyObject, Map<HashSpec, Promise<CryptoKey>>>();

/** The issuer's private key as a WebCrypto key for signing with `hash` (certificates, CRLs). */
export function signingKey(ca: Pick<CertificateAuthority, 'privateKey' | 'keySpec'>, hash: HashSpec): Promise<CryptoKey> {
  let perHash = signingKeys.get(ca.privateKey);
  if (!perHash) {
    perHash = new Map();
    signingKeys.set(ca.privateKey, perHash);
  }
  let key = perHash.get(hash);
  if (!key) {
    const pkcs8 = ca.privateKey.export({ type: 'pkcs8', format: 'der' });
    const algorithm = isRsa(ca.keySpec) ? { name: 'RSASSA-PKCS1-v1_5', hash } : { name: 'ECDSA', namedCurve: ca.keySpec === 'p256' ? 'P-256' : 'P-384' };
    key = webcrypto.subtle.importKey('pkcs8', pkcs8, algorithm, false, ['sign']);
    perHash.set(hash, key);
  }
  return key;
}

function signingAlgorithm(spec: KeySpec, hash: HashSpec): webcrypto.Algorithm | webcrypto.EcdsaParams {
  return isRsa(spec) ? ({ name: 'RSASSA-PKCS1-v1_5', hash } as webcrypto.Algorithm) : { name: 'ECDSA', hash };
}

/** RFC 5280 section 4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING contents. */
async function keyIdentifier(spkiDer: Buffer): Promise<string> {
  const id = await new x509.PublicKey(spkiDer).getKeyIdentifier();
  return Buffer.from(id).toString('hex');
}

function randomSerial(): string {
  const bytes = randomBytes(16);
  // Positive and without a leading zero byte, so the DER INTEGER keeps all 16 bytes.
  bytes[0] = (bytes[0]! & 0x7f) | 0x10;
  return bytes.toString('hex');
}

function distinguishedName(o: CertOptions): x509.Name {
  if (!o.commonName) throw new Error('certificate needs a commonName');
  const parts: Record<string, string[]>[] = [{ CN: [o.commonName] }];
  if (o.organization) parts.push({ O: [o.organization] });
  return new x509.Name(parts);
}

function subjectAltNames(dnsNames: string[] = [], ipAddresses: string[] = []): x509.SubjectAlternativeNameExtension | null {
  for (const ip of ipAddresses) {
    if (isIP(ip) === 0) throw new Error(`not an IP address for subjectAltName: ${ip}`);
  }
  const names: x509.JsonGeneralName[] = [
    ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...ipAddresses.map((value) => ({ type: 'ip' as const, value })),
  ];
  return names.length > 0 ? new x509.SubjectAlternativeNameExtension(names, false) : null;
}

// The issuer field copies the issuer's subject DER exactly, not a re-encoding of its string form.
function subjectNameOf(ca: IssuedCert): x509.Name {
  return new x509.Name(new x509.X509Certificate(ca.der).subjectName.toArrayBuffer());
}

interface SignRequest {
  subject: x509.Name;
  issuer: x509.Name;
  subjectKey: KeyPair;
  signer: { privateKey: KeyObject; keySpec: KeySpec };
  o: CertOptions;
  extensions: x509.Extension[];
}

async function sign(r: SignRequest): Promise<IssuedCert> {
  const hash = r.o.hash ?? 'SHA-256';
  const now = Date.now();
  const notBefore = r.o.notBefore ?? new Date(now - DAY_MS);
  const notAfter = r.o.notAfter ?? new Date(now + 365 * DAY_MS);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: r.o.serialNumber ?? randomSerial(),
    subject: r.subject,
    issuer: r.issuer,
    notBefore,
    notAfter,
    publicKey: r.subjectKey.spkiDer,
    signingKey: await signingKey(r.signer, hash),
    signingAlgorithm: signingAlgorithm(r.signer.keySpec, hash),
    extensions: r.extensions,
  });
  const der = Buffer.from(cert.rawData);
  const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
  const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension);
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    serialNumber: cert.serialNumber.toLowerCase(),
    pem: `${cert.toString('pem')}\n`,
    der,
    keyPem: r.subjectKey.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    keySpec: r.subjectKey.spec,
    sha256: createHash('sha256').update(der).digest('hex'),
    spkiSha256: createHash('sha256').update(r.subjectKey.spkiDer).digest('hex'),
    subjectKeyId: ski ? ski.keyId.toLowerCase() : null,
    authorityKeyId: aki?.keyId ? aki.keyId.toLowerCase() : null,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
  };
}

function caExtensions(keyId: string, o: { omitSubjectKeyId?: boolean; pathLength?: number }, parentKeyId?: string): x509.Extension[] {
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(true, o.pathLength, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
  ];
  if (!o.omitSubjectKeyId) extensions.push(new x509.SubjectKeyIdentifierExtension(keyId, false));
  if (parentKeyId) extensions.push(new x509.AuthorityKeyIdentifierExtension(parentKeyId, false));
  return extensions;
}

/** A self-signed root CA with a fresh key. */
export async function createRootCa(o: CertOptions): Promise<CertificateAuthority> {
  const key = await generateKey(o.key ?? 'rsa2048');
  const keyId = await keyIdentifier(key.spkiDer);
  const name = distinguishedName(o);
  const cert = await sign({
    subject: name,
    issuer: name,
    subjectKey: key,
    signer: { privateKey: key.privateKey, keySpec: key.spec },
    o,
    extensions: caExtensions(keyId, {}),
  });
  return { ...cert, keyId, privateKey: key.privateKey };
}

/** An issuing (or intermediate) CA with a fresh key, signed by `parent`. */
export async function createIntermediateCa(parent: CertificateAuthority, o: IntermediateOptions): Promise<CertificateAuthority> {
  const key = await generateKey(o.key ?? 'rsa2048');
  const keyId = await keyIdentifier(key.spkiDer);
  const cert = await sign({
    subject: distinguishedName(o),
    issuer: subjectNameOf(parent),
    subjectKey: key,
    signer: parent,
    o,
    extensions: [...caExtensions(keyId, o, parent.keyId), ...revocationExtensions(o)],
  });
  return { ...cert, keyId, privateKey: key.privateKey };
}

/** A TLS server certificate signed by `issuer`; the key comes from a small shared pool unless freshKey. */
export async function issueLeaf(issuer: CertificateAuthority, o: LeafOptions): Promise<IssuedCert> {
  const spec = o.key ?? 'rsa2048';
  const key = await (o.freshKey ? generateKey(spec) : leafKey(spec));
  const extensions = [...leafExtensions(o), ...revocationExtensions(o)];
  if (!o.omitSubjectKeyId) extensions.push(new x509.SubjectKeyIdentifierExtension(await keyIdentifier(key.spkiDer), false));
  if (!o.omitAuthorityKeyId) extensions.push(new x509.AuthorityKeyIdentifierExtension(issuer.keyId, false));
  return sign({
    subject: distinguishedName(o),
    issuer: subjectNameOf(issuer),
    subjectKey: key,
    signer: issuer,
    o,
    extensions,
  });
}

/** A server certificate that signs itself (CA:false, as self-signed appliance certificates often are). */
export async function createSelfSigned(o: SelfSignedOptions): Promise<IssuedCert> {
  const spec = o.key ?? 'rsa2048';
  const key = await (o.freshKey ? generateKey(spec) : leafKey(spec));
  const keyId = await keyIdentifier(key.spkiDer);
  const name = distinguishedName(o);
  const extensions = leafExtensions(o);
  extensions.push(new x509.SubjectKeyIdentifierExtension(keyId, false));
  return sign({
    subject: name,
    issuer: name,
    subjectKey: key,
    signer: { privateKey: key.privateKey, keySpec: key.spec },
    o,
    extensions,
  });
}

function leafExtensions(o: { dnsNames?: string[]; ipAddresses?: string[]; serverAuth?: boolean }): x509.Extension[] {
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
  ];
  if (o.serverAuth !== false) extensions.push(new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false));
  const san = subjectAltNames(o.dnsNames, o.ipAddresses);
  if (san) extensions.push(san);
  return extensions;
}

/** Where the certificate's revocation status is published, as the options ask. */
function revocationExtensions(o: Pick<CertOptions, 'crlUrls' | 'ocspUrls' | 'deltaCrlUrls'>): x509.Extension[] {
  const extensions: x509.Extension[] = [];
  if (o.crlUrls?.length) extensions.push(new x509.CRLDistributionPointsExtension(o.crlUrls));
  if (o.ocspUrls?.length) extensions.push(new x509.AuthorityInfoAccessExtension({ ocsp: o.ocspUrls }));
  if (o.deltaCrlUrls?.length) {
    const points = new x509.CRLDistributionPointsExtension(o.deltaCrlUrls);
    extensions.push(new x509.Extension(FRESHEST_CRL, false, AsnConvert.serialize(new FreshestCRL(points.distributionPoints))));
  }
  return extensions;
}

/** Client certificate for MTLS tests and the demo: like a leaf, but with EKU clientAuth. */
export async function issueClientCert(issuer: CertificateAuthority, o: CertOptions & { freshKey?: boolean }): Promise<IssuedCert> {
  const spec = o.key ?? 'rsa2048';
  const key = await (o.freshKey ? generateKey(spec) : leafKey(spec));
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], false),
    new x509.SubjectKeyIdentifierExtension(await keyIdentifier(key.spkiDer), false),
    new x509.AuthorityKeyIdentifierExtension(issuer.keyId, false),
  ];
  return sign({
    subject: distinguishedName(o),
    issuer: subjectNameOf(issuer),
    subjectKey: key,
    signer: issuer,
    o,
    extensions,
  });
}

export interface RevokedEntry {
  /** Hex serial of the revoked certificate. */
  serialNumber: string;
  revokedAt?: Date;
  reason?: x509.X509CrlReason;
}

export interface CrlOptions {
  revoked?: RevokedEntry[];
  /** Defaults: now - 1 hour .. now + 7 days. */
  thisUpdate?: Date;
  nextUpdate?: Date;
  /** CRL number; default 1. */
  number?: number;
  /** Make it a delta CRL on top of base CRL number `deltaOf`. */
  deltaOf?: number;
  /** Delta CRL locations named in the CRL itself. */
  deltaCrlUrls?: string[];
}

/** A CRL signed by `ca` (or, for tests of forged CRLs, by `signer`'s key under ca's name), DER. */
export async function issueCrl(
  ca: CertificateAuthority,
  o: CrlOptions = {},
  signer: Pick<CertificateAuthority, 'privateKey' | 'keySpec'> = ca,
): Promise<Buffer> {
  const now = Date.now();
  const extensions: x509.Extension[] = [
    new x509.AuthorityKeyIdentifierExtension(ca.keyId, false),
    new x509.Extension(CRL_NUMBER, false, AsnConvert.serialize(new CRLNumber(o.number ?? 1))),
  ];
  if (o.deltaOf !== undefined) extensions.push(new x509.Extension(DELTA_CRL_INDICATOR, true, AsnConvert.serialize(new BaseCRLNumber(o.deltaOf))));
  if (o.deltaCrlUrls?.length) {
    const points = new x509.CRLDistributionPointsExtension(o.deltaCrlUrls);
    extensions.push(new x509.Extension(FRESHEST_CRL, false, AsnConvert.serialize(new FreshestCRL(points.distributionPoints))));
  }
  const crl = await x509.X509CrlGenerator.create({
    issuer: subjectNameOf(ca),
    thisUpdate: o.thisUpdate ?? new Date(now - 3_600_000),
    nextUpdate: o.nextUpdate ?? new Date(now + 7 * DAY_MS),
    entries: (o.revoked ?? []).map((r) => ({ serialNumber: r.serialNumber, revocationDate: r.revokedAt ?? new Date(now - DAY_MS), reason: r.reason })),
    extensions,
    signingKey: await signingKey(signer, 'SHA-256'),
    signingAlgorithm: signingAlgorithm(signer.keySpec, 'SHA-256'),
  });
  return Buffer.from(crl.rawData);
}

/** A delegated OCSP responder certificate: issued by `ca`, extended key usage OCSPSigning only. */
export async function issueOcspResponder(ca: CertificateAuthority, o: CertOptions): Promise<IssuedCert> {
  const key = await generateKey(o.key ?? 'rsa2048');
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.9'], false),
    new x509.SubjectKeyIdentifierExtension(await keyIdentifier(key.spkiDer), false),
    new x509.AuthorityKeyIdentifierExtension(ca.keyId, false),
  ];
  return sign({ subject: distinguishedName(o), issuer: subjectNameOf(ca), subjectKey: key, signer: ca, o, extensions });
}
