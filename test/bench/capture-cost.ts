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
// Prints client CPU µs per handshake (median over rounds) and each variant's extra over bare.
//
// Run: node --expose-gc --import tsx test/bench/capture-cost.ts [TLSv1.3|TLSv1.2]
// Knobs: BENCH_ROUNDS (6), BENCH_ROUND_COUNT (1500 handshakes per variant, run in slices of
// BENCH_SLICE = 250 taking turns), BENCH_CONCURRENCY (16), BENCH_VARIANTS (bare always runs).
import net from 'node:net';
import tls from 'node:tls';
import { probeContext } from '../../src/probe/context.js';
import { probeEndpoint } from '../../src/probe/probe.js';
import type { Endpoint } from '../../src/targets/types.js';
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
const endpoint: Endpoint = {
  key: 'cost',
  target: 'cost',
  group: 'cost',
  role: null,
  labels: {},
  host: BENCH_HOST,
  port: server.port,
  address: '127.0.0.1',
  sni: BENCH_HOST,
  url: null,
  clientCert: null,
  resolveError: null,
  starttls: null,
};

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

function probe(capture: 'auto' | 'stream'): Once {
  return (done) =>
    void probeEndpoint(endpoint, { timeoutMs: 10_000, capture }).then((r) =>
      done(r.error === null && r.presented.length === 2 ? undefined : new Error(r.error?.message ?? 'chain not read')),
    );
}

const all: Record<string, Once> = {
  bare: native(null, false),
  ocsp: native(null, true),
  x509: native(x509Count, true),
  preconnect: preconnected(),
  js: js(false, false),
  'js-data': js(true, false),
  'js-data-keylog': js(true, true),
  probe: probe('auto'),
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

try {
  for (const once of Object.values(variants)) await loop(once, concurrency, { count: 300 });
  const cpu: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  const sys: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  const extra: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  const names = Object.keys(variants);
  for (let round = 0; round < rounds; round++) {
    // Variants take turns in short slices, each slice in a rotated order: on a shared machine the
    // load changes within seconds, and every variant should see the same mix of it.
    const us: Record<string, { cpu: number; system: number; n: number }> = {};
    for (const name of names) us[name] = { cpu: 0, system: 0, n: 0 };
    for (let done = 0, turn = 0; done < count; done += slice, turn++) {
      const n = Math.min(slice, count - done);
      const order = names.map((_, i) => names[(i + turn) % names.length]!);
      for (const name of turn % 2 === 0 ? order : order.reverse()) {
        const r = await measured(variants[name]!, n);
        us[name]!.cpu += r.cpu;
        us[name]!.system += r.system;
        us[name]!.n += n;
      }
    }
    for (const name of names) {
      cpu[name]!.push(us[name]!.cpu / us[name]!.n);
      sys[name]!.push(us[name]!.system / us[name]!.n);
      extra[name]!.push(us[name]!.cpu / us.bare!.cpu - 1);
    }
  }
  console.log(`capture-cost ${maxVersion}, leaf + intermediate, concurrency ${concurrency}, ${rounds} rounds × ${count} handshakes`);
  for (const name of Object.keys(variants)) {
    const pct = (median(extra[name]!) * 100).toFixed(1);
    if (process.env.BENCH_VERBOSE) console.log(name, extra[name]!.map((x) => (x * 100).toFixed(1)).join(' '), cpu[name]!.map(Math.round).join(' '));
    console.log(
      `  ${name.padEnd(15)} ${Math.round(median(cpu[name]!)).toString().padStart(6)} µs client CPU/handshake (${Math.round(median(sys[name]!)).toString().padStart(4)} system)   ${name === 'bare' ? '' : `extra ${pct.padStart(5)} %`}`,
    );
  }
} finally {
  server.stop();
}
