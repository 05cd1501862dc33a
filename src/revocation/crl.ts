// A CRL is believed only when the issuer's own key verifies it: a CRL signed by another key is an
// error, never a "good". Delta CRLs add to (or, with removeFromCRL, take from) their base.
import type * as X509 from '@peculiar/x509';
import type { ParsedCertificate } from '../chain/certificate.js';
import { asn1Schema, asn1X509, x509 } from '../chain/x509.js';
import { reasonName } from './reasons.js';

const { AsnConvert } = asn1Schema;
const { BaseCRLNumber, CRLNumber, id_ce_cRLNumber, id_ce_deltaCRLIndicator } = asn1X509;

/** Null when the CRL is the issuer's (name and key); otherwise what is wrong with it. */
export async function crlProblem(crl: X509.X509Crl, issuer: ParsedCertificate): Promise<string | null> {
  let verified: boolean;
  try {
    verified = await crl.verify({ publicKey: issuer.cert });
  } catch (err) {
    return `its signature cannot be checked (${(err as Error).message})`;
  }
  if (!verified)
    return `it is signed by another key than the issuer's (${issuer.info.subject}, key id ${issuer.info.subjectKeyId ?? issuer.info.spkiSha256}); it is not believed`;
  if (crl.issuer !== issuer.info.subject) return `it is issued by ${crl.issuer}, not by ${issuer.info.subject} (indirect CRLs are not supported)`;
  return null;
}

/** DER as RFC 5280 publishes it, or PEM as some CAs serve it anyway. */
export function parseCrl(body: Buffer): X509.X509Crl | string {
  try {
    const pem = body.subarray(0, 64).toString('latin1').trimStart().startsWith('-----BEGIN');
    const crl = new x509.X509Crl(pem ? body.toString('latin1') : body);
    void crl.thisUpdate; // parse the fields every later step reads, so a broken CRL fails here
    return crl;
  } catch (err) {
    return `the answer is not a CRL (${(err as Error).message})`;
  }
}

export interface CrlEntryFound {
  revokedAt: Date;
  reason: string | null;
}

export function findEntry(crl: X509.X509Crl, cert: ParsedCertificate): CrlEntryFound | null {
  const entry = crl.findRevoked(cert.cert);
  return entry ? { revokedAt: entry.revocationDate, reason: entry.reason === undefined ? null : reasonName(entry.reason) } : null;
}

export function isDelta(crl: X509.X509Crl): boolean {
  return crl.getExtension(id_ce_deltaCRLIndicator) !== null;
}

/** A delta applies to a base whose CRL number is at least the delta's base CRL number. */
export function deltaFitsBase(delta: X509.X509Crl, base: X509.X509Crl): boolean {
  const indicator = delta.getExtension(id_ce_deltaCRLIndicator);
  const number = base.getExtension(id_ce_cRLNumber);
  if (!indicator || !number) return false;
  try {
    return AsnConvert.parse(number.value, CRLNumber).value >= AsnConvert.parse(indicator.value, BaseCRLNumber).value;
  } catch {
    return false;
  }
}
