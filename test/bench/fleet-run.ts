// The side-by-side fleet run: one loopback fleet served by Debian's nginx (one server block with
// a `listen` line per endpoint, ECDSA P-256 leaf + intermediate, no session reuse), a share of
// black holes (a listener that accepts and never answers), and in interleaved rounds:
//   bare       a tls.connect loop over the same endpoints (no certificate read): the floor
//   scan       `chainwatch scan` as a whole process (node dist/src/cli/main.js)
//   blackbox   Debian's prometheus-blackbox-exporter, driven with /probe requests at the same
//              concurrency (tcp prober with TLS)
// then `chainwatch run` on the same fleet: its own scan durations (log), its RSS, and /metrics
// size and time, plain and gzip. Used by fleet.bench.ts (npm run bench) and, at a few dozen
// endpoints, by the smoke test in npm test.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import tls from 'node:tls';
import { createIntermediateCa, createRootCa, issueLeaf } from '../../src/demo/pki.js';
import { childrenRssMb, median, procRssMb } from './support.js';

export const NGINX = '/usr/sbin/nginx';
/** How the systemd unit and the container image start the daemon (a test holds them to it). */
export const DAEMON_NODE_OPTIONS = '--max-semi-space-size=2';
export const BLACKBOX = '/usr/bin/prometheus-blackbox-exporter';
const HOST = 'fleet.contoso.test';

export interface FleetRunOptions {
  endpoints: number;
  /** Share of endpoints that are black holes, e.g. 0.05. */
  holes: number;
  concurrency: number;
  rounds: number;
  timeoutMs: number;
  /** Scans of the daemon to time. */
  daemonScans: number;
  /** How long the daemon waits between scans, where RSS and scrape times are also measured (default 20 s). */
  daemonIdleMs?: number;
  blackbox: boolean;
  /** How to start chainwatch: node arguments before the command (default: the build in dist/). */
  entry?: string[];
  log?: (line: string) => void;
}

export interface FleetRunResult {
  endpoints: number;
  holes: number;
  concurrency: number;
  rounds: number;
  /** Seconds per round for each variant. */
  seconds: Record<string, number[]>;
  /** Median of per-round ratios, bare / variant (above 1: faster than the bare loop). */
  speedVsBare: Record<string, number>;
  /** Endpoints each variant got a chain (or a TLS handshake) from, in the last round. */
  ok: Record<string, number>;
  /** `chainwatch scan`'s own process, and the largest of its probe processes. */
  scanMaxRssMb: number;
  scanProbeMaxRssMb: number;
  daemon: {
    scanSeconds: number[];
    /** At the scrape right after the last scan: what that scan's work still holds. */
    rssMb: number;
    /** The most the daemon held while waiting for a scan (sampled just before each scan after the first). */
    idleRssMb: number;
    peakRssMb: number;
    probeProcessPeakRssMb: number;
    metricsBytes: number;
    metricsGzipBytes: number;
    /** Scrape times while the daemon waits between scans, median of IDLE_SCRAPES each. */
    metricsMs: number;
    metricsGzipMs: number;
    /** Scrape times right after a scan, while the daemon still saves and alerts. */
    metricsAfterScanMs: number;
    metricsAfterScanGzipMs: number;
    /**
     * The slowest of the gzip scrapes (what Prometheus asks for) made back to back, 100 ms apart,
     * from the end of the first scan to the end of the last: scans, publication and all.
     */
    metricsWorstGzipMs: number;
    chainsOk: number;
  };
}

