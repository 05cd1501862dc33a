// Hard bounds for everything the probe reads from a server. A hostile or broken server gets an
// error for its endpoint once it crosses one of these, never unbounded memory or work.

/** Largest record fragment accepted: 2^14 plaintext plus the 2048 bytes TLS 1.2 allows for expansion. */
export const MAX_RECORD_FRAGMENT = 16384 + 2048;
/** Certificates accepted in one Certificate message; more is the `oversized` error. */
export const MAX_CERTIFICATES = 100;
/** Bytes of certificates accepted in one Certificate message; more is the `oversized` error. */
export const MAX_CERTIFICATE_LIST_BYTES = 256 * 1024;
/**
 * Handshake bytes reassembled per connection: the largest accepted certificate list plus room
 * for ServerHello, key exchange, CertificateRequest and per-certificate framing.
 */
export const MAX_HANDSHAKE_BYTES = MAX_CERTIFICATE_LIST_BYTES + 32 * 1024;
/** Raw bytes read from the server per connection: the handshake limit plus record framing. */
export const MAX_CAPTURE_BYTES = MAX_HANDSHAKE_BYTES + 32 * 1024;

/** Raised by the wire parsers; caught by readServerFlight, never escapes the probe. */
export class WireError extends Error {
  override readonly name = 'WireError';

  /** `oversized`: the server sent more certificates or certificate bytes than accepted. */
  constructor(
    message: string,
    readonly oversized = false,
  ) {
    super(message);
  }
}
