import net from 'node:net';
import tls from 'node:tls';
import type { Endpoint } from '../targets/types.js';
import { probeContext } from './context.js';
import { describeFailure } from './failures.js';
import type { ProbeError, ProbeResult, TlsInfo } from './types.js';
import { alertFromTlsError, alertName } from './wire/alerts.js';
import { MAX_CAPTURE_BYTES } from './wire/limits.js';
import { cipherSuiteName, protocolName } from './wire/names.js';
import { readServerFlight, TLS13, type ServerFlight } from './wire/server-flight.js';
import { secretFromKeylogLine } from './wire/tls13.js';

const noIdentityCheck = (): undefined => undefined;
/** How long a TLS 1.3 server that asked for a client certificate gets to accept or reject ours. */
const MIN_VERDICT_WAIT_MS = 1000;

type Ending = 'secure' | 'timeout' | 'cancelled' | 'error' | 'closed';

/**
 * One probe. The TLS socket runs over an unconnected net.Socket, so Node drives it through a
 * JavaScript stream wrapper and every byte the server sends passes a 'data' listener here; the
 * listener only appends the chunk (bounded). All parsing happens once, when the probe ends.
 */
export class Probe {
  onFinish: (() => void) | null = null;
  private readonly startedAt = new Date();
  private readonly t0 = performance.now();
  private raw: net.Socket | null = null;
  private socket: tls.TLSSocket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private verdictTimer: NodeJS.Timeout | null = null;
  private finished = false;
  private chunks: Buffer[] = [];
  private received = 0;
  private handshakeSecret: Buffer | null = null;
  private applicationSecret: Buffer | null = null;
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
  ) {}

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
    this.timer = setTimeout(this.onTimeout, this.timeoutMs);
    raw.connect({ port: endpoint.port, host: endpoint.address });
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
      const rtt = this.tcpConnectedAt > 0 ? this.tcpConnectedAt - this.t0 : 0;
      const remaining = this.timeoutMs - (performance.now() - this.t0);
      const wait = Math.max(0, Math.min(remaining, Math.max(MIN_VERDICT_WAIT_MS, 4 * rtt)));
      this.verdictTimer = setTimeout(this.onVerdictTimeout, wait);
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
      const peer = net.isIPv6(this.endpoint.address ?? '') ? `[${this.endpoint.address}]:${this.endpoint.port}` : `${this.endpoint.address}:${this.endpoint.port}`;
      const error = describeFailure({
        peer,
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
    });
  }
}
