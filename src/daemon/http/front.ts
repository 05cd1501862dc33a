// The daemon's HTTP front: it owns the listening socket, connection limits and timeouts, the
// headers every answer carries, and turns requests into calls of one handler (the route table's).
// Transport concerns added later (TLS, authentication, the web configuration file) belong here
// or around `handler`, never in a route.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../../log/logger.js';
import type { BodyPart } from '../../output/body.js';
import { REALM } from './basic-auth.js';
import type { HttpReply, HttpRequest } from './routes.js';
import type { TlsSetup, WebSetup } from './web-setup.js';

export interface HttpFrontOptions {
  host: string;
  port: number;
  /** Answers one request; usually RouteTable.handle. Must not wait on a scan. */
  handler: (req: HttpRequest) => Promise<HttpReply>;
  log: Logger;
  /** TLS, basic auth and extra headers from the web config file; null serves plain HTTP to anyone. */
  web?: WebSetup | null;
  /** Concurrent connections beyond this are closed at once (the file-descriptor budget). */
  maxConnections?: number;
}

// Liveness only, and the container HEALTHCHECK cannot hold credentials: reachable without them.
const OPEN_PATHS = new Set(['/healthz']);

const TEXT = 'text/plain; charset=utf-8';
const MAX_URL = 2048;
// Request line plus headers; a scraper or browser needs a few KiB.
const MAX_HEADER_BYTES = 16 * 1024;

export class HttpFront {
  private constructor(
    private readonly server: Server,
    private readonly current: { web: WebSetup | null },
    readonly host: string,
    readonly port: number,
    /** Base URL for people, e.g. http://127.0.0.1:9862 */
    readonly url: string,
  ) {}

  /** Binds and serves; rejects with an operator-readable error when the address cannot be bound. */
  static async listen(options: HttpFrontOptions): Promise<HttpFront> {
    const { handler, log } = options;
    const current = { web: options.web ?? null };
    const tls = options.web?.tls ?? null;
    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      answer(req, res, handler, current.web).catch((err) => {
        log.error('HTTP request failed', { path: pathOf(req.url), err });
        if (!res.headersSent) send(res, req, { status: 500, type: TEXT, body: 'internal error\n' });
        else res.destroy();
      });
    };
    // Timeouts are enforced on this period; the default 30 s would let a silent connection linger.
    const server: Server =
      tls === null ? createServer({ connectionsCheckingInterval: 2000, maxHeaderSize: MAX_HEADER_BYTES }, onRequest) : httpsServer(tls, onRequest);
    if (options.maxConnections !== undefined) server.maxConnections = options.maxConnections;
    server.keepAliveTimeout = 5000;
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      // A connection that sent no request in time is closed without an answer: browsers open
      // spare connections ahead of need, and would show a stale 400 as the next page's answer.
      if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || !socket.writable) socket.destroy();
      else socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    });
    await bind(server, options.host, options.port);
    const addr = server.address() as AddressInfo;
    const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    const reachable = shown === '0.0.0.0' ? '127.0.0.1' : shown === '[::]' ? '[::1]' : shown;
    return new HttpFront(server, current, addr.address, addr.port, `${tls === null ? 'http' : 'https'}://${reachable}:${addr.port}`);
  }

  /**
   * Serves with a reloaded web config. False when it cannot be applied to the open socket (TLS
   * switched on or off, or another client-certificate mode): the caller listens anew.
   */
  useWeb(web: WebSetup | null): boolean {
    const before = this.current.web?.tls ?? null;
    const after = web?.tls ?? null;
    if ((before === null) !== (after === null)) return false;
    if (before !== null && after !== null) {
      if (before.clientAuth !== after.clientAuth || before.minVersion !== after.minVersion) return false;
      (this.server as unknown as { setSecureContext(o: object): void }).setSecureContext(after.context);
    }
    this.current.web = web;
    return true;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      // Idle keep-alive connections (Prometheus keeps one open) would hold close() for seconds.
      this.server.closeIdleConnections();
      setTimeout(() => this.server.closeAllConnections(), 1000).unref();
    });
  }
}

