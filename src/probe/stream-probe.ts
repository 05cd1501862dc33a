import net from 'node:net';
import tls from 'node:tls';
import type { Endpoint } from '../targets/types.js';
import { probeContext } from './context.js';
import { describeFailure, peerOf } from './failures.js';
import type { ProbeError, ProbeResult, TlsInfo } from './types.js';
import { alertFromTlsError, alertName } from './wire/alerts.js';
import { MAX_CAPTURE_BYTES } from './wire/limits.js';
import { cipherSuiteName, protocolName } from './wire/names.js';
import { readServerFlight, TLS13, type ServerFlight } from './wire/server-flight.js';
import { secretFromKeylogLine } from './wire/tls13.js';

import { noIdentityCheck, verdictWaitMs } from './verdict.js';

type Ending = 'secure' | 'timeout' | 'cancelled' | 'error' | 'closed';

/** When a probe began and how long it may take; a fallback attempt inherits them. */
export interface ProbeClock {
  startedAt: Date;
  /** performance.now() at the start. */
  t0: number;
}

/**
 * A probe that reads the chain from the byte stream. The TLS socket runs over an unconnected
 * net.Socket, so Node drives it through a JavaScript stream wrapper and every byte the server
 * sends passes a 'data' listener here; the listener only appends the chunk (bounded). All
 * parsing happens once, when the probe ends.
 *
 * It sees everything (the exact bytes of an unparsable certificate, what a non-TLS service
 * said, alerts) but the wrapper costs about a fifth of a handshake, so the native probe runs
 * first and hands over to this one only when it could not read a chain.
 */
export class StreamProbe {
  onFinish: (() => void) | null = null;
  private readonly startedAt: Date;
  private readonly t0: number;
  private raw: net.Socket | null = null;
  private socket: tls.TLSSocket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private verdictTimer: NodeJS.Timeout | null = null;
  private finished = false;
  private chunks: Buffer[] = [];
  private received = 0;
  private handshakeSecret: Buffer | null = null;
  private applicationSecret: Buffer | null = null;
  private connectStartedAt = 0;
  private tcpConnectedAt = 0;
  private secure = false;
  private awaitingVerdict = false;
  private errorCode: string | null = null;
  private errorMessage: string | null = null;
  private tlsAlert: number | null = null;

  constructor(
    readonly endpoint: Endpoint,
    private readonly timeoutMs: number,
    private readonly resolve: (r: ProbeResult) => void,
    clock: ProbeClock = { startedAt: new Date(), t0: performance.now() },
  ) {
    this.startedAt = clock.startedAt;
    this.t0 = clock.t0;
  }

  start(): void {
    const { endpoint } = this;
    if (endpoint.resolveError) return this.settle(endpoint.resolveError, null, []);
    if (endpoint.address === null) {
      return this.settle({ kind: 'dns', message: `no address to connect to for ${endpoint.host}` }, null, []);
    }
    let context: tls.SecureContext;
    try {
      context = probeContext(endpoint.clientCert);
    } catch (err) {
      return this.settle(
        { kind: 'handshake', message: `the client certificate configured for ${endpoint.target} cannot be used: ${(err as Error).message}` },
        null,
        [],
      );
    }
    const raw = new net.Socket();
    this.raw = raw;
    raw.on('data', this.onData);
    raw.once('connect', this.onTcpConnect);
    raw.on('error', this.onSocketError);
    const sni = endpoint.sni !== null && net.isIP(endpoint.sni) === 0 ? endpoint.sni : undefined;
    const socket = tls.connect({
      socket: raw,
      secureContext: context,
      servername: sni,
      rejectUnauthorized: false,
      checkServerIdentity: noIdentityCheck,
      minDHSize: 1,
    });
    this.socket = socket;
    socket.on('keylog', this.onKeylog);
    socket.once('secureConnect', this.onSecure);
    socket.on('error', this.onSocketError);
    socket.once('close', this.onClose);
    this.timer = setTimeout(this.onTimeout, Math.max(0, this.timeoutMs - (performance.now() - this.t0)));
    this.connectStartedAt = performance.now();
    try {
      raw.connect({ port: endpoint.port, host: endpoint.address });
    } catch (err) {
      // Node refuses some arguments synchronously (a port outside 1–65535, say): never reject.
      this.errorMessage = (err as Error).message;
      this.finish('error');
    }
  }

