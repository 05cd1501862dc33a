// Memory per handshake of each way Node 20 lets a client read the peer's certificates.
//
// The bench server (child process) presents a leaf and its issuing CA. Each variant runs
// BENCH_HANDSHAKES handshakes (default 20,000) with bare tls.connect at concurrency 16 and, at
// the OpenSSL certificate-status hook (requestOCSP), reads the chain one way:
//   none      nothing read (requestOCSP only)
//   x509      getPeerX509Certificate() and the issuerCertificate walk (the chain as presented)
//   detailed  getPeerCertificate(true) (re-linked by name: order, duplicates and strays lost)
//   probe     probeEndpoint with the default capture (native first: what `chainwatch scan` uses)
//   stream    probeEndpoint with capture 'stream' (the byte-stream reader: what the daemon uses)
// RSS and external memory are sampled after a forced GC every 2,000 handshakes; the growth per
// handshake over the second half of the run is printed. Each variant runs in its own process.
//
// Run: node --expose-gc --import tsx test/bench/native-capture-leak.ts [variant...]
import { spawnSync } from 'node:child_process';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { probeEndpoint } from '../../src/probe/probe.js';
import { endpointFor } from '../probe/endpoint.js';
import { BENCH_HOST, benchPki, loop, type Once, startBenchServer } from './support.js';

const VARIANTS = ['none', 'x509', 'detailed', 'probe', 'stream'] as const;
type Variant = (typeof VARIANTS)[number];

const handshakes = Number(process.env.BENCH_HANDSHAKES ?? 20_000);
const STEP = 2_000;

function once(variant: Variant, port: number): Once {
  const endpoint = endpointFor({ host: '127.0.0.1', port: port }, { key: 'leak', target: 'leak', group: 'leak', host: BENCH_HOST });
  if (variant === 'probe' || variant === 'stream') {
    const capture = variant === 'probe' ? 'auto' : 'stream';
    return (done) =>
      void probeEndpoint(endpoint, { timeoutMs: 10_000, capture }).then((r) =>
        done(r.presented.length === 2 ? undefined : new Error(r.error?.message ?? 'no chain')),
      );
  }
  const context = tls.createSecureContext({ ca: [] });
  return (done) => {
    const options = { host: '127.0.0.1', port, servername: BENCH_HOST, secureContext: context, rejectUnauthorized: false, requestOCSP: true };
    const socket = tls.connect(options);
    let n = 0;
    socket.once('OCSPResponse', () => {
      if (variant === 'x509') for (let c = socket.getPeerX509Certificate(); c; c = c.issuerCertificate) n++;
      else if (variant === 'detailed') n = socket.getPeerCertificate(true).raw.length > 0 ? 2 : 0;
      else n = 2;
    });
    socket.once('secureConnect', () => {
      socket.destroy();
      done(n === 2 ? undefined : new Error(`read ${n} certificates`));
    });
    socket.once('error', (err) => {
      socket.destroy();
      done(err);
    });
  };
}

function sample(): { rss: number; external: number; heap: number } {
  globalThis.gc!();
  const m = process.memoryUsage();
  return { rss: m.rss, external: m.external, heap: m.heapUsed };
}

async function child(variant: Variant): Promise<void> {
  const { intermediate, leaf } = await benchPki();
  const server = await startBenchServer({ key: leaf.keyPem, cert: leaf.pem + intermediate.pem, maxVersion: 'TLSv1.3' });
  try {
    const run = once(variant, server.port);
    const samples: ReturnType<typeof sample>[] = [];
    let cpuUs = 0;
    for (let done = 0; done < handshakes; done += STEP) {
      const r = await loop(run, 16, { count: STEP });
      if (r.errors > 0) throw new Error(`${variant}: ${r.errors} failed, first: ${r.firstError?.message}`);
      cpuUs += r.cpuUs * STEP;
      samples.push(sample());
    }
    const mid = samples[Math.floor(samples.length / 2) - 1]!;
    const last = samples[samples.length - 1]!;
    const span = handshakes / 2;
    const mb = (b: number): string => (b / 1048576).toFixed(1);
    console.log(
      `${variant.padEnd(9)} RSS ${mb(samples[0]!.rss)} → ${mb(mid.rss)} → ${mb(last.rss)} MB` +
        `  growth ${((last.rss - mid.rss) / span).toFixed(0).padStart(5)} B/handshake RSS,` +
        ` ${((last.external - mid.external) / span).toFixed(0).padStart(4)} B external,` +
        ` ${((last.heap - mid.heap) / span).toFixed(0).padStart(4)} B heap;` +
        `  ${Math.round(cpuUs / handshakes)} µs client CPU/handshake`,
    );
  } finally {
    server.stop();
  }
}

const asked = process.argv.slice(2) as Variant[];
if (asked.length === 1 && process.env.LEAK_CHILD === '1') {
  await child(asked[0]!);
} else {
  console.log(`native-capture-leak: ${handshakes} handshakes per variant, TLS 1.3, leaf + intermediate, forced GC`);
  const script = fileURLToPath(import.meta.url);
  for (const variant of asked.length > 0 ? asked : VARIANTS) {
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', script, variant], {
      stdio: 'inherit',
      env: { ...process.env, LEAK_CHILD: '1' },
    });
    if (r.status !== 0) process.exitCode = 1;
  }
}
