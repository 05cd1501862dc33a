// Host, address and host:port syntax shared by the target, dns and server sections.
// node:net (and the streams it brings) is loaded only for text that may be IPv6: checking a
// fleet of names and IPv4 addresses needs none of it.

const V4_PART = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])';
/** Dotted decimal, no leading zeros: what node's isIP calls IPv4. */
const IPV4 = new RegExp(`^(?:${V4_PART}\\.){3}${V4_PART}$`);

/** 4, 6 or 0, as node's isIP answers; IPv6 needs at least two colons, so other text never asks node:net. */
function ipFamily(text: string): 0 | 4 | 6 {
  if (IPV4.test(text)) return 4;
  const first = text.indexOf(':');
  if (first === -1 || text.indexOf(':', first + 1) === -1) return 0;
  return process.getBuiltinModule('node:net').isIP(text) === 6 ? 6 : 0;
}

/** An IP literal, with or without the brackets URLs put around IPv6; the bare form, or null. */
export function ipLiteral(text: string): string | null {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  return ipFamily(bare) !== 0 ? bare : null;
}

const LABEL = /^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$/;

/** A DNS name as it may appear in host or sni (underscores tolerated: internal zones have them). */
export function isHostname(text: string): boolean {
  const name = text.endsWith('.') ? text.slice(0, -1) : text;
  if (name.length === 0 || name.length > 253) return false;
  return name.split('.').every((label) => LABEL.test(label));
}

export interface HostPort {
  host: string;
  port: number | null;
}

/** `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address; null when malformed. */
export function splitHostPort(text: string): HostPort | null {
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2];
    if (ipFamily(host) !== 6) return null;
  } else if (ipFamily(text) === 6) {
    host = text;
  } else {
    const m = /^([^:]+)(?::(\d+))?$/.exec(text);
    if (!m) return null;
    host = m[1]!;
    portText = m[2];
  }
  if (portText === undefined) return { host, port: null };
  if (portText.length > 5) return { host, port: NaN };
  return { host, port: Number(portText) };
}
