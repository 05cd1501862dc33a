import { isIP } from 'node:net';
import type { SecureContext } from 'node:tls';
import type { StartTlsProtocol } from '../config/options.js';
import type { Endpoint } from '../targets/types.js';
import { formatHostPort } from '../util/address.js';
import { probeContext } from './context.js';
import { failure, type Outcome, success } from './stage.js';

/** Everything the later stages need to reach one endpoint. */
export interface Destination {
  address: string;
  port: number;
  /** "10.1.2.3:5061" (IPv6 in brackets), for messages. */
  peer: string;
  /** Server name sent in the ClientHello; undefined for none (IP literals are never sent). */
  servername: string | undefined;
  /** Name the STARTTLS prelude greets the server with. */
  host: string;
  starttls: StartTlsProtocol | null;
  context: SecureContext;
}

/**
 * Stage one. Addresses come resolved from the targets stage (a lookup fans `resolve: all` out
 * into endpoints); this stage turns what it found, and the configured client certificate,
 * into a destination or a failure.
 */
export function resolveDestination(endpoint: Endpoint): Outcome<Destination> {
  if (endpoint.resolveError) return failure('resolve', endpoint.resolveError);
  if (endpoint.address === null) return failure('resolve', { kind: 'dns', message: `no address to connect to for ${endpoint.host}` });
  let context: SecureContext;
  try {
    context = probeContext(endpoint.clientCert);
  } catch (err) {
    return failure('resolve', {
      kind: 'client_certificate',
      message: `the client certificate configured for ${endpoint.target} cannot be used: ${(err as Error).message} — check client_cert (certificate and unencrypted key of one pair, PEM)`,
    });
  }
  return success({
    address: endpoint.address,
    port: endpoint.port,
    peer: formatHostPort(endpoint.address, endpoint.port),
    servername: endpoint.sni !== null && isIP(endpoint.sni) === 0 ? endpoint.sni : undefined,
    host: endpoint.sni ?? endpoint.host,
    starttls: endpoint.starttls,
    context,
  });
}
