// Host, address and host:port syntax shared by the target, dns and server sections.
import { isIP } from 'node:net';

/** Only text with a colon (IPv6) or of digits and dots (IPv4) can be an IP literal. */
const MAYBE_IP = /[:]|^[0-9.]+$/;

/** An IP literal, with or without the brackets URLs put around IPv6; the bare form, or null. */
export function ipLiteral(text: string): string | null {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  // isIP tries a large IPv6 expression on every name; a fleet of host names need not pay for it.
  return MAYBE_IP.test(bare) && isIP(bare) ? bare : null;
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
    if (isIP(host) !== 6) return null;
  } else if (isIP(text) === 6) {
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
