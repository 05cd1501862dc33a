// PEM certificate blocks, for the config loader (which checks CA and client files) and the
// trust store (which needs the DER). Other block types (keys, parameters) are ignored.

const CERTIFICATE = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;

/** Every certificate block of a PEM text, armour included, in order. */
export function pemCertificates(text: string): string[] {
  return text.match(CERTIFICATE) ?? [];
}

/** Every certificate of a PEM text as DER, in order. */
export function pemCertificatesDer(text: string): Buffer[] {
  return [...text.matchAll(CERTIFICATE)].map((m) => Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64'));
}
