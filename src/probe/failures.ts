import type { ProbeError } from './types.js';
import { alertHint, alertName } from './wire/alerts.js';
import type { ServerFlight } from './wire/server-flight.js';

/** How a TLS handshake attempt ended. */
export type Ending = 'secure' | 'timeout' | 'cancelled' | 'error' | 'closed' | 'overflow';

/** What the transport stage saw when it could not deliver a connected socket. */
export interface ConnectFacts {
  /** "10.1.2.3:5061" (IPv6 in brackets). */
  peer: string;
  timeoutMs: number;
  interruption: 'timeout' | 'cancelled' | null;
  /** errno-style code from the TCP socket, e.g. 'ECONNREFUSED'. */
  errorCode: string | null;
  errorMessage: string | null;
}

/** What the TLS stage saw when it obtained no chain. */
export interface TlsFacts {
  peer: string;
  sni: string | null;
  timeoutMs: number;
  ending: Exclude<Ending, 'secure'>;
  /** Null when unknown (the native capture cannot always tell). */
  bytesReceived: number | null;
  /** The first bytes the server sent (for naming a non-TLS service). */
  firstBytes: Buffer;
  flight: ServerFlight | null;
  /** errno-style code from the socket or TLS stack, e.g. 'ECONNRESET'. */
  errorCode: string | null;
  errorMessage: string | null;
  /** Alert number from the TLS stack's error text, when it names one. */
  alert: number | null;
}

const UNREACHABLE = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENETDOWN', 'EHOSTDOWN', 'EAFNOSUPPORT', 'EACCES', 'EPERM']);
const RESET = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

export function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}

/** A short, printable rendering of what a non-TLS peer said. */
export function describeBytes(bytes: Buffer): string {
  const head = bytes.subarray(0, 48);
  let printable = 0;
  for (const b of head) if ((b >= 0x20 && b < 0x7f) || b === 0x0a || b === 0x0d || b === 0x09) printable++;
  if (printable >= head.length * 0.8) {
    const text = head
      .toString('latin1')
      .replace(/[^\x20-\x7e]+/g, ' ')
      .trim();
    return `"${text}${bytes.length > head.length ? '…' : ''}"`;
  }
  return `binary data (${head.subarray(0, 16).toString('hex')}${bytes.length > 16 ? '…' : ''})`;
}

export function cancelled(peer: string): ProbeError {
  return { kind: 'cancelled', message: `probe of ${peer} cancelled before it finished (the scan was stopped by shutdown or reload)` };
}

export function describeConnectFailure(f: ConnectFacts): ProbeError {
  if (f.interruption === 'cancelled') return cancelled(f.peer);
  const code = f.errorCode ?? '';
  if (code === 'ECONNREFUSED') {
    return { kind: 'refused', message: `connection refused by ${f.peer} — is the service running and listening on this port?` };
  }
  if (UNREACHABLE.has(code)) {
    return { kind: 'unreachable', message: `cannot reach ${f.peer} (${code}) — check routing, VPN and that the address is right` };
  }
  if (RESET.has(code)) {
    return { kind: 'reset', message: `connection to ${f.peer} was reset while connecting — a firewall rejecting it?` };
  }
  if (f.interruption === 'timeout' || code === 'ETIMEDOUT') {
    return { kind: 'timeout', message: `no TCP connection to ${f.peer} within ${seconds(f.timeoutMs)} — host down, or a firewall dropping packets?` };
  }
  return { kind: 'unreachable', message: `cannot connect to ${f.peer}: ${f.errorMessage ?? (code || 'unknown error')}` };
}

export function describeTlsFailure(f: TlsFacts): ProbeError {
  const within = seconds(f.timeoutMs);
  if (f.ending === 'cancelled') return cancelled(f.peer);
  const flight = f.flight;
  if (flight?.notTls) {
    return {
      kind: 'not_tls',
      message: `${f.peer} answered with ${describeBytes(f.firstBytes)}, not TLS — is this the right port, or does the service run without TLS?`,
    };
  }
  if (flight?.oversized) {
    return {
      kind: 'oversized',
      message: `${f.peer} sent more certificate data than the probe accepts (${flight.error}) — a misconfigured or hostile server; no TLS client will take this chain`,
    };
  }
  if (flight?.alert != null || f.alert !== null) {
    const name = alertName(flight?.alert ?? f.alert!);
    return {
      kind: 'handshake',
      message: `${f.peer} ended the TLS handshake with alert ${name} before sending a certificate — ${alertHint(name)}`,
    };
  }
  if (flight?.error) {
    return { kind: 'handshake', message: `could not read the certificate ${f.peer} sent: ${flight.error}` };
  }
  if (f.ending === 'overflow') {
    return {
      kind: 'handshake',
      message: `${f.peer} kept sending handshake data without a certificate (${f.bytesReceived ?? 'too many'} bytes); the probe stopped reading — a broken or hostile server`,
    };
  }
  if (f.ending === 'timeout') {
    if (f.bytesReceived === 0) {
      return {
        kind: 'timeout',
        message: `no TLS handshake within ${within} (TCP connected to ${f.peer}, server sent nothing) — a firewall, or a service that does not speak TLS?`,
      };
    }
    if (f.bytesReceived === null) {
      return {
        kind: 'timeout',
        message: `no TLS handshake within ${within} (TCP connected to ${f.peer}, the server never completed its part) — a firewall, or a service that does not speak TLS?`,
      };
    }
    return {
      kind: 'timeout',
      message: `TLS handshake with ${f.peer} stalled: the server sent ${f.bytesReceived} bytes but no complete certificate within ${within}`,
    };
  }
  const code = f.errorCode ?? '';
  if (RESET.has(code) && !/before secure TLS connection/.test(f.errorMessage ?? '')) {
    return {
      kind: 'reset',
      message: `${f.peer} reset the connection during the TLS handshake${f.bytesReceived ? ` after sending ${f.bytesReceived} bytes` : ''} — a TLS offload, firewall or IPS dropping it?`,
    };
  }
  if (f.bytesReceived === 0) {
    return {
      kind: 'handshake',
      message: `${f.peer} closed the connection without answering our TLS ClientHello — no TLS on this port, or the server rejects our SNI (${f.sni ?? 'none sent'}) or protocol versions`,
    };
  }
  if (code.startsWith('ERR_SSL_') || f.errorMessage) {
    return { kind: 'handshake', message: `TLS handshake with ${f.peer} failed before a certificate arrived: ${tlsReason(f.errorMessage ?? code)}` };
  }
  return { kind: 'handshake', message: `${f.peer} closed the connection during the TLS handshake, before sending a certificate` };
}

/** OpenSSL's reason out of its error line ("…:ssl3_get_record:wrong version number:…" → "wrong version number"). */
export function tlsReason(message: string): string {
  const m = /:([a-z0-9 ,'_-]+):[^:]*\.c:\d+/i.exec(message);
  return m ? m[1]! : message.split('\n')[0]!;
}
