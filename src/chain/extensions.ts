// Critical extensions a client does not understand make it reject the certificate (RFC 5280
// 4.2); OpenSSL does (error 34, "unhandled critical extension"), so a chain carrying one is not
// trusted here either, however well its signatures verify. The set below is what OpenSSL handles;
// a critical extension of that set that does not decode is refused the same way.

import { AsnConvert } from '@peculiar/asn1-schema';
import {
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
} from '@peculiar/asn1-x509';
import type { ParsedCertificate } from './certificate.js';

type Schema = Parameters<typeof AsnConvert.parse>[1];

/** OID → the schema its value must decode with; null: handled, value not checked here. */
const HANDLED = new Map<string, { name: string; schema: Schema | null }>([
  ['2.5.29.15', { name: 'keyUsage', schema: KeyUsage }],
  ['2.5.29.17', { name: 'subjectAltName', schema: SubjectAlternativeName }],
  ['2.5.29.19', { name: 'basicConstraints', schema: BasicConstraints }],
  ['2.5.29.30', { name: 'nameConstraints', schema: NameConstraints }],
  ['2.5.29.31', { name: 'cRLDistributionPoints', schema: CRLDistributionPoints }],
  ['2.5.29.32', { name: 'certificatePolicies', schema: CertificatePolicies }],
  ['2.5.29.33', { name: 'policyMappings', schema: PolicyMappings }],
  ['2.5.29.36', { name: 'policyConstraints', schema: PolicyConstraints }],
  ['2.5.29.37', { name: 'extKeyUsage', schema: ExtendedKeyUsage }],
  ['2.5.29.54', { name: 'inhibitAnyPolicy', schema: InhibitAnyPolicy }],
  ['2.16.840.1.113730.1.1', { name: 'nsCertType', schema: null }],
  ['1.3.6.1.5.5.7.1.7', { name: 'sbgp-ipAddrBlock', schema: null }],
  ['1.3.6.1.5.5.7.1.8', { name: 'sbgp-autonomousSysNum', schema: null }],
  ['1.3.6.1.5.5.7.1.14', { name: 'proxyCertInfo', schema: null }],
  ['1.3.6.1.5.5.7.48.1.5', { name: 'ocspNoCheck', schema: null }],
]);

/** Why a client must reject this certificate for its critical extensions, or null. */
export function criticalExtensionProblem(cert: ParsedCertificate): string | null {
  for (const ext of cert.cert.extensions) {
    if (!ext.critical) continue;
    const handled = HANDLED.get(ext.type);
    if (!handled) return `unhandled critical extension ${ext.type} in ${cert.info.subject}`;
    if (handled.schema === null) continue;
    try {
      AsnConvert.parse(ext.value, handled.schema);
    } catch {
      return `malformed critical ${handled.name} extension in ${cert.info.subject}`;
    }
  }
  return null;
}
