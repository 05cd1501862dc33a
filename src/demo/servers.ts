// Loopback TLS servers that stand in for a fleet, presenting an exact chain (MTLS too). Every
// server tracks its sockets so close() never waits on a peer.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createServer, isIPv4, type Server, type Socket } from 'node:net';
import { createSecureContext, type DetailedPeerCertificate, type SecureContext, TLSSocket } from 'node:tls';

export interface ServedEndpoint {
  host: string;
  port: number;
  close(): Promise<void>;
}

export interface Listen {
  host?: string;
  port?: number;
}

const DEFAULT_HOST = '127.0.0.1';

// Simulated endpoints must never be reachable from the network.
function assertLoopback(host: string): void {
  const v4 = isIPv4(host) && host.startsWith('127.');
  if (!v4 && host !== '::1' && host !== 'localhost') {
    throw new Error(`refusing to listen on ${host}: simulated endpoints bind loopback addresses only (127.0.0.0/8 or ::1)`);
  }
}

/** Listens on loopback, tracks every accepted socket, and destroys them all on close(). */
export async function listen(o: Listen, onSocket: (socket: Socket, track: (s: Socket) => void) => void): Promise<ServedEndpoint> {
  const host = o.host ?? DEFAULT_HOST;
  assertLoopback(host);
  const open = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    const track = (s: Socket): void => {
      open.add(s);
      s.once('close', () => open.delete(s));
    };
    track(socket);
    // A peer vanishing mid-conversation is normal here; the server must outlive it.
    socket.on('error', () => undefined);
    onSocket(socket, track);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: o.port ?? 0, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address');
  let closing: Promise<void> | null = null;
  return {
    host,
    port: address.port,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of open) s.destroy();
        open.clear();
      });
      return closing;
    },
  };
}

export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

export interface ServeChainOptions extends Listen {
  /** Private key PEM of the leaf (chain[0]). */
  key: string;
  /** PEMs in the exact order to present, first = leaf; duplicates and strays are kept. */
  chain: string[];
  minVersion?: TlsVersion;
  maxVersion?: TlsVersion;
  /** MTLS: demand a client certificate and reject connections without one issued by these CAs. */
  requireClientCert?: { ca: string[] };
}

/**
 * A TLS server presenting `chain` exactly as given. Weak certificates (RSA-1024, SHA-1) are
 * served: the context runs at OpenSSL security level 0.
 *
 * Client certificates are checked here rather than through the context's `ca` store: OpenSSL
 * builds and sends a chain from that store when the server has no extra certificates, which
 * would turn a leaf-only server into one that presents its intermediate.
 */
export async function serveChain(o: ServeChainOptions): Promise<ServedEndpoint> {
  if (o.chain.length === 0) throw new Error('serveChain needs at least the leaf certificate');
  let secureContext: SecureContext;
  try {
    secureContext = createSecureContext({
      key: o.key,
      cert: o.chain.join('\n'),
      minVersion: o.minVersion ?? 'TLSv1.2',
      maxVersion: o.maxVersion ?? 'TLSv1.3',
      ciphers: 'DEFAULT:@SECLEVEL=0',
    });
  } catch (err) {
    throw new Error(`cannot serve this chain: ${(err as Error).message} (key must be chain[0]'s private key, chain PEM certificates)`, { cause: err });
  }
  // OpenSSL only notices a mismatched key of the same type; an EC key beside an RSA leaf would
  // be accepted and the handshake would fail later, far from the cause.
  if (!new X509Certificate(o.chain[0]!).checkPrivateKey(createPrivateKey(o.key))) {
    throw new Error("cannot serve this chain: the key is not chain[0]'s private key");
  }
  const clientCas = (o.requireClientCert?.ca ?? []).map((pem) => new X509Certificate(pem));
  const mtls = o.requireClientCert !== undefined;
  return listen(o, (socket, track) => {
    const tls = new TLSSocket(socket, {
      isServer: true,
      secureContext,
      // requestCert + rejectUnauthorized makes OpenSSL abort the handshake when no certificate
      // comes: handshake_failure in TLS 1.2, certificate_required after the client's Finished in 1.3.
      requestCert: mtls,
      rejectUnauthorized: mtls,
    });
    track(tls);
    tls.on('error', () => tls.destroy());
    tls.on('secure', () => {
      if (mtls && !clientCertificateAccepted(tls, clientCas)) {
        tls.destroy();
        return;
      }
      // Whatever the client says gets a short HTTP answer: a live, accepted endpoint is observable.
      tls.once('data', () => tls.write(TLS_ENDPOINT_ANSWER));
      tls.resume();
    });
    tls.on('end', () => tls.end());
  });
}

const TLS_ENDPOINT_ANSWER = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 25\r\n\r\nchainwatch demo endpoint\n';

// Accept when the client's certificate, or one certificate it sent along, is signed by a
// configured CA and every link below it verifies. getPeerCertificate(true) is the only peer
// accessor called: on a server socket (Node 20), calling getPeerX509Certificate() first makes
// it lose the issuer links.
function clientCertificateAccepted(tls: TLSSocket, cas: X509Certificate[]): boolean {
  let detailed: DetailedPeerCertificate | undefined = tls.getPeerCertificate(true);
  for (let depth = 0; detailed?.raw && depth < 8; depth++) {
    const current = new X509Certificate(detailed.raw);
    if (cas.some((ca) => current.checkIssued(ca) && current.verify(ca.publicKey))) return true;
    const next: DetailedPeerCertificate | undefined = detailed.issuerCertificate;
    if (!next?.raw || next === detailed) return false;
    const issuer = new X509Certificate(next.raw);
    if (!current.checkIssued(issuer) || !current.verify(issuer.publicKey)) return false;
    detailed = next;
  }
  return false;
}
