// Hard bounds for everything the probe reads from a server. A hostile or broken server gets an
// error for its endpoint once it crosses one of these, never unbounded memory or work.

/** Largest record fragment accepted: 2^14 plaintext plus the 2048 bytes TLS 1.2 allows for expansion. */
export const MAX_RECORD_FRAGMENT = 16384 + 2048;
/** Handshake bytes reassembled per connection (ServerHello through Certificate and a little after). */
export const MAX_HANDSHAKE_BYTES = 256 * 1024;
/** Certificates accepted in one Certificate message. */
export const MAX_CERTIFICATES = 200;
/** Raw bytes kept from the server per connection: the handshake limit plus record framing. */
export const MAX_CAPTURE_BYTES = MAX_HANDSHAKE_BYTES + 32 * 1024;

/** Raised by the wire parsers; caught by readServerFlight, never escapes the probe. */
export class WireError extends Error {
  override readonly name = 'WireError';
}
