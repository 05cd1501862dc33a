// The daemon's HTTP face: metrics for Prometheus, probes for orchestrators, the JSON status and a
// small landing page. Every response is built from state the last completed scan left behind, so
// a request never waits for a scan in progress.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log/logger.js';

export interface FleetSummary {
  lastScanFinishedAt: string | null;
  lastScanDurationMs: number | null;
  endpoints: number;
  failures: number;
  withProblems: number;
  divergent: number;
  policies: { name: string; consistent: boolean; divergent: number; unknown: number }[];
  targets: number;
  schedule: string;
  configReloadOk: boolean;
  version: string;
}

/** What the server reads; everything here must be cheap and never wait on a scan. */
export interface HttpState {
  /** Prometheus exposition text and its content type. */
  metrics(): Promise<{ contentType: string; body: string }>;
  /** True once a first scan has completed. */
  ready(): boolean;
  /** The serialised /api/v1/status document of the last completed scan; null before the first. */
  statusJson(): string | null;
  summary(): FleetSummary;
  /** Replaces the built-in landing page (the status page plugs in here). */
  page?: () => string;
}

export interface HttpServerOptions {
  host: string;
  port: number;
  state: HttpState;
  log: Logger;
}

export interface HttpServerHandle {
  readonly host: string;
  readonly port: number;
  /** Base URL for people, e.g. http://127.0.0.1:9862 */
  readonly url: string;
  close(): Promise<void>;
}

/** Binds and serves; rejects with an operator-readable error when the address cannot be bound. */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServerHandle> {
  const { state, log } = options;
  const server = createServer((req, res) => {
    handle(req, res, state).catch((err) => {
      log.error('HTTP request failed', { path: safePath(req.url), err });
      if (!res.headersSent) send(res, req, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  await listen(server, options.host, options.port);
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${shownHost === '0.0.0.0' ? '127.0.0.1' : shownHost === '[::]' ? '[::1]' : shownHost}:${addr.port}`;
  return {
    host: addr.address,
    port: addr.port,
    url,
    close: () => closeServer(server),
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
      const why =
        err.code === 'EADDRINUSE'
          ? 'another process already listens there; stop it or choose another server.listen'
          : err.code === 'EACCES'
            ? 'permission denied; ports below 1024 need privileges, choose a higher port in server.listen'
            : err.code === 'EADDRNOTAVAIL'
              ? 'this machine has no such address; check server.listen'
              : err.message;
      reject(Object.assign(new Error(`cannot listen on ${where}: ${why}`), { code: err.code }));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Idle keep-alive connections (Prometheus keeps one open) would hold close() for seconds.
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 1000).unref();
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, state: HttpState): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    send(res, req, 405, 'text/plain; charset=utf-8', `method ${String(req.method).slice(0, 16)} not allowed; use GET\n`);
    return;
  }
  const path = safePath(req.url);
  switch (path) {
    case '/metrics': {
      const m = await state.metrics();
      send(res, req, 200, m.contentType, m.body);
      return;
    }
    case '/healthz':
      send(res, req, 200, 'text/plain; charset=utf-8', 'ok\n');
      return;
    case '/readyz':
      if (state.ready()) send(res, req, 200, 'text/plain; charset=utf-8', 'ready\n');
      else send(res, req, 503, 'text/plain; charset=utf-8', 'not ready: the first scan has not completed yet\n');
      return;
    case '/api/v1/status': {
      const body = state.statusJson();
      if (body === null) {
        send(res, req, 503, 'application/json; charset=utf-8', JSON.stringify({ error: 'no scan has completed yet; try again shortly' }) + '\n');
      } else {
        send(res, req, 200, 'application/json; charset=utf-8', body);
      }
      return;
    }
    case '/':
    case '/index.html':
      send(res, req, 200, 'text/html; charset=utf-8', state.page ? state.page() : landingPage(state.summary()));
      return;
    default:
      send(res, req, 404, 'text/plain; charset=utf-8', 'not found; try /, /metrics, /healthz, /readyz or /api/v1/status\n');
  }
}

function safePath(url: string | undefined): string {
  const raw = (url ?? '/').slice(0, 2048);
  const q = raw.indexOf('?');
  return q === -1 ? raw : raw.slice(0, q);
}

function send(res: ServerResponse, req: IncomingMessage, status: number, type: string, body: string): void {
  const buf = Buffer.from(body, 'utf8');
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': buf.length,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(req.method === 'HEAD' ? undefined : buf);
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function landingPage(s: FleetSummary): string {
  const scanned = s.lastScanFinishedAt === null
    ? '<p>The first scan is still running.</p>'
    : `<p>Last scan finished ${esc(s.lastScanFinishedAt)} in ${((s.lastScanDurationMs ?? 0) / 1000).toFixed(1)} s:
 ${s.endpoints} endpoints, ${s.failures} failing, ${s.withProblems} with problems, ${s.divergent} divergent.</p>`;
  const policies = s.policies.length === 0
    ? '<p>No policies configured.</p>'
    : `<table><tr><th>policy</th><th>state</th><th>divergent</th><th>unknown</th></tr>${s.policies
        .map((p) => `<tr><td>${esc(p.name)}</td><td class="${p.consistent ? 'ok' : 'bad'}">${p.consistent ? 'consistent' : 'DIVERGENT'}</td><td>${p.divergent}</td><td>${p.unknown}</td></tr>`)
        .join('')}</table>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>chainwatch</title>
<style>body{font:15px/1.4 system-ui,sans-serif;margin:2em;max-width:50em}td,th{padding:.2em .8em;text-align:left}.ok{color:#176c2b}.bad{color:#b00020;font-weight:bold}</style>
</head><body>
<h1>chainwatch</h1>
${scanned}
${policies}
<p>${s.targets} targets, schedule <code>${esc(s.schedule)}</code>${s.configReloadOk ? '' : ' &mdash; <span class="bad">the last config reload failed; the previous config is still in use (see the log)</span>'}.</p>
<ul>
<li><a href="/api/v1/status">/api/v1/status</a> &mdash; the last scan as JSON, with recent certificate changes</li>
<li><a href="/metrics">/metrics</a> &mdash; Prometheus metrics</li>
<li><a href="/healthz">/healthz</a>, <a href="/readyz">/readyz</a> &mdash; liveness and readiness</li>
</ul>
<p><small>chainwatch ${esc(s.version)}</small></p>
</body></html>
`;
}