  cancel(): void {
    this.finish('cancelled');
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.received < MAX_CAPTURE_BYTES) this.chunks.push(chunk);
    this.received += chunk.length;
    if (this.awaitingVerdict) this.checkVerdict();
  };

  private readonly onTcpConnect = (): void => {
    this.tcpConnectedAt = performance.now();
  };

  private readonly onKeylog = (line: Buffer): void => {
    // Only the server's TLS 1.3 secrets matter: handshake (to read its Certificate) and
    // application (to read its answer to our Finished).
    const label = line.toString('latin1', 0, 12);
    if (label === 'SERVER_HANDS') this.handshakeSecret = secretFromKeylogLine(line, 'SERVER_HANDSHAKE_TRAFFIC_SECRET');
    else if (label === 'SERVER_TRAFF') this.applicationSecret = secretFromKeylogLine(line, 'SERVER_TRAFFIC_SECRET_0');
  };

  private readonly onSocketError = (err: NodeJS.ErrnoException): void => {
    if (this.finished) return;
    this.errorCode ??= err.code ?? null;
    this.errorMessage ??= err.message;
    this.tlsAlert ??= alertFromTlsError(err);
    if (this.socket?.destroyed !== false || this.raw?.destroyed) this.finish('error');
  };

  private readonly onClose = (): void => {
    this.finish(this.errorCode === null ? 'closed' : 'error');
  };

  private readonly onTimeout = (): void => {
    this.finish('timeout');
  };

  private readonly onSecure = (): void => {
    this.secure = true;
    const flight = this.flight(true);
    if (flight.version === TLS13 && flight.certificateRequested && flight.certificates !== null) {
      // A TLS 1.3 client finishes before the server has judged its certificate: the server's
      // verdict (a session ticket, or an alert such as certificate_required) comes after.
      this.awaitingVerdict = true;
      const rtt = this.tcpConnectedAt > 0 ? this.tcpConnectedAt - this.connectStartedAt : 0;
      this.verdictTimer = setTimeout(this.onVerdictTimeout, verdictWaitMs(rtt, this.timeoutMs - (performance.now() - this.t0)));
      this.checkVerdict();
      return;
    }
    this.finish('secure', flight);
  };

  private readonly onVerdictTimeout = (): void => {
    this.finish('secure');
  };

  private checkVerdict(): void {
    const flight = this.flight(false);
    if (flight.afterHandshake !== null) this.finish(flight.afterHandshake === 'accepted' ? 'secure' : 'error', flight);
  }

  private captured(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  private flight(untilCertificate: boolean): ServerFlight {
    return readServerFlight(
      this.captured(),
      { handshake: this.handshakeSecret, application: this.applicationSecret },
      untilCertificate,
    );
  }

  private finish(ending: Ending, known?: ServerFlight): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.verdictTimer) clearTimeout(this.verdictTimer);
    const socket = this.socket;
    const flight = known ?? (this.received > 0 ? this.flight(ending === 'secure') : null);
    if (flight?.certificates) {
      this.settle(null, this.tlsInfo(ending, flight), flight.certificates);
    } else {
      const error = describeFailure({
        peer: peerOf(this.endpoint),
        sni: this.endpoint.sni,
        timeoutMs: this.timeoutMs,
        ending,
        tcpConnected: this.tcpConnectedAt > 0,
        bytesReceived: this.received,
        firstBytes: this.chunks[0] ?? Buffer.alloc(0),
        flight,
        errorCode: this.errorCode,
        errorMessage: this.errorMessage,
        alert: this.tlsAlert,
      });
      const spoke = flight !== null && !flight.notTls && (flight.version !== null || flight.alert !== null);
      this.settle(error, spoke ? this.tlsInfo(ending, flight) : null, []);
    }
    this.chunks = [];
    socket?.destroy();
    this.raw?.destroy();
  }

  private tlsInfo(ending: Ending, flight: ServerFlight): TlsInfo {
    const socket = this.socket;
    const live = ending === 'secure' && socket !== null && !socket.destroyed;
    const completed = ending === 'secure' && flight.afterHandshake !== 'alert';
    const alert = completed ? null : (this.tlsAlert ?? flight.alert);
    return {
      version: (live ? socket.getProtocol() : null) ?? (flight.version === null ? null : protocolName(flight.version)),
      cipher: (live ? socket.getCipher()?.standardName : null) ?? (flight.cipherSuite === null ? null : cipherSuiteName(flight.cipherSuite)),
      completed,
      alert: alert === null ? null : alertName(alert),
    };
  }

  private settle(error: ProbeError | null, tlsInfo: TlsInfo | null, presented: Buffer[]): void {
    this.finished = true;
    this.onFinish?.();
    this.resolve({
      endpoint: this.endpoint,
      startedAt: this.startedAt,
      durationMs: Math.round((performance.now() - this.t0) * 10) / 10,
      presented,
      tls: tlsInfo,
      error,
      // The byte-stream reader does not decode CertificateStatus; the native path keeps staples.
      stapledOcsp: null,
    });
  }
}
