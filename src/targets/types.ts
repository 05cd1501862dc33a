import type { StartTlsProtocol } from '../config/options.js';

/** One (target, address) pair to probe. `resolve: all` fans a target out into several. */
export interface Endpoint {
  /** Stable identity for the baseline: the target name, plus the address under `resolve: all`. */
  key: string;
  target: string;
  group: string;
  role: string | null;
  host: string;
  port: number;
  /** IP address to connect to; null when resolution failed (see resolveError). */
  address: string | null;
  sni: string | null;
  url: string | null;
  clientCert: { cert: string; key: string } | null;
  /** Clear-text exchange before TLS (STARTTLS); null: TLS from the first byte. */
  starttls: StartTlsProtocol | null;
  /** Set when the address could not be found; the probe reports it without connecting. */
  resolveError: ResolveError | null;
}

/** Why no address was found; the probe reports it as its `dns` error kind. */
export interface ResolveError {
  kind: 'dns';
  message: string;
}
