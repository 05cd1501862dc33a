// IP addresses as bytes, to compare and de-duplicate them however they were spelled.
import { isIP } from 'node:net';

function ipv6Groups(text: string): number[] | null {
  let head = text;
  let tailV4: number[] = [];
  // An embedded IPv4 tail (::ffff:10.1.2.3) stands for the last two groups.
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = ipv4Bytes(v4[2]!);
    if (!b) return null;
    head = v4[1]!.endsWith('::') ? v4[1]! : v4[1]!.slice(0, -1);
    tailV4 = [(b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!];
  }
  const want = 8 - tailV4.length;
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  let groups: number[];
  const gap = head.indexOf('::');
  if (gap >= 0) {
    const left = parse(head.slice(0, gap));
    const right = parse(head.slice(gap + 2));
    groups = [...left, ...Array(Math.max(0, want - left.length - right.length)).fill(0), ...right];
  } else groups = parse(head);
  groups.push(...tailV4);
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

function ipv4Bytes(text: string): number[] | null {
  const parts = text.split('.').map(Number);
  return parts.length === 4 && parts.every((p) => Number.isInteger(p) && p >= 0 && p <= 255) ? parts : null;
}

/** 4 or 16 bytes, or null when the text is not an IP address. Zone ids (%eth0) are dropped. */
export function ipBytes(address: string): Buffer | null {
  const family = isIP(address);
  if (family === 4) return Buffer.from(ipv4Bytes(address)!);
  if (family !== 6) return null;
  const groups = ipv6Groups(address.replace(/%.*$/, ''));
  if (!groups) return null;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

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
