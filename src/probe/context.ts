import tls from 'node:tls';

// One SecureContext per distinct client certificate, shared by every probe: building a context
// per connection costs about a third of a handshake.
//
// The context trusts nothing (`ca: []`): chain analysis verifies later against the configured
// anchors, and with an empty store OpenSSL's own verification always fails fast, so Node never
// builds its JavaScript view of the peer chain (getPeerCertificate) for a trusted server.
// `@SECLEVEL=0` and TLS 1.0 let old servers (RSA-1024, SHA-1) finish so they can be reported.
const BASE: tls.SecureContextOptions = {
  ca: [],
  ciphers: 'DEFAULT:@SECLEVEL=0',
  minVersion: 'TLSv1',
  maxVersion: 'TLSv1.3',
};

const MAX_CACHED = 256;
const cache = new Map<string, tls.SecureContext>();
let anonymous: tls.SecureContext | null = null;

export function probeContext(clientCert: { cert: string; key: string } | null): tls.SecureContext {
  if (clientCert === null) {
    anonymous ??= tls.createSecureContext(BASE);
    return anonymous;
  }
  const key = `${clientCert.cert}\0${clientCert.key}`;
  let context = cache.get(key);
  if (!context) {
    context = tls.createSecureContext({ ...BASE, cert: clientCert.cert, key: clientCert.key });
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(key, context);
  }
  return context;
}
