import { isWeakKey, isWeakSignature } from './algorithms.js';
import type { ParsedCertificate } from './certificate.js';
import type { CertificationPath } from './path.js';
import type { ProblemCode } from './types.js';

/** Problems that depend only on what was presented and the trust store, not on the clock. */
export function structuralProblems(presented: ParsedCertificate[], path: CertificationPath): ProblemCode[] {
  const problems: ProblemCode[] = [];
  const leaf = path.certs[0]!;
  const selfSignedLeaf = path.certs.length === 1 && path.topSelfSigned;
  if (!path.anchored) problems.push('untrusted');
  if (isIncomplete(presented, path)) problems.push('incomplete_chain');
  if (isMisordered(presented, path)) problems.push('misordered_chain');
  // A root's signature on itself is never checked by clients, so its algorithm does not matter.
  const signed = path.topSelfSigned ? path.certs.slice(0, -1) : path.certs;
  if (signed.some((c) => isWeakSignature(c.signatureOid)) || (selfSignedLeaf && isWeakSignature(leaf.signatureOid))) {
    problems.push('weak_signature');
  }
  if (path.certs.some((c) => isWeakKey(c.info.publicKey.algorithm, c.info.publicKey.bits))) problems.push('weak_key');
  if (selfSignedLeaf) problems.push('self_signed');
  return problems;
}

/**
 * Incomplete: a CA certificate between the leaf and the root had to come from the trust store
 * (clients without AIA fetching, such as phones, fail), or the server sent no issuer at all.
 */
function isIncomplete(presented: ParsedCertificate[], path: CertificationPath): boolean {
  const sent = new Set(presented.map((c) => c.info.sha256));
  const intermediates = path.topSelfSigned ? path.certs.slice(1, -1) : path.certs.slice(1);
  if (intermediates.some((c) => !sent.has(c.info.sha256))) return true;
  return path.certs.length === 1 && !path.topSelfSigned;
}

/** Misordered: what was sent is not the path in order (wrong order, duplicates or strays). */
function isMisordered(presented: ParsedCertificate[], path: CertificationPath): boolean {
  for (let i = 0; i < presented.length; i++) {
    if (presented[i]!.info.sha256 !== path.certs[i]?.info.sha256) return true;
  }
  return false;
}

/** Problems that depend on the time of the scan. */
export function validityProblems(path: CertificationPath, now: Date, expiryWarningMs: number): ProblemCode[] {
  const t = now.getTime();
  const problems: ProblemCode[] = [];
  if (path.certs.some((c) => c.notAfter.getTime() < t)) problems.push('expired');
  if (path.certs.some((c) => c.notBefore.getTime() > t)) problems.push('not_yet_valid');
  if (path.certs.some((c) => c.notAfter.getTime() >= t && c.notAfter.getTime() - t < expiryWarningMs)) {
    problems.push('expires_soon');
  }
  return problems;
}
