// Probe throughput against a bare tls.connect loop.
//
// A TLS server (RSA-2048 leaf + intermediate) runs in a child process, so server and client each
// get a core. The same run interleaves rounds (A/B/A/B…) of:
//   bare        tls.connect → 'secureConnect' → destroy; nothing read (the reference)
//   probe       probeEndpoint: full handshake plus the chain exactly as presented
//   bare-shared the bare loop reusing one SecureContext (informational: isolates the capture
//               cost from the per-connection context the plain call builds)
//   probe-stream probeEndpoint with capture 'stream' (informational: the byte-stream reader
//               the native path falls back to, i.e. the JavaScript-tap design)
//   bare-preconnected net.connect, then tls.connect({ socket }) with the shared SecureContext
//               (informational: what TLS over a socket another stage connected costs, against
//               bare-shared, where tls.connect owns the TCP connect)
// at the same concurrency, for TLS 1.3 and TLS 1.2. It prints handshakes/s, the client's CPU time
// per handshake, and the ratios, and fails when probe/bare is below 0.9. The ratio judged is the
// median of per-round ratios: the two variants of a round run back to back under the same
// machine load, which matters on a shared machine.
//
// Run: npm run bench   (or: node --import tsx test/bench/probe-throughput.bench.ts)
// Knobs: BENCH_ROUNDS (default 8), BENCH_ROUND_MS (1000), BENCH_CONCURRENCY (16).
import net from 'node:net';
import tls from 'node:tls';
import { probeEndpoint } from '../../src/probe/probe.js';
import type { Endpoint } from '../../src/targets/types.js';
import { BENCH_HOST, benchPki, loop, mean, median, type Once, pairedRatio, startBenchServer } from './support.js';

const TARGET_RATIO = 0.9;
const HOST = BENCH_HOST;

async function main(): Promise<void> {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 8);
  const roundMs = Number(process.env.BENCH_ROUND_MS ?? 1000);
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);

  const { intermediate, leaf } = await benchPki();
  const expected = [leaf.der, intermediate.der];

  let failed = false;
  for (const maxVersion of ['TLSv1.3', 'TLSv1.2'] as const) {
    const server = await startBenchServer({ key: leaf.keyPem, cert: leaf.pem + intermediate.pem, maxVersion });
    try {
      const sharedContext = tls.createSecureContext({});
      const endpoint: Endpoint = {
        key: 'bench',
        target: 'bench',
        group: 'bench',
        role: null,
        labels: {},
        host: HOST,
        port: server.port,
        address: '127.0.0.1',
        sni: HOST,
        url: null,
        clientCert: null,
        starttls: null,
        resolveError: null,
      };
      const connectOptions = { host: '127.0.0.1', port: server.port, servername: HOST, rejectUnauthorized: false };
      const bareWith =
        (extra: tls.ConnectionOptions): Once =>
        (done) => {
          const socket = tls.connect({ ...connectOptions, ...extra });
          socket.once('secureConnect', () => {
            socket.destroy();
            done();
          });
          socket.once('error', (err) => {
            socket.destroy();
            done(err);
          });
        };
      const preconnected: Once = (done) => {
        const raw = net.connect({ host: '127.0.0.1', port: server.port });
        raw.once('error', (err) => {
          raw.destroy();
          done(err);
        });
        raw.once('connect', () => bareWith({ socket: raw, secureContext: sharedContext })(done));
      };
      const variants: Record<string, Once> = {
        bare: bareWith({}),
        probe: (done) => {
          void probeEndpoint(endpoint, { timeoutMs: 10_000 }).then((r) => {
            const exact = r.error === null && r.presented.length === 2 && r.presented.every((d, i) => d.equals(expected[i]!));
            done(exact ? undefined : new Error(`probe did not capture the chain: ${JSON.stringify(r.error ?? r.tls)}`));
          });
        },
        'bare-shared': bareWith({ secureContext: sharedContext }),
        'probe-stream': (done) => {
          void probeEndpoint(endpoint, { timeoutMs: 10_000, capture: 'stream' }).then((r) => {
            const exact = r.error === null && r.presented.length === 2 && r.presented.every((d, i) => d.equals(expected[i]!));
            done(exact ? undefined : new Error(`stream probe did not capture the chain: ${JSON.stringify(r.error ?? r.tls)}`));
          });
        },
        'bare-preconnected': preconnected,
      };
      for (const once of Object.values(variants)) await loop(once, concurrency, { ms: 400 }); // warm-up

      const rates: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
      const cpus: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
      for (let round = 0; round < rounds; round++) {
        // Alternate the order so neither variant always runs first in a round.
        const order = round % 2 === 0 ? Object.keys(variants) : Object.keys(variants).reverse();
        for (const name of order) {
          const r = await loop(variants[name]!, concurrency, { ms: roundMs });
          if (r.errors > 0) {
            console.error(`${maxVersion} ${name}: ${r.errors} failed handshakes, first: ${r.firstError?.message}`);
            failed = true;
          }
          rates[name]!.push(r.rate);
          cpus[name]!.push(r.cpuUs);
        }
      }
      const paired = (a: string, b: string): number => pairedRatio(rates[a]!, rates[b]!);
      const ratio = paired('probe', 'bare');
      const line = (label: string, name: string): string =>
        `  ${label.padEnd(27)}${Math.round(mean(rates[name]!)).toString().padStart(6)} handshakes/s` +
        `  ${Math.round(median(cpus[name]!)).toString().padStart(5)} µs client CPU/handshake   rounds: ${rates[name]!.map(Math.round).join(' ')}`;
      console.log(`probe-throughput ${maxVersion}, RSA-2048 leaf+intermediate, concurrency ${concurrency}, ${rounds}×${roundMs} ms per variant`);
      console.log(line('bare tls.connect', 'bare'));
      console.log(line('probeEndpoint', 'probe'));
      console.log(line('bare, shared SecureContext', 'bare-shared'));
      console.log(line('probeEndpoint, stream only', 'probe-stream'));
      console.log(line('bare, pre-connected socket', 'bare-preconnected'));
      console.log(`  probe / bare = ${ratio.toFixed(3)} (median of per-round ratios; target ≥ ${TARGET_RATIO})`);
      console.log(
        `  informational: probe / bare-shared = ${paired('probe', 'bare-shared').toFixed(3)}, ` +
          `probe-stream / bare = ${paired('probe-stream', 'bare').toFixed(3)}, probe-stream / bare-shared = ${paired('probe-stream', 'bare-shared').toFixed(3)}, ` +
          `bare-preconnected / bare-shared = ${paired('bare-preconnected', 'bare-shared').toFixed(3)}`,
      );
      if (!(ratio >= TARGET_RATIO)) {
        console.error(`  FAIL: probe throughput ${ratio.toFixed(3)}× bare is below ${TARGET_RATIO}`);
        failed = true;
      }
    } finally {
      server.stop();
    }
  }
  process.exitCode = failed ? 1 : 0;
}

await main();
