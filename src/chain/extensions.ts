// Critical extensions a client does not understand make it reject the certificate (RFC 5280
// 4.2); OpenSSL does (error 34, "unhandled critical extension"), so a chain carrying one is not
// trusted here either, however well its signatures verify. The set below is what OpenSSL handles;
// a critical extension of that set that does not decode is refused the same way.

import type { ParsedCertificate } from './certificate.js';
import { asn1Schema, asn1X509 } from './x509.js';

const { AsnConvert } = asn1Schema;
const {
  BasicConstraints,
  CertificatePolicies,
  CRLDistributionPoints,
  ExtendedKeyUsage,
  InhibitAnyPolicy,
  KeyUsage,
  NameConstraints,
  PolicyConstraints,
  PolicyMappings,
  SubjectAlternativeName,
} = asn1X509;

type Schema = Parameters<typeof AsnConvert.parse>[1];

/** OID → the schema its value must decode with; null: handled, value not checked here. */
const HANDLED = new Map<string, Schema | null>([
  ['2.5.29.15', KeyUsage],
  ['2.5.29.17', SubjectAlternativeName],
  ['2.5.29.19', BasicConstraints],
  ['2.5.29.30', NameConstraints],
  ['2.5.29.31', CRLDistributionPoints],
  ['2.5.29.32', CertificatePolicies],
  ['2.5.29.33', PolicyMappings],
  ['2.5.29.36', PolicyConstraints],
  ['2.5.29.37', ExtendedKeyUsage],
  ['2.5.29.54', InhibitAnyPolicy],
  ['2.16.840.1.113730.1.1', null], // Netscape cert type
  ['1.3.6.1.5.5.7.1.7', null], // RFC 3779 IP address blocks
  ['1.3.6.1.5.5.7.1.8', null], // RFC 3779 AS identifiers
  ['1.3.6.1.5.5.7.1.14', null], // proxy certificate info
  ['1.3.6.1.5.5.7.48.1.5', null], // OCSP no-check
]);

/** True when a client must reject this certificate for one of its critical extensions. */
export function refusesCriticalExtension(cert: ParsedCertificate): boolean {
  for (const ext of cert.cert.extensions) {
    if (!ext.critical) continue;
    const schema = HANDLED.get(ext.type);
    if (schema === undefined) return true;
    if (schema === null) continue;
    try {
      AsnConvert.parse(ext.value, schema);
    } catch {
      return true;
    }
  }
  return false;
}