export async function runFleet(o: FleetRunOptions): Promise<FleetRunResult> {
  const log = o.log ?? (() => undefined);
  const entry = o.entry ?? ['dist/src/cli/main.js'];
  const dir = await mkdtemp(join(tmpdir(), 'chainwatch-fleet-'));
  const stops: (() => void | Promise<void>)[] = [];
  try {
    const root = await createRootCa({ commonName: 'Fleet Root CA' });
    const ca = await createIntermediateCa(root, { commonName: 'Fleet Issuing CA' });
    const leaf = await issueLeaf(ca, { commonName: HOST, dnsNames: [HOST], key: 'p256' });
    await writeFile(join(dir, 'chain.pem'), leaf.pem + ca.pem);
    await writeFile(join(dir, 'key.pem'), leaf.keyPem);
    await writeFile(join(dir, 'root.pem'), root.pem);

    const holeCount = Math.round(o.endpoints * o.holes);
    const ports = await startNginx(dir, o.endpoints - holeCount, stops);
    const hole = await blackHole(stops);
    // Holes spread evenly through the list, as they would be in a real fleet.
    const targets: number[] = [];
    const every = holeCount > 0 ? o.endpoints / holeCount : Infinity;
    for (let i = 0, p = 0, h = 0; i < o.endpoints; i++) {
      if (h < holeCount && i >= Math.floor(h * every + every / 2)) {
        targets.push(hole);
        h++;
      } else targets.push(ports[p++]!);
    }
    const config = join(dir, 'chainwatch.yaml');
    const timeout = `${o.timeoutMs / 1000}s`;
    const writeConfig = (schedule: string) =>
      writeFile(
        config,
        `server: {listen: "127.0.0.1:0"}\nscan: {schedule: "${schedule}", timeout: ${timeout}, concurrency: ${o.concurrency}}\n` +
          `trust: {ca_files: [root.pem], system_roots: false}\nstate: {path: state}\ntargets:\n` +
          targets.map((port, i) => `  - {name: e${i}, group: fleet, host: ${HOST}, address: 127.0.0.1, port: ${port}}`).join('\n') +
          '\n',
      );
    await writeConfig('0 0 1 1 *');

    const bb = o.blackbox ? await startBlackbox(dir, o.timeoutMs, stops) : null;
    const variants: Record<string, () => Promise<VariantRun>> = {
      bare: () => timedRun(() => bareLoop(targets, o.concurrency, o.timeoutMs)),
      scan: async () => wholeScan(entry, config),
      ...(bb === null ? {} : { blackbox: () => timedRun(() => blackboxLoop(bb, targets, o.concurrency)) }),
    };
    const seconds: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
    const ok: Record<string, number> = {};
    let scanMaxRssMb = 0;
    let scanProbeMaxRssMb = 0;
    for (let round = 0; round < o.rounds; round++) {
      const order = round % 2 === 0 ? Object.keys(variants) : Object.keys(variants).reverse();
      for (const name of order) {
        const run = await variants[name]!();
        seconds[name]!.push(run.seconds);
        ok[name] = run.ok;
      }
      scanMaxRssMb = Math.max(scanMaxRssMb, lastScanMaxRssMb);
      scanProbeMaxRssMb = Math.max(scanProbeMaxRssMb, lastProbeMaxRssMb);
      log(
        `  round ${round + 1}/${o.rounds}: ${Object.entries(seconds)
          .map(([k, v]) => `${k} ${v[v.length - 1]!.toFixed(2)} s`)
          .join(', ')}`,
      );
    }
    const speedVsBare = Object.fromEntries(Object.keys(variants).map((k) => [k, median(seconds.bare!.map((b, i) => b / seconds[k]![i]!))]));

    // A scan of the fleet takes about endpoints / 500 timeouts; the schedule leaves the daemon
    // idle between scans at least daemonIdleMs, as it is most of its life.
    const scanEvery = Math.ceil(((o.endpoints / 500) * o.timeoutMs + (o.daemonIdleMs ?? 20_000)) / 1000);
    await writeConfig(
      scanEvery >= 60 ? `0 */${Math.ceil(scanEvery / 60)} * * * *` : `*/${[2, 3, 4, 5, 6, 10, 12, 15, 20, 30].find((d) => d >= scanEvery)} * * * * *`,
    );
    const daemon = await daemonRun(entry, config, o.daemonScans, o.daemonIdleMs ?? 20_000, stops);
    return {
      endpoints: o.endpoints,
      holes: holeCount,
      concurrency: o.concurrency,
      rounds: o.rounds,
      seconds,
      speedVsBare,
      ok,
      scanMaxRssMb,
      scanProbeMaxRssMb,
      daemon,
    };
  } finally {
    for (const stop of stops.reverse()) await stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function startNginx(dir: string, count: number, stops: (() => void | Promise<void>)[]): Promise<number[]> {
  // Below the ephemeral range when it fits: the sockets the rounds leave in TIME_WAIT hold ports
  // there, and a 10,000-port block inside it almost always meets one.
  const [ephemeral] = (await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').catch(() => '32768')).trim().split(/\s+/).map(Number);
  const [low, high] = ephemeral! - count > 10_000 ? [10_000, ephemeral! - count] : [20_000, 60_000 - count];
  for (let attempt = 0; attempt < 5; attempt++) {
    // A block of consecutive ports; another process may hold one of them, so retry elsewhere.
    const base = low + Math.floor(Math.random() * (high - low));
    const ports = Array.from({ length: count }, (_, i) => base + i);
    await writeFile(
      join(dir, 'nginx.conf'),
      `worker_processes 1;\ndaemon off;\nmaster_process off;\npid ${dir}/nginx.pid;\nerror_log ${dir}/nginx-error.log error;\n` +
        `worker_rlimit_nofile ${count + 4096};\nevents { worker_connections ${count + 4096}; }\n` +
        `http {\n  access_log off;\n  client_body_temp_path ${dir}/body;\n  proxy_temp_path ${dir}/proxy;\n  fastcgi_temp_path ${dir}/fastcgi;\n` +
        `  uwsgi_temp_path ${dir}/uwsgi;\n  scgi_temp_path ${dir}/scgi;\n` +
        `  ssl_certificate ${dir}/chain.pem;\n  ssl_certificate_key ${dir}/key.pem;\n  ssl_session_cache off;\n  ssl_session_tickets off;\n` +
        `  server {\n${ports.map((p) => `    listen 127.0.0.1:${p} ssl;\n`).join('')}    return 204;\n  }\n}\n`,
    );
    const nginx = spawn(NGINX, ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    nginx.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const up = await waitForPort(ports[ports.length - 1]!, nginx, 20_000);
    if (up) {
      stops.push(() => stopChild(nginx));
      return ports;
    }
    await stopChild(nginx);
    if (!/Address already in use/.test(stderr)) throw new Error(`nginx did not start: ${stderr.trim()}`);
  }
  throw new Error('nginx could not find a free block of loopback ports');
}

async function waitForPort(port: number, child: ChildProcess, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && child.exitCode === null) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: HOST });
      s.once('secureConnect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => {
        s.destroy();
        resolve(false);
      });
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 3000).unref();
  });
}

