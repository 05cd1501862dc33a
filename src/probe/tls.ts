import tls from 'node:tls';
import type { CaptureFactory } from './capture/capture.js';
import type { Deadline } from './deadline.js';
import { describeTlsFailure, type Ending } from './failures.js';
import type { Destination } from './resolve.js';
import { failure, type Outcome, success } from './stage.js';
import { connectFailure, type Transport } from './transport.js';
import type { TlsInfo } from './types.js';
import { alertFromTlsError, alertName } from './wire/alerts.js';
import { cipherSuiteName, protocolName } from './wire/names.js';

/** What the TLS stage hands on: the chain as presented and how the handshake went. */
export interface Handshake {
  chain: Buffer[];
  tls: TlsInfo;
  stapledOcsp: Buffer | null;
}

/** Identity is checked by chain analysis, against the configured host/sni. */
const noIdentityCheck = (): undefined => undefined;

/** Floor for how long a TLS 1.3 server that asked for a client certificate gets to judge ours. */
const MIN_VERDICT_WAIT_MS = 1000;

/**
 * In TLS 1.3 the client finishes before the server has judged its certificate; the verdict (a
 * session ticket, or an alert such as certificate_required) arrives about one round trip later.
 * Wait a few round trips, at least a second, never past the probe's deadline.
 */
function verdictWaitMs(rttMs: number, remainingMs: number): number {
  return Math.max(0, Math.min(remainingMs, Math.max(MIN_VERDICT_WAIT_MS, 4 * rttMs)));
}

/**
 * Bytes the server sent on the TCP connection under a TLS socket that connected itself. Node
 * counts them on the TCP handle it wraps; the TLS socket's own bytesRead counts clear text.
 */
function tcpBytesRead(socket: tls.TLSSocket): number {
  const parent = (socket as { _handle?: { _parent?: { bytesRead?: unknown } } | null })._handle?._parent;
  return typeof parent?.bytesRead === 'number' ? parent.bytesRead : socket.bytesRead;
}

/**
 * Stage three: a real TLS handshake, the chain read by `capture`. This is the one lifecycle of
 * a connection — events, errors, alert, the TLS 1.3 verdict wait and the end — whichever
 * capture reads the chain. The sockets are always destroyed at the end.
 *
 * With a transport, TLS runs over its connected socket. Without one, TLS makes the TCP
 * connection itself, which spares a second socket object and an event-loop turn per probe (a
 * few percent of the client's handshake cost), and a failure before the connection stands is
 * the transport stage's, exactly as if the transport stage had connected.
 */
