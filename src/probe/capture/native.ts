import type { TLSSocket } from 'node:tls';
import { MAX_CAPTURE_BYTES, MAX_CERTIFICATES } from '../wire/limits.js';
import type { Capture, CaptureReading, OnOverflow } from './capture.js';

/**
 * The peer chain exactly as the server sent it, read at OpenSSL's certificate-status hook; null
 * when it cannot be read here (the byte-stream capture then reads it).
 *
 * getPeerX509Certificate() walks OpenSSL's received list: Node takes each issuerCertificate
 * from the next slot, in order, duplicates and strays included (getPeerCertificate(true)
 * instead re-links certificates by name). The walk consumes that list, so it runs once. The
 * probe tests compare the result with openssl s_client and with the byte-stream capture, so a
 * Node upgrade that changed this would fail them.
 */
export function readPeerChain(tls: TLSSocket): Buffer[] | null {
  try {
    const chain: Buffer[] = [];
    for (let cert = tls.getPeerX509Certificate(); cert; cert = cert.issuerCertificate) {
      if (chain.length === MAX_CERTIFICATES) return null; // the byte-stream capture names the limit
      chain.push(cert.raw);
    }
    return chain.length > 0 ? chain : null;
  } catch {
    // Runs inside OpenSSL's callback: a surprise must only cost the fast path.
    return null;
  }
}

/**
 * The hot path: TLS on Node's native TCP handle, no JavaScript in the data path. Bytes are not
 * seen one by one, so the byte budget is checked on a shared tick: a server flooding the
 * handshake (an endless stream of HelloRequest records, say) is cut off within one tick.
 */
export function nativeCapture(onOverflow: OnOverflow, bytesBefore: number): Capture {
  let tcpBytesRead: (() => number) | null = null;
  let chain: Buffer[] | null = null;
  const received = (): number | null => (tcpBytesRead === null ? null : tcpBytesRead() - bytesBefore);
  const check = (): void => {
    if ((received() ?? 0) > MAX_CAPTURE_BYTES) onOverflow();
  };
  return {
    carrier: (socket) => socket,
    started(bytesRead) {
      tcpBytesRead = bytesRead;
      watched.add(check);
      tick ??= setInterval(runChecks, BUDGET_TICK_MS).unref();
    },
    atCertificateStatus(tls) {
      chain ??= readPeerChain(tls);
    },
    onKeylog: null,
    readOn: () => false,
    read: (): CaptureReading => ({ chain, flight: null, bytesReceived: received(), firstBytes: NO_BYTES }),
    release() {
      watched.delete(check);
      if (watched.size === 0 && tick !== null) {
        clearInterval(tick);
        tick = null;
      }
    },
  };
}

const NO_BYTES = Buffer.alloc(0);
const BUDGET_TICK_MS = 100;
const watched = new Set<() => void>();
let tick: NodeJS.Timeout | null = null;

function runChecks(): void {
  for (const check of [...watched]) check();
}