async function blackHole(stops: (() => void | Promise<void>)[]): Promise<number> {
  const held = new Set<Socket>();
  const server: Server = createServer((s) => {
    held.add(s);
    s.on('error', () => undefined);
    s.on('close', () => held.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  stops.push(() => {
    for (const s of held) s.destroy();
    server.close();
  });
  return (server.address() as { port: number }).port;
}

/** tls.connect per endpoint, nothing read; returns the handshakes completed. */
function bareLoop(ports: number[], concurrency: number, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const context = tls.createSecureContext({ ca: [] });
    let next = 0;
    let active = 0;
    let ok = 0;
    const launch = (): void => {
      while (active < concurrency && next < ports.length) {
        const port = ports[next++]!;
        active++;
        const socket = tls.connect({ host: '127.0.0.1', port, servername: HOST, secureContext: context, rejectUnauthorized: false });
        const timer = setTimeout(() => end(false), timeoutMs);
        let ended = false;
        const end = (handshake: boolean): void => {
          if (ended) return;
          ended = true;
          clearTimeout(timer);
          socket.destroy();
          if (handshake) ok++;
          active--;
          if (next < ports.length) launch();
          else if (active === 0) resolve(ok);
        };
        socket.once('secureConnect', () => end(true));
        socket.once('error', () => end(false));
      }
    };
    launch();
  });
}

const IDLE_SCRAPES = 5;

let lastScanMaxRssMb = 0;
let lastProbeMaxRssMb = 0;
const MAXRSS_HOOK = `data:text/javascript,process.on("exit",()=>process.stderr.write("MAXRSS "+process.resourceUsage().maxRSS+"\\n"))`;

/** One round of a variant: endpoints that gave a chain (or a handshake), and its wall time. */
interface VariantRun {
  ok: number;
  seconds: number;
}

async function timedRun(loop: () => Promise<number>): Promise<VariantRun> {
  const t0 = performance.now();
  const ok = await loop();
  return { ok, seconds: (performance.now() - t0) / 1000 };
}

/**
 * `chainwatch scan` as a whole process, timed from its launch to its exit with the report read
 * from its output; parsing that report (35 MB at 10,000 endpoints, ~0.2 s) is the bench's own
 * work and is not counted.
 */
function wholeScan(entry: string[], config: string): VariantRun {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', MAXRSS_HOOK, ...entry, 'scan', '--config', config, '--format', 'json'], { maxBuffer: 1 << 30 });
  const seconds = (performance.now() - t0) / 1000;
  const stderr = r.stderr?.toString('utf8') ?? '';
  // The probe processes inherit the hook and exit first: the last line is the scan's own.
  const rss = [...stderr.matchAll(/MAXRSS (\d+)/g)].map((m) => Number(m[1]) / 1024);
  lastScanMaxRssMb = rss.pop() ?? 0;
  lastProbeMaxRssMb = Math.max(0, ...rss);
  if (r.status !== 0 && r.status !== 1) throw new Error(`chainwatch scan failed (${r.status}): ${stderr}`);
  const report = JSON.parse(r.stdout.toString('utf8')) as { targets: { ok: boolean }[] };
  return { ok: report.targets.filter((e) => e.ok).length, seconds };
}

async function startBlackbox(dir: string, timeoutMs: number, stops: (() => void | Promise<void>)[]): Promise<string> {
  await writeFile(
    join(dir, 'blackbox.yml'),
    `modules:\n  tls:\n    prober: tcp\n    timeout: ${timeoutMs / 1000}s\n    tcp:\n      tls: true\n      tls_config:\n        insecure_skip_verify: true\n        server_name: ${HOST}\n`,
  );
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const bb = spawn(BLACKBOX, [`--config.file=${join(dir, 'blackbox.yml')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=error'], {
    stdio: 'ignore',
  });
  stops.push(() => stopChild(bb));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (
      await fetch(`${url}/-/healthy`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return url;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('prometheus-blackbox-exporter did not start');
}

/** One /probe request per endpoint at the same concurrency; returns the successful probes. */
async function blackboxLoop(url: string, ports: number[], concurrency: number): Promise<number> {
  let next = 0;
  let ok = 0;
  const worker = async (): Promise<void> => {
    while (next < ports.length) {
      const port = ports[next++]!;
      const text = await (await fetch(`${url}/probe?module=tls&target=127.0.0.1:${port}`)).text();
      if (/^probe_success 1$/m.test(text)) ok++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ports.length) }, worker));
  return ok;
}

/** `chainwatch run` until it has logged `scans` scans; its durations, RSS and /metrics. */
async function daemonRun(
  entry: string[],
  config: string,
  scans: number,
  idleMs: number,
  stops: (() => void | Promise<void>)[],
): Promise<FleetRunResult['daemon']> {
  const daemon = spawn(process.execPath, [...entry, 'run', '--config', config], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: DAEMON_NODE_OPTIONS },
  });
  stops.push(() => stopChild(daemon));
  const durations: number[] = [];
  // The probe process lives only while a scan runs: sample it, and the daemon just before it starts.
  let probeProcessPeakRssMb = 0;
  let idle = 0;
  let idleRssMb = 0;
  const sampler = setInterval(async () => {
    const probing = await childrenRssMb(daemon.pid!);
    probeProcessPeakRssMb = Math.max(probeProcessPeakRssMb, probing);
    if (probing === 0) idle = await procRssMb(daemon.pid!);
    else if (idle > 0) {
      if (durations.length > 0) idleRssMb = Math.max(idleRssMb, idle);
      idle = 0;
    }
  }, 100);
  stops.push(() => clearInterval(sampler));
  let url = '';
  let chainsOk = 0;
  // The bytes as sent, timed to the last one: a scraper's own decompression is not the daemon's
  // time. The body is kept only when asked (once, to read the daemon's RSS): a copy of 17 MB in
  // fresh memory costs the bench tens of milliseconds of page faults a streaming scraper does not.
  const timed = (gzip: boolean, keep = false): Promise<{ bytes: number; ms: number; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const t0 = performance.now();
      get(`${url}/metrics`, { headers: { 'Accept-Encoding': gzip ? 'gzip' : 'identity' } }, (res) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on('data', (c: Buffer) => {
          bytes += c.length;
          if (keep) chunks.push(c);
        });
        res.on('end', () => resolve({ bytes, ms: performance.now() - t0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      }).on('error', reject);
    });
  let worstGzipMs = 0;
  let scrapingDone = false;
  let scraping: Promise<void> = Promise.resolve();
  const scrapeAll = async (): Promise<void> => {
    while (!scrapingDone) {
      worstGzipMs = Math.max(worstGzipMs, (await timed(true)).ms);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  await new Promise<void>((resolve, reject) => {
    daemon.once('exit', (code) => reject(new Error(`chainwatch run exited with ${code}`)));
    createInterface({ input: daemon.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const rec = JSON.parse(line) as { msg?: string; listen?: string; durationMs?: number; endpoints?: number; failures?: number };
      if (rec.msg === 'chainwatch started') url = String(rec.listen);
      if (rec.msg === 'scan finished') {
        if (durations.length === 0) scraping = scrapeAll();
        durations.push((rec.durationMs ?? 0) / 1000);
        chainsOk = (rec.endpoints ?? 0) - (rec.failures ?? 0);
        if (durations.length >= scans) resolve();
      }
    });
  });
  scrapingDone = true;
  await scraping;
  const plain = await timed(false, true);
  const gz = await timed(true);
  // Between scans, once the scan's work is done and the daemon only serves: the median of a few.
  await new Promise((r) => setTimeout(r, idleMs * 0.6));
  const between: { plain: number[]; gzip: number[] } = { plain: [], gzip: [] };
  // Gzip first: the garbage of a plain scrape (16 MB decompressed) would slow the next one down.
  for (const gzip of [true, false])
    for (let i = 0; i < IDLE_SCRAPES; i++) {
      between[gzip ? 'gzip' : 'plain'].push((await timed(gzip)).ms);
      await new Promise((r) => setTimeout(r, 100));
    }
  const rss = /^process_resident_memory_bytes (\S+)$/m.exec(plain.body.toString('utf8'));
  clearInterval(sampler);
  return {
    scanSeconds: durations,
    rssMb: rss ? Number(rss[1]) / 1048576 : 0,
    idleRssMb,
    peakRssMb: await procRssMb(daemon.pid!, 'VmHWM'),
    probeProcessPeakRssMb,
    metricsBytes: plain.bytes,
    metricsGzipBytes: gz.bytes,
    metricsMs: median(between.plain),
    metricsGzipMs: median(between.gzip),
    metricsAfterScanMs: plain.ms,
    metricsAfterScanGzipMs: gz.ms,
    metricsWorstGzipMs: worstGzipMs,
    chainsOk,
  };
}

export function haveFleetTools(): { nginx: boolean; blackbox: boolean } {
  return { nginx: existsSync(NGINX), blackbox: existsSync(BLACKBOX) };
}
