// Wording shared by the alert annotations: CA names a person recognises next to the key that
// actually identifies the CA, and endpoint names as operators say them.

import type { CaRef } from '../../fleet/types.js';

/** Key-id prefix shown to people: long enough to tell CAs apart, short enough to read. */
const KEY_PREFIX = 8;

/** The CN of a distinguished name ("CN=Contoso Issuing CA 01, O=Contoso" → "Contoso Issuing CA 01"). */
export function commonName(dn: string): string {
  const m = /(?:^|[,+]\s*)CN=((?:\\.|[^,+\\])*)/i.exec(dn);
  const cn = m?.[1]?.replace(/\\(.)/g, '$1').trim();
  return cn !== undefined && cn !== '' ? cn : dn.trim() || 'an unnamed CA';
}

export function keyPrefix(keyId: string): string {
  return keyId.length > KEY_PREFIX ? `${keyId.slice(0, KEY_PREFIX)}…` : keyId;
}

/** "Contoso Issuing CA 01 (key 42d1a9c0…)": the name for people, the key for the truth. */
export function caLabel(ca: CaRef): string {
  return `${commonName(ca.dn)} (key ${keyPrefix(ca.keyId)})`;
}

/** "web2 (10.1.2.5)", or just "web2" when the address is unknown. */
export function endpointLabel(target: string, address: string | null | undefined): string {
  return address ? `${target} (${address})` : target;
}

/** Whole days, rounded towards the nearer edge a person cares about (never "0 days" for 30h). */
export function daysText(ms: number): string {
  const days = Math.floor(Math.abs(ms) / 86_400_000);
  if (days === 0) {
    const hours = Math.max(1, Math.floor(Math.abs(ms) / 3_600_000));
    return hours === 1 ? '1 hour' : `${hours} hours`;
  }
  return days === 1 ? '1 day' : `${days} days`;
}

/** "a, b or c" */
export function orList(items: string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}
