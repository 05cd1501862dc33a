// IP addresses however they are spelled: as bytes (to compare and de-duplicate them) and as
// host:port with IPv6 in brackets. Shared by config, targets, chain and probe. node:net is
// fetched where an address is parsed, so a command that only formats (check-config) loads none
// of it.

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
  const family = process.getBuiltinModule('node:net').isIP(address);
  if (family === 4) return Buffer.from(ipv4Bytes(address)!);
  if (family !== 6) return null;
  const groups = ipv6Groups(address.replace(/%.*$/, ''));
  if (!groups) return null;
  const out = Buffer.alloc(16);
  for (const [i, g] of groups.entries()) out.writeUInt16BE(g, i * 2);
  return out;
}

/** True when both texts are the same IP address, in any spelling. */
export function sameIp(a: string, b: string): boolean {
  const ba = ipBytes(a.trim());
  const bb = ipBytes(b.trim());
  return ba !== null && bb !== null && ba.equals(bb);
}

/** "10.1.2.3:5061", "[2001:db8::1]:443", "host.test:443". */
export function formatHostPort(host: string, port: number): string {
  // Only IPv6 has a colon (names and IPv4 cannot), and this needs no node:net.
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
