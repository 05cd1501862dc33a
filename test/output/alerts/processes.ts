// Real Alertmanager processes and loopback HTTP receivers for the alerting tests.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../helpers/ports.js';

export const ALERTMANAGER_BIN = '/usr/bin/prometheus-alertmanager';

export async function eventually<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export interface GettableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  updatedAt: string;
  generatorURL: string;
  fingerprint: string;
  status: { state: string; silencedBy: string[]; inhibitedBy: string[] };
}

export interface RunningAlertmanager {
  url: string;
  /** GET /api/v2/alerts?active=true (Alertmanager 0.25 leaves resolved alerts out of this list). */
  activeAlerts(): Promise<GettableAlert[]>;
  /** Unresolved alerts, inhibited and silenced ones included (their status says which). */
  unresolvedAlerts(): Promise<GettableAlert[]>;
  stop(): Promise<void>;
  log(): string;
}

/**
 * Starts Debian's Alertmanager on a free loopback port, clustering off, in a temp directory.
 * `inhibitRules` go into its config as they are (e.g. the shipped ones).
 */
export async function startAlertmanager(o: { inhibitRules?: unknown[] } = {}): Promise<RunningAlertmanager> {
  const base = ['route:', '  receiver: blackhole', '  group_wait: 1h', 'receivers:', '  - name: blackhole', ''].join('\n');
  const { url, stop, log } = await startServerProcess({
    name: 'alertmanager',
    bin: ALERTMANAGER_BIN,
    files: { 'am.yml': o.inhibitRules ? `${base}inhibit_rules: ${JSON.stringify(o.inhibitRules)}\n` : base },
    args: (dir, port) => [
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      `--storage.path=${dir}`,
      `--config.file=${join(dir, 'am.yml')}`,
      '--log.level=warn',
    ],
    readyTimeoutMs: 20_000,
  });
  return {
    url,
    async activeAlerts() {
      const res = await fetch(`${url}/api/v2/alerts?active=true&silenced=false&inhibited=false`);
      if (!res.ok) throw new Error(`GET alerts: HTTP ${res.status}`);
      return (await res.json()) as GettableAlert[];
    },
    async unresolvedAlerts() {
      const res = await fetch(`${url}/api/v2/alerts?active=true&silenced=true&inhibited=true`);
      if (!res.ok) throw new Error(`GET alerts: HTTP ${res.status}`);
      return (await res.json()) as GettableAlert[];
    },
    stop,
    log,
  };
}

interface ServerProcessSpec {
  name: string;
  bin: string;
  /** Files written into the process's temp directory before it starts. */
  files: Record<string, string>;
  args: (dir: string, port: number) => string[];
  readyTimeoutMs: number;
  /** Output that means a retry on another port cannot help (a broken config). */
  fatal?: RegExp;
}

/**
 * Starts a server binary on a free loopback port in its own temp directory and waits for its
 * /-/ready; retries on another port if one was taken between probing and binding.
 */
async function startServerProcess(spec: ServerProcessSpec): Promise<{ url: string; stop: () => Promise<void>; log: () => string }> {
  for (let attempt = 1; ; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), `chainwatch-${spec.name}-`));
    for (const [name, text] of Object.entries(spec.files)) writeFileSync(join(dir, name), text);
    const port = await freePort();
    const child = spawn(spec.bin, spec.args(dir, port), { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
    child.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
    const url = `http://127.0.0.1:${port}`;
    const stop = async () => {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    };
    try {
      await eventually(
        `${spec.name} to be ready`,
        async () => {
          if (child.exitCode !== null) throw new Error(`${spec.name} exited: ${output}`);
          return (await fetch(`${url}/-/ready`)).ok;
        },
        spec.readyTimeoutMs,
      );
    } catch (err) {
      await stop();
      if (attempt < 3 && !(spec.fatal?.test(String(err)) ?? false)) continue;
      throw err;
    }
    return { url, stop, log: () => output };
  }
}

export interface ReceivedRequest {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

export type Responder = (req: ReceivedRequest, n: number) => { status: number; headers?: Record<string, string>; body?: string } | 'hang';

export interface LoopbackReceiver {
  url: string;
  host: string;
  requests: ReceivedRequest[];
  /** Requests that got a 2xx. */
  delivered(): ReceivedRequest[];
  respond: Responder;
  close(): Promise<void>;
}

/** An HTTP server on loopback that records every request and answers as `respond` says. */
export async function startReceiver(path = '/hook', respond: Responder = () => ({ status: 200, body: 'ok' })): Promise<LoopbackReceiver> {
  const requests: ReceivedRequest[] = [];
  const statuses: number[] = [];
  const hanging = new Set<ServerResponse>();
  const state: LoopbackReceiver = {
    url: '',
    host: '',
    requests,
    delivered: () => requests.filter((_, i) => (statuses[i] ?? 0) >= 200 && (statuses[i] ?? 0) < 300),
    respond,
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec: ReceivedRequest = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      const n = requests.push(rec);
      const answer = state.respond(rec, n);
      if (answer === 'hang') {
        statuses.push(0);
        hanging.add(res);
        return;
      }
      statuses.push(answer.status);
      res.writeHead(answer.status, answer.headers ?? { 'content-type': 'text/plain' });
      res.end(answer.body ?? '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  state.host = `127.0.0.1:${port}`;
  state.url = `http://${state.host}${path}`;
  return state;
}

export const PROMETHEUS_BIN = '/usr/bin/prometheus';

export interface PrometheusAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
  value: string;
}

export interface RunningPrometheus {
  url: string;
  /** GET /api/v1/alerts: pending and firing alerts of the loaded rules. */
  alerts(): Promise<PrometheusAlert[]>;
  stop(): Promise<void>;
  log(): string;
}

/** Starts Debian's Prometheus on a free loopback port with `configYaml`, in a temp directory. */
export async function startPrometheus(configYaml: string): Promise<RunningPrometheus> {
  const { url, stop, log } = await startServerProcess({
    name: 'prometheus',
    bin: PROMETHEUS_BIN,
    files: { 'prometheus.yml': configYaml },
    args: (dir, port) => [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    readyTimeoutMs: 30_000,
    fatal: /exited: .*(error loading config|parsing YAML)/s,
  });
  return {
    url,
    async alerts() {
      const res = await fetch(`${url}/api/v1/alerts`);
      if (!res.ok) throw new Error(`GET /api/v1/alerts: HTTP ${res.status}`);
      const body = (await res.json()) as { data: { alerts: PrometheusAlert[] } };
      return body.data.alerts;
    },
    stop,
    log,
  };
}
