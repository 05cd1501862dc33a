// Where a certificate says its revocation status can be found.
import type { DistributionPoint } from '@peculiar/asn1-x509';
import type * as X509 from '@peculiar/x509';
import { asn1Schema, asn1X509, x509 } from '../chain/x509.js';

const { AsnConvert } = asn1Schema;
const { FreshestCRL, id_ce_freshestCRL } = asn1X509;

export interface RevocationPoints {
  /** CRL distribution points, every scheme, in the certificate's order. */
  crl: string[];
  /** Delta CRL locations (Freshest CRL extension). */
  deltaCrl: string[];
  /** OCSP responders from Authority Information Access. */
  ocsp: string[];
}

export function revocationPoints(cert: X509.X509Certificate): RevocationPoints {
  const cdp = cert.getExtension(x509.CRLDistributionPointsExtension);
  const aia = cert.getExtension(x509.AuthorityInfoAccessExtension);
  const freshest = cert.getExtension(id_ce_freshestCRL);
  return {
    crl: cdp ? uris(cdp.distributionPoints) : [],
    deltaCrl: freshest ? uris(AsnConvert.parse(freshest.value, FreshestCRL)) : [],
    ocsp: (aia?.ocsp ?? []).filter((n) => n.type === 'url').map((n) => n.value),
  };
}

/** The Freshest CRL extension of a CRL: where its delta CRLs are published. */
export function deltaPointsOfCrl(crl: X509.X509Crl): string[] {
  const freshest = crl.getExtension(id_ce_freshestCRL);
  return freshest ? uris(AsnConvert.parse(freshest.value, FreshestCRL)) : [];
}

function uris(points: Iterable<DistributionPoint>): string[] {
  const out: string[] = [];
  for (const p of points) {
    for (const name of p.distributionPoint?.fullName ?? []) {
      if (name.uniformResourceIdentifier) out.push(name.uniformResourceIdentifier);
    }
  }
  return out;
}
