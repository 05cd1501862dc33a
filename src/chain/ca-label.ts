// How a CA is printed for people, everywhere (reports, alerts, logs, the status page, policy
// notes): the name a person recognises next to the key that actually identifies the CA, since two
// CAs may share a name.

/** Anything that names a CA by distinguished name and key id (IssuerIdentity, CaRef). */
export interface CaName {
  dn: string;
  keyId: string;
}

/** Key-id prefix shown to people: long enough to tell CAs apart, short enough to read. */
const KEY_PREFIX = 8;

/** The CN of a distinguished name ("CN=Contoso Issuing CA 01, O=Contoso" → "Contoso Issuing CA 01"). */
export function commonName(dn: string): string {
  const m = /(?:^|[,+]\s*)CN=((?:\\.|[^,+\\])*)/i.exec(dn);
  const cn = m?.[1]?.replace(/\\(.)/g, '$1').trim();
  return cn !== undefined && cn !== '' ? cn : dn.trim() || 'an unnamed CA';
}

/** "42d1a9c0…"; a key id that short already is shown whole, a missing one as "?". */
export function keyPrefix(keyId: string): string {
  if (keyId === '') return '?';
  return keyId.length > KEY_PREFIX ? `${keyId.slice(0, KEY_PREFIX)}…` : keyId;
}

/** "Contoso Issuing CA 01 (key 42d1a9c0…)": the name for people, the key for the truth. */
export function caLabel(ca: CaName): string {
  return `${commonName(ca.dn)} (key ${keyPrefix(ca.keyId)})`;
}

/** "CN=Contoso Issuing CA 01, O=Contoso (key id 42d1…full)": for logs and alert descriptions. */
export function caFullLabel(ca: CaName): string {
  return `${ca.dn} (key id ${ca.keyId})`;
}
