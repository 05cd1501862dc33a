import tls from 'node:tls';
import net from 'node:net';
import type { Endpoint } from '../targets/types.js';
import { probeContext } from './context.js';
import { describeFailure, peerOf } from './failures.js';
import { StreamProbe, type ProbeClock } from './stream-probe.js';
import type { ProbeError, ProbeResult, TlsInfo } from './types.js';
import { noIdentityCheck, verdictWaitMs } from './verdict.js';
import { alertFromTlsError, alertName } from './wire/alerts.js';
import { MAX_CERTIFICATES } from './wire/limits.js';

type Ending = 'secure' | 'timeout' | 'cancelled' | 'error' | 'closed';

/**
 * The hot path: a plain tls.connect on Node's native TCP handle, no JavaScript in the data path.
 *
 * The chain is read at OpenSSL's certificate-status hook (asked for with requestOCSP), which runs
 * once the server's Certificate message has been processed and before we send our reply — so
 * also when an MTLS server aborts afterwards. At that point getPeerX509Certificate() walks the
 * peer chain exactly as the server sent it: Node takes each issuerCertificate from the next slot
 * of OpenSSL's received list, in order, duplicates and strays included (getPeerCertificate(true)
 * instead re-links certificates by name). The walk consumes that list, so it is done once.
 * The integration tests compare this with openssl s_client and with the byte-stream reader,
 * so a Node upgrade that changed the behaviour would fail them.
 *
 * Whenever this path ends without a chain after the TCP connection stood (alert, reset, a
 * non-TLS answer, a certificate OpenSSL refuses to parse), the probe is repeated by
 * StreamProbe within the same deadline: it reads the raw bytes and says precisely what happened.
 */