function httpsServer(tls: TlsSetup, onRequest: (req: IncomingMessage, res: ServerResponse) => void): Server {
  const verify = tls.clientAuth === 'RequireAndVerifyClientCert';
  const server = createHttpsServer(
    {
      ...tls.context,
      minVersion: tls.minVersion,
      requestCert: tls.clientAuth !== 'NoClientCert',
      rejectUnauthorized: verify,
      connectionsCheckingInterval: 2000,
      maxHeaderSize: MAX_HEADER_BYTES,
    },
    onRequest,
  );
  // The modes between "ask" and "require and verify" are enforced once the handshake is done.
  server.on('secureConnection', (socket: TLSSocket) => {
    const given = Object.keys(socket.getPeerCertificate() ?? {}).length > 0;
    if (tls.clientAuth === 'RequireAnyClientCert' && !given) socket.destroy();
    else if (tls.clientAuth === 'VerifyClientCertIfGiven' && given && !socket.authorized) socket.destroy();
  });
  return server as unknown as Server;
}

async function answer(req: IncomingMessage, res: ServerResponse, handler: HttpFrontOptions['handler'], web: WebSetup | null): Promise<void> {
  const extra = web?.headers ?? {};
  if (web?.auth && !OPEN_PATHS.has(pathOf(req.url)) && !(await web.auth.allows(req.headers.authorization))) {
    send(res, req, {
      status: 401,
      type: TEXT,
      body: 'unauthorized: this chainwatch asks for a user name and password\n',
      headers: { ...extra, 'WWW-Authenticate': `Basic realm="${REALM}"` },
    });
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, req, {
      status: 405,
      type: TEXT,
      body: `method ${String(req.method).slice(0, 16)} not allowed; use GET\n`,
      headers: { ...extra, Allow: 'GET, HEAD' },
    });
    return;
  }
  const raw = (req.url ?? '/').slice(0, MAX_URL);
  const q = raw.indexOf('?');
  const reply = await handler({
    method: req.method,
    path: pathOf(raw),
    query: new URLSearchParams(q === -1 ? '' : raw.slice(q + 1)),
    headers: req.headers,
  });
  send(res, req, { ...reply, headers: { ...extra, ...reply.headers } });
}

function pathOf(url: string | undefined): string {
  const raw = (url ?? '/').slice(0, MAX_URL);
  const q = raw.indexOf('?');
  return q === -1 ? raw : raw.slice(0, q);
}

function send(res: ServerResponse, req: IncomingMessage, reply: HttpReply): void {
  const parts = typeof reply.body === 'string' ? [Buffer.from(reply.body, 'utf8')] : Array.isArray(reply.body) ? reply.body : [reply.body];
  res.writeHead(reply.status, {
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...reply.headers,
    'Content-Type': reply.type,
    'Content-Length': parts.reduce((n, b) => n + b.length, 0),
  });
  if (req.method === 'HEAD') return void res.end();
  if (parts.every((p) => Buffer.isBuffer(p))) {
    for (let i = 0; i < parts.length - 1; i++) res.write(parts[i]);
    return void res.end(parts[parts.length - 1]);
  }
  // Headers are out, so a part that fails half-way can only cut the answer short: the client sees
  // fewer bytes than Content-Length promised, never a complete-looking document.
  pipeline(Readable.from(bytesOf(parts)), res).catch(() => res.destroy());
}

async function* bytesOf(parts: readonly BodyPart[]): AsyncGenerator<Buffer> {
  for (const part of parts) {
    if (Buffer.isBuffer(part)) yield part;
    else yield* part.open();
  }
}

function bind(server: Server, host: string, port: number): Promise<void> {
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
