import type { ParsedCertificate } from './certificate.js';
import type { CertificationPath } from './path.js';
import type { IssuerIdentity, RootIdentity } from './types.js';

/**
 * The issuing CA by key: the verified issuer's subject key id (or, lacking one, the leaf's
 * authority key id, then the issuer's SPKI hash). When the issuer was neither presented nor in
 * the trust store, the leaf's authority key id still names its key; only a leaf with no
 * authority key id and no findable issuer leaves the key unknown (keyId '').
 */
export function issuerIdentity(path: CertificationPath): IssuerIdentity {
  const leaf = path.certs[0]!;
  const issuer = path.certs[1] ?? (path.topSelfSigned ? leaf : undefined);
  if (issuer) {
    return {
      dn: issuer.info.subject,
      keyId: issuer.info.subjectKeyId ?? leaf.info.authorityKeyId ?? issuer.info.spkiSha256,
      spkiSha256: issuer.info.spkiSha256,
    };
  }
  return { dn: leaf.info.issuer, keyId: leaf.info.authorityKeyId ?? '', spkiSha256: null };
}

/** The anchor the path ends in, or for an untrusted chain the top of what could be built. */
export function rootIdentity(path: CertificationPath): RootIdentity {
  const top: ParsedCertificate = path.certs[path.certs.length - 1]!;
  return {
    dn: top.info.subject,
    sha256: top.info.sha256,
    spkiSha256: top.info.spkiSha256,
    keyId: top.info.subjectKeyId ?? top.info.spkiSha256,
  };
}