export class NativeProbe {
  onFinish: (() => void) | null = null;
  private readonly clock: ProbeClock = { startedAt: new Date(), t0: performance.now() };
  private socket: tls.TLSSocket | null = null;
  private fallback: StreamProbe | null = null;
  private timer: NodeJS.Timeout | null = null;
  private verdictTimer: NodeJS.Timeout | null = null;
  private finished = false;
  private chain: Buffer[] | null = null;
  private stapledOcsp: Buffer | null = null;
  private version: string | null = null;
  private cipher: string | null = null;
  private certificateRequested = false;
  private connectStartedAt = 0;
  private tcpConnectedAt = 0;
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
    let context: tls.SecureContext | null = null;
    try {
      context = probeContext(endpoint.clientCert);
    } catch {
      // StreamProbe reports an unusable client certificate, as it does resolve errors.
    }
    if (endpoint.resolveError || endpoint.address === null || context === null) return this.handOver();
    const sni = endpoint.sni !== null && net.isIP(endpoint.sni) === 0 ? endpoint.sni : undefined;
    this.connectStartedAt = performance.now();
    // tls.connect passes requestOCSP through to the socket; @types/node lists it only for TLSSocket.
    const options: tls.ConnectionOptions & Pick<tls.TLSSocketOptions, 'requestOCSP'> = {
      host: endpoint.address,
      port: endpoint.port,
      servername: sni,
      secureContext: context,
      requestOCSP: true,
      rejectUnauthorized: false,
      checkServerIdentity: noIdentityCheck,
      minDHSize: 1,
    };
    let socket: tls.TLSSocket;
    try {
      socket = tls.connect(options);
    } catch (err) {
      // Node refuses some arguments synchronously (a port outside 1–65535, say): never reject.
      return this.settle({ kind: 'unreachable', message: `cannot connect to ${peerOf(endpoint)}: ${(err as Error).message}` }, null, []);
    }
    this.socket = socket;
    socket.once('connect', this.onTcpConnect);
    socket.once('OCSPResponse', this.onServerFlight);
    socket.once('secureConnect', this.onSecure);
    socket.on('error', this.onError);
    socket.once('close', this.onClose);
    this.timer = setTimeout(this.onTimeout, this.timeoutMs);
  }

  cancel(): void {
    if (this.fallback) this.fallback.cancel();
    else this.finish('cancelled');
  }

  private readonly onTcpConnect = (): void => {
    this.tcpConnectedAt = performance.now();
  };

  private readonly onServerFlight = (response: Buffer | undefined): void => {
    // Runs inside OpenSSL's callback: an exception here would take the process down, so any
    // surprise only costs the fast path (StreamProbe then reads the bytes).
    try {
      // Node passes an empty or missing buffer when the server stapled nothing.
      if (Buffer.isBuffer(response) && response.length > 0) this.stapledOcsp = response;
      this.readServerFlight(this.socket!);
    } catch {
      this.chain = null;
    }
  };

  private readServerFlight(socket: tls.TLSSocket): void {
    this.version = socket.getProtocol();
    this.cipher = socket.getCipher()?.standardName ?? null;
    // Shared signature algorithms exist on a client only after a CertificateRequest.
    this.certificateRequested = socket.getSharedSigalgs().length > 0;
    // Before TLS 1.3 OpenSSL names the cipher only once keys are made; an MTLS server may abort
    // before 'secureConnect', so take it when the key log line for the session appears.
    if (this.cipher === null && this.certificateRequested) socket.once('keylog', this.onKeys);
    const chain: Buffer[] = [];
    for (let cert = socket.getPeerX509Certificate(); cert; cert = cert.issuerCertificate) {
      if (chain.length === MAX_CERTIFICATES) return; // StreamProbe names the limit
      chain.push(cert.raw);
    }
    if (chain.length > 0) this.chain = chain;
  }

  private readonly onKeys = (): void => {
    try {
      this.cipher ??= this.socket?.getCipher()?.standardName ?? null;
    } catch {
      // the name stays unknown
    }
  };

  private readonly onSecure = (): void => {
    this.cipher ??= this.socket!.getCipher()?.standardName ?? null;
    if (this.version === 'TLSv1.3' && this.certificateRequested && this.chain) {
      const rtt = this.tcpConnectedAt > 0 ? this.tcpConnectedAt - this.connectStartedAt : 0;
      this.socket!.once('session', this.onTicket);
      this.verdictTimer = setTimeout(this.onVerdictTimeout, verdictWaitMs(rtt, this.timeoutMs - (performance.now() - this.clock.t0)));
      return;
    }
    this.finish('secure');
  };

  /** A TLS 1.3 session ticket after our Finished: the server accepted our certificate (or none). */
  private readonly onTicket = (): void => {
    this.finish('secure');
  };

  private readonly onVerdictTimeout = (): void => {
    this.finish('secure');
  };

  private readonly onError = (err: NodeJS.ErrnoException): void => {
    if (this.finished) return;
    this.errorCode ??= err.code ?? null;
    this.errorMessage ??= err.message;
    this.tlsAlert ??= alertFromTlsError(err);
    this.finish('error');
  };

  private readonly onClose = (): void => {
    this.finish(this.errorCode === null ? 'closed' : 'error');
  };

  private readonly onTimeout = (): void => {
    this.finish('timeout');
  };

  private finish(ending: Ending): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.verdictTimer) clearTimeout(this.verdictTimer);
    const received = rawBytesRead(this.socket);
    this.socket?.destroy();
    if (this.chain) {
      const completed = ending === 'secure';
      const info: TlsInfo = {
        version: this.version,
        cipher: this.cipher,
        completed,
        alert: completed || this.tlsAlert === null ? null : alertName(this.tlsAlert),
      };
      return this.settle(null, info, this.chain);
    }
    const tcpConnected = this.tcpConnectedAt > 0;
    if (ending === 'cancelled' || ending === 'timeout' || !tcpConnected) {
      return this.settle(
        describeFailure({
          peer: peerOf(this.endpoint),
          sni: this.endpoint.sni,
          timeoutMs: this.timeoutMs,
          ending,
          tcpConnected,
          bytesReceived: received,
          firstBytes: Buffer.alloc(0),
          flight: null,
          errorCode: this.errorCode,
          errorMessage: this.errorMessage,
          alert: this.tlsAlert,
        }),
        null,
        [],
      );
    }
    this.handOver();
  }

  /** Repeat the probe reading the byte stream, within what is left of the deadline. */
  private handOver(): void {
    this.finished = true;
    const fallback = new StreamProbe(this.endpoint, this.timeoutMs, (r) => this.deliver(r), this.clock);
    this.fallback = fallback;
    fallback.start();
  }

  private settle(error: ProbeError | null, tlsInfo: TlsInfo | null, presented: Buffer[]): void {
    this.deliver({
      endpoint: this.endpoint,
      startedAt: this.clock.startedAt,
      durationMs: Math.round((performance.now() - this.clock.t0) * 10) / 10,
      presented,
      tls: tlsInfo,
      error,
      stapledOcsp: presented.length > 0 ? this.stapledOcsp : null,
    });
  }

  private deliver(result: ProbeResult): void {
    this.onFinish?.();
    this.resolve(result);
  }
}

/**
 * Bytes the server sent on the TCP connection, when Node lets us see them (the TCP handle under
 * the TLS one); null otherwise. Only used to word a timeout message.
 */
function rawBytesRead(socket: tls.TLSSocket | null): number | null {
  const tcp = (socket as unknown as { _handle?: { _parent?: { bytesRead?: unknown } } } | null)?._handle?._parent;
  return typeof tcp?.bytesRead === 'number' ? tcp.bytesRead : null;
}
