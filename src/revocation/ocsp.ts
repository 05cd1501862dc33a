// OCSP (RFC 6960) with the ASN.1 schema library: the request for one certificate, and the checks
// a response must pass before its answer is believed: the responder is the issuer or a delegate
// the issuer certified for OCSP signing, the signature verifies, the answer is about this very
// certificate, the nonce (when echoed) is ours, and the answer is current.
import { createHash, X509Certificate as NodeX509, randomBytes } from 'node:crypto';
import type * as Asn1Ocsp from '@peculiar/asn1-ocsp';
import type * as Asn1X509 from '@peculiar/asn1-x509';
import type { ParsedCertificate } from '../chain/certificate.js';
import { asn1Schema, asn1X509, requireCommonJs, x509 } from '../chain/x509.js';
import { reasonName } from './reasons.js';
import { signatureProblem } from './signature.js';

const {
  BasicOCSPResponse,
  CertID,
  id_kp_OCSPSigning,
  id_pkix_ocsp_basic,
  id_pkix_ocsp_nonce,
  Nonce,
  OCSPRequest,
  OCSPResponse,
  OCSPResponseStatus,
  Request,
  TBSRequest,
} = requireCommonJs('@peculiar/asn1-ocsp') as typeof Asn1Ocsp;
const { AsnConvert, OctetString } = asn1Schema;
const { AlgorithmIdentifier, Certificate, Extension, SubjectPublicKeyInfo } = asn1X509;

const SHA1 = '1.3.14.3.2.26';
/** Clocks disagree; an answer this far in the future is still accepted. */
const CLOCK_SKEW_MS = 5 * 60_000;

export interface OcspQuery {
  der: Buffer;
  /** Sent in the request; a response that echoes a nonce must echo this one. */
  nonce: Buffer | null;
}

export type OcspAnswer =
  | {
      kind: 'answer';
      /** The responder's word for this certificate; its 'unknown' means it does not know it. */
      status: 'good' | 'revoked' | 'unknown';
      thisUpdate: Date;
      nextUpdate: Date | null;
      revokedAt: Date | null;
      reason: string | null;
    }
  | { kind: 'error'; error: string; responseStatus: string };

export function ocspQuery(cert: ParsedCertificate, issuer: ParsedCertificate, withNonce: boolean): OcspQuery {
  const nonce = withNonce ? randomBytes(16) : null;
  const tbs = new TBSRequest({ requestList: [new Request({ reqCert: certId(cert, issuer) })] });
  if (nonce) {
    tbs.requestExtensions = [
      new Extension({ extnID: id_pkix_ocsp_nonce, critical: false, extnValue: new OctetString(AsnConvert.serialize(new Nonce(nonce))) }),
    ];
  }
  return { der: Buffer.from(AsnConvert.serialize(new OCSPRequest({ tbsRequest: tbs }))), nonce };
}

/** The answer a response gives for `cert`, after every check; never throws. */
export function readOcspResponse(der: Buffer, cert: ParsedCertificate, issuer: ParsedCertificate, nonce: Buffer | null, now: Date): OcspAnswer {
  let response: Asn1Ocsp.OCSPResponse;
  try {
    response = AsnConvert.parse(der, OCSPResponse);
  } catch (err) {
    return invalid(`not an OCSP response (${(err as Error).message})`);
  }
  if (response.responseStatus !== OCSPResponseStatus.successful) {
    const name = OCSPResponseStatus[response.responseStatus] ?? String(response.responseStatus);
    return { kind: 'error', error: `the responder answered ${name}`, responseStatus: name };
  }
  if (!response.responseBytes || response.responseBytes.responseType !== id_pkix_ocsp_basic) {
    return invalid('the response is not a basic OCSP response');
  }
  let basic: Asn1Ocsp.BasicOCSPResponse;
  try {
    basic = AsnConvert.parse(response.responseBytes.response.buffer, BasicOCSPResponse);
  } catch (err) {
    return invalid(`the basic OCSP response cannot be read (${(err as Error).message})`);
  }
  const signerProblem = checkSigner(basic, issuer, now);
  if (signerProblem) return invalid(signerProblem);
  const tbs = basic.tbsResponseData;
  if (nonce) {
    const echoed = tbs.responseExtensions?.find((e) => e.extnID === id_pkix_ocsp_nonce);
    if (echoed && !sameNonce(echoed, nonce)) return invalid("the response carries another request's nonce (a replayed answer?)");
  }
  const wanted = certId(cert, issuer);
  const single = tbs.responses.find((r) => sameCertId(r, wanted));
  if (!single) return invalid(`the response says nothing about serial ${cert.info.serialNumber}`);
  if (single.thisUpdate.getTime() > now.getTime() + CLOCK_SKEW_MS)
    return invalid(`the answer's thisUpdate ${single.thisUpdate.toISOString()} is in the future`);
  if (single.nextUpdate && single.nextUpdate.getTime() < now.getTime()) {
    return invalid(`the answer expired at its nextUpdate ${single.nextUpdate.toISOString()} (stale)`);
  }
  const s = single.certStatus;
  const revoked = s.revoked;
  return {
    kind: 'answer',
    status: revoked ? 'revoked' : s.unknown !== undefined ? 'unknown' : 'good',
    thisUpdate: single.thisUpdate,
    nextUpdate: single.nextUpdate ?? null,
    revokedAt: revoked?.revocationTime ?? null,
    reason: revoked?.revocationReason !== undefined ? reasonName(revoked.revocationReason.reason) : null,
  };
}