export function negotiate(transport: Transport | null, dest: Destination, makeCapture: CaptureFactory, deadline: Deadline): Promise<Outcome<Handshake>> {
  return new Promise((resolve) => {
    const raw = transport?.socket ?? null;
    const capture = makeCapture(() => settle('overflow'), transport?.preludeBytes ?? 0);
    let connected = raw !== null;
    let connectMs = transport?.connectMs ?? 0;
    let version: string | null = null;
    let cipher: string | null = null;
    let certificateRequested = false;
    let stapledOcsp: Buffer | null = null;
    let errorCode: string | null = null;
    let errorMessage: string | null = null;
    let connectError: NodeJS.ErrnoException | null = null;
    let alert: number | null = null;
    let ending: Ending | null = null;
    let settled = false;
    let verdictTimer: NodeJS.Timeout | null = null;
    let socket: tls.TLSSocket | null = null;

    const settle = (how: Ending): void => {
      if (settled) return;
      settled = true;
      stopInterrupt();
      if (verdictTimer) clearTimeout(verdictTimer);
      const reading = capture.read(how);
      capture.release();
      socket?.destroy();
      raw?.destroy();
      if (!connected) {
        resolve(connectFailure(dest, deadline, connectError, how === 'timeout' || how === 'cancelled' ? how : null));
        return;
      }
      const flight = reading.flight;
      const completed = how === 'secure';
      const alertCode = completed ? null : (alert ?? flight?.alert ?? null);
      const info: TlsInfo = {
        version: version ?? (flight?.version == null ? null : protocolName(flight.version)),
        cipher: cipher ?? (flight?.cipherSuite == null ? null : cipherSuiteName(flight.cipherSuite)),
        completed,
        alert: alertCode === null ? null : alertName(alertCode),
      };
      if (reading.chain) {
        resolve(success({ chain: reading.chain, tls: info, stapledOcsp }));
        return;
      }
      const error = describeTlsFailure({
        peer: dest.peer,
        sni: dest.servername ?? null,
        timeoutMs: deadline.timeoutMs,
        ending: how === 'secure' ? 'closed' : how,
        bytesReceived: reading.bytesReceived,
        firstBytes: reading.firstBytes,
        flight,
        errorCode,
        errorMessage,
        alert,
      });
      const spoke = flight === null ? version !== null : !flight.notTls && (flight.version !== null || flight.alert !== null);
      resolve(failure('tls', error, spoke ? info : null));
    };

    const end = (how: Ending): void => {
      if (ending !== null) return;
      ending = how;
      if ((how === 'error' || how === 'closed') && capture.readOn(() => settle(how))) return;
      settle(how);
    };

    let stopInterrupt: () => void = () => undefined;
    stopInterrupt = deadline.onInterrupt((why) => settle(why));
    if (settled) return;

    // tls.connect passes requestOCSP through to the socket; @types/node lists it only for TLSSocket.
    const options: tls.ConnectionOptions & Pick<tls.TLSSocketOptions, 'requestOCSP'> = {
      ...(raw === null ? { host: dest.address, port: dest.port } : { socket: capture.carrier(raw) }),
      servername: dest.servername,
      secureContext: dest.context,
      requestOCSP: true,
      rejectUnauthorized: false,
      checkServerIdentity: noIdentityCheck,
      minDHSize: 1,
    };
    const started = performance.now();
    try {
      socket = tls.connect(options);
    } catch (err) {
      // Node refuses some arguments synchronously (a port outside 1–65535, say).
      connectError = err as NodeJS.ErrnoException;
      errorMessage = (err as Error).message;
      return settle('error');
    }
    const tlsSocket = socket;
    capture.started(raw === null ? () => tcpBytesRead(tlsSocket) : () => raw.bytesRead);
    if (!connected) {
      tlsSocket.once('connect', () => {
        connected = true;
        connectMs = performance.now() - started;
      });
    }

    const onKeys = (): void => {
      try {
        cipher ??= tlsSocket.getCipher()?.standardName ?? null;
      } catch {
        // the name stays unknown
      }
    };

    // OpenSSL's certificate-status hook (asked for with requestOCSP) runs once the server's
    // Certificate has been processed and before we answer — so also when an MTLS server aborts
    // afterwards. It runs inside OpenSSL's callback: an exception here would end the process.
    tlsSocket.once('OCSPResponse', (response: Buffer | null | undefined) => {
      try {
        stapledOcsp = response && response.length > 0 ? Buffer.from(response) : null;
        version = tlsSocket.getProtocol();
        cipher = tlsSocket.getCipher()?.standardName ?? null;
        // Shared signature algorithms exist on a client only after a CertificateRequest.
        certificateRequested = tlsSocket.getSharedSigalgs().length > 0;
        // Before TLS 1.3 OpenSSL names the cipher only once keys are made; an MTLS server may
        // abort before 'secureConnect', so take it when the key log line for the session appears.
        if (cipher === null && certificateRequested) tlsSocket.once('keylog', onKeys);
        capture.atCertificateStatus(tlsSocket);
      } catch {
        // what was not read here comes from the byte stream or stays unknown
      }
    });
    if (capture.onKeylog) tlsSocket.on('keylog', capture.onKeylog);
    tlsSocket.once('secureConnect', () => {
      version ??= tlsSocket.getProtocol();
      cipher ??= tlsSocket.getCipher()?.standardName ?? null;
      if (version === 'TLSv1.3' && certificateRequested) {
        tlsSocket.once('session', () => end('secure'));
        verdictTimer = setTimeout(() => end('secure'), verdictWaitMs(connectMs, deadline.remainingMs()));
        return;
      }
      end('secure');
    });
    const onError = (err: NodeJS.ErrnoException): void => {
      if (!connected) connectError ??= err;
      errorCode ??= err.code ?? null;
      errorMessage ??= err.message;
      alert ??= alertFromTlsError(err);
      end('error');
    };
    // The TCP socket's own error (a reset) names the cause better than TLS's account of it.
    raw?.on('error', onError);
    tlsSocket.on('error', onError);
    const onClose = (): void => end(errorCode === null ? 'closed' : 'error');
    tlsSocket.once('close', onClose);
    // Through the byte-stream tap a server's close reaches TLS only when it reads; see it here.
    raw?.once('close', onClose);
  });
}
