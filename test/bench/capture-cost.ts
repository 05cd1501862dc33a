// Where the client CPU of a chain capture goes: each way of reading the presented chain against
// a bare native tls.connect that reads nothing, in interleaved rounds, same SecureContext.
//   bare           native handle, 'secureConnect' → destroy (the reference)
//   ocsp           bare plus requestOCSP (the certificate-status hook the native probe uses)
//   x509           ocsp plus getPeerX509Certificate() and the issuerCertificate walk
//   preconnect     x509, but TCP connected first and TLS started over it (tls.connect({socket}))
//   js             TLS over an unconnected net.Socket (JSStreamSocket), nothing read
//   js-data        js plus a 'data' listener keeping the chunks
//   js-data-keylog js-data plus the key log (TLS 1.3 secrets)
//   probe          probeEndpoint (the product)
//   stream         probeEndpoint with capture 'stream'
//   probe-baseline probeEndpoint of the checkout named by BENCH_BASELINE, when set
// Prints client CPU µs per handshake and each variant's extra over bare: medians over turns, a
// turn being one slice of every variant, and the middle half of the per-turn extras.
//
// Run: node --expose-gc --import tsx test/bench/capture-cost.ts [TLSv1.3|TLSv1.2]
// Knobs: BENCH_ROUNDS (6) × BENCH_ROUND_COUNT (1500) handshakes per variant, run in slices of
// BENCH_SLICE (250); BENCH_CONCURRENCY (16); BENCH_VARIANTS (bare always runs).
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { pathToFileURL } from 'node:url';
import { probeContext } from '../../src/probe/context.js';
import { probeEndpoint } from '../../src/probe/probe.js';
import { endpointFor } from '../probe/endpoint.js';
import { BENCH_HOST, benchPki, loop, median, type Once, startBenchServer } from './support.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 6);
const count = Number(process.env.BENCH_ROUND_COUNT ?? 1500);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
const slice = Number(process.env.BENCH_SLICE ?? 250);
const maxVersion = (process.argv[2] ?? 'TLSv1.3') as tls.SecureVersion;

const { intermediate, leaf } = await benchPki();
const server = await startBenchServer({ key: leaf.keyPem, cert: leaf.pem + intermediate.pem, maxVersion });
const context = probeContext(null);
const base = { servername: BENCH_HOST, secureContext: context, rejectUnauthorized: false, checkServerIdentity: () => undefined };
const endpoint = endpointFor({ host: '127.0.0.1', port: server.port }, { key: 'cost', target: 'cost', group: 'cost', host: BENCH_HOST });

function finish(socket: tls.TLSSocket, done: (err?: Error) => void, ok: () => boolean): void {
  socket.once('secureConnect', () => {
    socket.destroy();
    done(ok() ? undefined : new Error('chain not read'));
  });
  socket.once('error', (err) => {
    socket.destroy();
    done(err);
  });
}

function native(read: ((s: tls.TLSSocket) => number) | null, ocsp: boolean): Once {
  return (done) => {
    const socket = tls.connect({ ...base, host: '127.0.0.1', port: server.port, ...(ocsp ? { requestOCSP: true } : {}) });
    let n = read ? 0 : 2;
    if (read) socket.once('OCSPResponse', () => (n = read(socket)));
    finish(socket, done, () => n === 2);
  };
}

function x509Count(s: tls.TLSSocket): number {
  let n = 0;
  for (let c = s.getPeerX509Certificate(); c; c = c.issuerCertificate) n++;
  return n;
}

function preconnected(): Once {
  return (done) => {
    const raw = net.connect({ host: '127.0.0.1', port: server.port });
    raw.once('error', done);
    raw.once('connect', () => {
      const socket = tls.connect({ ...base, socket: raw, requestOCSP: true } as tls.ConnectionOptions);
      let n = 0;
      socket.once('OCSPResponse', () => (n = x509Count(socket)));
      finish(socket, done, () => n === 2);
    });
  };
}

function js(data: boolean, keylog: boolean): Once {
  return (done) => {
    const raw = new net.Socket();
    const chunks: Buffer[] = [];
    if (data) raw.on('data', (c: Buffer) => chunks.push(c));
    raw.on('error', () => undefined);
    const socket = tls.connect({ ...base, socket: raw });
    if (keylog) socket.on('keylog', () => undefined);
    finish(socket, done, () => !data || chunks.length > 0);
    raw.connect({ host: '127.0.0.1', port: server.port });
    socket.once('close', () => raw.destroy());
  };
}

