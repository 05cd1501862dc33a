import { isIP } from 'node:net';
import { sameIp } from '../util/address.js';
import type { CertificateInfo } from './types.js';

/**
 * RFC 6125 matching as browsers and Lync clients apply it: DNS names case-insensitively, a
 * wildcard only as the whole left-most label and never across dots; IP literals against IP SANs
 * only. The subject CN counts only when the certificate has no DNS SAN at all (old certificates).
 */
export function matchesHostname(cert: CertificateInfo, name: string): boolean {
  const host = name.replace(/\.$/, '').toLowerCase();
  if (isIP(host) !== 0) return cert.ipAddresses.some((ip) => sameIp(ip, host));
  const candidates = cert.dnsNames.length > 0 ? cert.dnsNames : commonNames(cert.subject);
  return candidates.some((pattern) => matchesPattern(pattern.replace(/\.$/, '').toLowerCase(), host));
}

function matchesPattern(pattern: string, host: string): boolean {
  if (pattern === host) return true;
  if (!pattern.startsWith('*.')) return false;
  const suffix = pattern.slice(1); // ".contoso.com"
  if (!host.endsWith(suffix)) return false;
  const label = host.slice(0, host.length - suffix.length);
  // A wildcard stands for exactly one non-empty label, and never for a bare public suffix.
  return label.length > 0 && !label.includes('.') && suffix.split('.').length > 2;
}

function commonNames(subject: string): string[] {
  const out: string[] = [];
  for (const part of subject.split(/,\s*/)) {
    const m = /^CN=(.+)$/i.exec(part.trim());
    if (m?.[1]) out.push(m[1]);
  }
  return out;
}