function invalid(error: string): OcspAnswer {
  return { kind: 'error', error, responseStatus: 'invalid' };
}

/**
 * The response must be signed by the issuer itself, or by a responder certificate that the
 * issuer signed, that carries the OCSP-signing extended key usage and is valid now.
 */
function checkSigner(basic: Asn1Ocsp.BasicOCSPResponse, issuer: ParsedCertificate, now: Date): string | null {
  const tbsRaw = basic.tbsResponseDataRaw;
  if (!tbsRaw) return 'the response data cannot be read for its signature';
  const id = basic.tbsResponseData.responderID;
  const matches = (c: { subjectDer: ArrayBuffer; keyBits: ArrayBuffer }) =>
    id.byKey ? equal(sha1(c.keyBits), id.byKey.buffer) : id.byName ? equal(AsnConvert.serialize(id.byName), c.subjectDer) : false;
  const issuerParts = parts(issuer.der);
  if (matches(issuerParts)) {
    const problem = signatureProblem(basic.signatureAlgorithm.algorithm, tbsRaw, basic.signature, issuerParts.spki);
    return problem ? `signed by the issuer's name or key id, but ${problem} with the issuer's key` : null;
  }
  for (const cert of basic.certs ?? []) {
    const der = Buffer.from(AsnConvert.serialize(cert));
    const p = parts(der);
    if (!matches(p)) continue;
    const delegate = new NodeX509(der);
    const issuerKey = new NodeX509(issuer.der).publicKey;
    if (!delegate.verify(issuerKey)) return "the responder certificate in the response was not issued by the certificate's issuer";
    const eku = new x509.X509Certificate(der).getExtension(x509.ExtendedKeyUsageExtension);
    if (!eku?.usages.includes(id_kp_OCSPSigning)) return 'the responder certificate is not authorised for OCSP signing (no OCSPSigning extended key usage)';
    if (new Date(delegate.validTo).getTime() < now.getTime() || new Date(delegate.validFrom).getTime() > now.getTime()) {
      return 'the responder certificate is not valid now';
    }
    const problem = signatureProblem(basic.signatureAlgorithm.algorithm, tbsRaw, basic.signature, p.spki);
    return problem ? `${problem} with the delegated responder's key` : null;
  }
  return 'signed by neither the issuer nor a responder certificate it issued';
}

function certId(cert: ParsedCertificate, issuer: ParsedCertificate): Asn1Ocsp.CertID {
  const p = parts(issuer.der);
  const serial = AsnConvert.parse(cert.der, Certificate).tbsCertificate.serialNumber;
  return new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: SHA1, parameters: null }),
    issuerNameHash: new OctetString(sha1(p.subjectDer)),
    issuerKeyHash: new OctetString(sha1(p.keyBits)),
    serialNumber: serial,
  });
}

function sameCertId(r: Asn1Ocsp.SingleResponse, want: Asn1Ocsp.CertID): boolean {
  const got = r.certID;
  return (
    got.hashAlgorithm.algorithm === SHA1 &&
    equal(got.issuerNameHash.buffer, want.issuerNameHash.buffer) &&
    equal(got.issuerKeyHash.buffer, want.issuerKeyHash.buffer) &&
    serialHex(got.serialNumber) === serialHex(want.serialNumber)
  );
}

function sameNonce(ext: Asn1X509.Extension, nonce: Buffer): boolean {
  const value = Buffer.from(ext.extnValue.buffer);
  // Responders differ: most echo the OCTET STRING, some the bare bytes.
  if (value.equals(nonce)) return true;
  try {
    return Buffer.from(AsnConvert.parse(value, Nonce).buffer).equals(nonce);
  } catch {
    return false;
  }
}

function parts(der: Buffer): { subjectDer: ArrayBuffer; keyBits: ArrayBuffer; spki: Uint8Array } {
  const c = AsnConvert.parse(der, Certificate).tbsCertificate;
  const spki = new Uint8Array(AsnConvert.serialize(c.subjectPublicKeyInfo));
  return { subjectDer: AsnConvert.serialize(c.subject), keyBits: AsnConvert.parse(spki, SubjectPublicKeyInfo).subjectPublicKey, spki };
}

function sha1(data: ArrayBuffer): ArrayBuffer {
  const h = createHash('sha1').update(Buffer.from(data)).digest();
  return h.buffer.slice(h.byteOffset, h.byteOffset + h.length);
}

function equal(a: ArrayBuffer, b: ArrayBuffer): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

function serialHex(serial: ArrayBuffer): string {
  return Buffer.from(serial)
    .toString('hex')
    .replace(/^(00)+(?=.)/, '');
}