function probe(capture: 'auto' | 'stream', probeOne = probeEndpoint): Once {
  return (done) =>
    void probeOne(endpoint, { timeoutMs: 10_000, capture }).then((r) =>
      done(r.error === null && r.presented.length === 2 ? undefined : new Error(r.error?.message ?? 'chain not read')),
    );
}

// BENCH_BASELINE=<another checkout> adds 'probe-baseline': that checkout's probeEndpoint in the
// same run, for a before/after under the same load (its src/ is loaded through tsx).
const baselineDir = process.env.BENCH_BASELINE;
const baseline = baselineDir
  ? ((await import(pathToFileURL(path.resolve(baselineDir, 'src/probe/probe.ts')).href)) as { probeEndpoint: typeof probeEndpoint })
  : null;

const all: Record<string, Once> = {
  bare: native(null, false),
  ocsp: native(null, true),
  x509: native(x509Count, true),
  preconnect: preconnected(),
  js: js(false, false),
  'js-data': js(true, false),
  'js-data-keylog': js(true, true),
  probe: probe('auto'),
  ...(baseline ? { 'probe-baseline': probe('auto', baseline.probeEndpoint) } : {}),
  stream: probe('stream'),
};
const wanted = process.env.BENCH_VARIANTS?.split(',') ?? Object.keys(all);
const variants = Object.fromEntries(Object.entries(all).filter(([k]) => k === 'bare' || wanted.includes(k)));

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc: each slice ends with a full collection');

/**
 * `n` handshakes and then a full collection, both counted: garbage (and the native memory the
 * X509Certificate wrappers hold) is paid for by the variant that made it, not by the next one.
 */
async function measured(once: Once, n: number): Promise<{ cpu: number; system: number }> {
  // A full collection also costs for the heap that is live anyway (the same for every variant);
  // an idle one measured just before is taken off so that it does not dilute the differences.
  gc!();
  const idle0 = process.cpuUsage();
  gc!();
  const idle = process.cpuUsage(idle0);
  const cpu0 = process.cpuUsage();
  const r = await loop(once, concurrency, { count: n });
  gc!();
  const cpu = process.cpuUsage(cpu0);
  if (r.errors > 0) throw new Error(`${r.errors} failed, first: ${r.firstError?.message}`);
  return { cpu: Math.max(0, cpu.user + cpu.system - idle.user - idle.system), system: cpu.system };
}

/** The value below which a share `q` of `xs` lies (nearest rank). */
function quantile(xs: number[], q: number): number {
  const sorted = [...xs].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

try {
  for (const once of Object.values(variants)) await loop(once, concurrency, { count: 300 });
  const names = Object.keys(variants);
  const perTurn = (): Record<string, number[]> => Object.fromEntries(names.map((k) => [k, []]));
  const cpu = perTurn();
  const sys = perTurn();
  const extra = perTurn();
  const slicesPerRound = Math.ceil(count / slice);
  // Every variant runs one slice per turn, the order rotated from turn to turn. On a shared
  // machine the load changes within seconds: a variant is compared with bare in the same turn,
  // and the median over all turns keeps a turn that a neighbour's burst hit from deciding.
  for (let turn = 0; turn < rounds * slicesPerRound; turn++) {
    const n = Math.min(slice, count - (turn % slicesPerRound) * slice);
    const order = names.map((_, i) => names[(i + turn) % names.length]!);
    const got: Record<string, number> = {};
    for (const name of turn % 2 === 0 ? order : order.reverse()) {
      const r = await measured(variants[name]!, n);
      got[name] = r.cpu / n;
      cpu[name]!.push(r.cpu / n);
      sys[name]!.push(r.system / n);
    }
    for (const name of names) extra[name]!.push(got[name]! / got.bare! - 1);
  }
  const turns = rounds * slicesPerRound;
  console.log(`capture-cost ${maxVersion}, leaf + intermediate, concurrency ${concurrency}, ${turns} turns × ${slice} handshakes per variant`);
  const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
  for (const name of names) {
    const us = Math.round(median(cpu[name]!)).toString().padStart(6);
    const spread = `(middle half ${pct(quantile(extra[name]!, 0.25))} … ${pct(quantile(extra[name]!, 0.75))})`;
    console.log(
      `  ${name.padEnd(15)} ${us} µs client CPU/handshake (${Math.round(median(sys[name]!)).toString().padStart(4)} system)${name === 'bare' ? '' : `   extra ${pct(median(extra[name]!)).padStart(7)} ${spread}`}`,
    );
  }
} finally {
  server.stop();
}
