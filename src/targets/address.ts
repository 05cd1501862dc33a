// Addresses in a stable order and without repeats, however they were spelled.
import { ipBytes } from '../util/address.js';

/** IPv4 before IPv6, then numerically: a stable order whatever order DNS answered in. */
export function compareAddresses(a: string, b: string): number {
  const ba = ipBytes(a);
  const bb = ipBytes(b);
  if (!ba || !bb) return a < b ? -1 : a > b ? 1 : 0;
  return ba.length - bb.length || Buffer.compare(ba, bb);
}

/** Distinct addresses (by value, not spelling), first spelling kept, in input order. */
export function distinctAddresses(addresses: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const a of addresses) {
    const id = ipBytes(a)?.toString('hex') ?? a;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(a);
  }
  return out;
}
