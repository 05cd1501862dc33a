// Loopback servers the revocation tests talk to: an HTTP server publishing CRLs (counting every
// request, honouring conditional GETs), Debian's `openssl ocsp` as the OCSP responder, and
// `openssl s_server -status_file` for a stapled response.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CertificateAuthority, IssuedCert } from '../../src/demo/pki.js';
import { freePort } from '../helpers/ports.js';
import { eventually, stopChild } from '../output/alerts/processes.js';

export type Route = { body: Buffer; etag?: string } | { status: number } | { redirect: string } | 'hang';

export interface CrlServer {
  base: string;
  routes: Map<string, Route>;
  /** Requests per path, and how many of them were answered 304. */
  hits(path: string): number;
  notModified(path: string): number;
  close(): Promise<void>;
}

export async function startCrlServer(): Promise<CrlServer> {
  const routes = new Map<string, Route>();
  const hits = new Map<string, number>();
  const unchanged = new Map<string, number>();
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const route = routes.get(path);
    if (route === undefined) return void res.writeHead(404).end('not found');
    if (route === 'hang') return void hanging.add(res);
    if ('status' in route) return void res.writeHead(route.status).end();
    if ('redirect' in route) return void res.writeHead(302, { location: route.redirect }).end();
    if (route.etag && req.headers['if-none-match'] === route.etag) {
      unchanged.set(path, (unchanged.get(path) ?? 0) + 1);
      return void res.writeHead(304, { etag: route.etag }).end();
    }
    res.writeHead(200, { 'content-type': 'application/pkix-crl', ...(route.etag ? { etag: route.etag } : {}) }).end(route.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    routes,
    hits: (p) => hits.get(p) ?? 0,
    notModified: (p) => unchanged.get(p) ?? 0,
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export interface IndexEntry {
  cert: IssuedCert;
  revokedAt?: Date;
  reason?: string;
}

/** openssl's CA database line: V or R, expiry, revocation[,reason], serial, file, subject. */
function indexLine(e: IndexEntry): string {
  const serial = e.cert.serialNumber.toUpperCase();
  const revoked = e.revokedAt ? `${opensslTime(e.revokedAt)}${e.reason ? `,${e.reason}` : ''}` : '';
  return [e.revokedAt ? 'R' : 'V', opensslTime(e.cert.notAfter), revoked, serial, 'unknown', `/CN=${e.cert.subject}`].join('\t');
}

function opensslTime(d: Date): string {
  return `${d.toISOString().replace(/[-:T]/g, '').slice(2, 14)}Z`;
}

async function pkiFiles(dir: string, ca: CertificateAuthority, signer: { pem: string; keyPem: string }, entries: IndexEntry[]): Promise<void> {
  await writeFile(join(dir, 'index.txt'), `${entries.map(indexLine).join('\n')}\n`);
  await writeFile(join(dir, 'ca.pem'), ca.pem);
  await writeFile(join(dir, 'signer.pem'), signer.pem);
  await writeFile(join(dir, 'signer.key'), signer.keyPem);
}

export interface OcspResponder {
  url: string;
  stop(): Promise<void>;
}

/**
 * `openssl ocsp` answering for `ca` from an index the test writes, signed by `signer` (the CA
 * itself, or a delegated responder). Its port is chosen before the certificates naming it are
 * issued, so the caller passes it in.
 */
export async function startOpensslOcsp(
  port: number,
  ca: CertificateAuthority,
  entries: IndexEntry[],
  signer: { pem: string; keyPem: string } = { pem: ca.pem, keyPem: ca.keyPem },
): Promise<OcspResponder> {
  const dir = await mkdtemp(join(tmpdir(), 'chainwatch-ocsp-'));
  await pkiFiles(dir, ca, signer, entries);
  let child: ChildProcess;
  try {
    child = await startOpenssl(
      [
        'ocsp',
        '-index',
        join(dir, 'index.txt'),
        '-port',
        String(port),
        '-rsigner',
        join(dir, 'signer.pem'),
        '-rkey',
        join(dir, 'signer.key'),
        '-CA',
        join(dir, 'ca.pem'),
        '-nmin',
        '60',
      ],
      (output) => /waiting for OCSP client connections/.test(output),
    );
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const stop = async () => {
    await stopChild(child);
    await rm(dir, { recursive: true, force: true });
  };
  return { url: `http://127.0.0.1:${port}/`, stop };
}

/** An OCSP response for `cert` as `openssl ocsp` makes it from an index (DER), for stapling. */
export async function opensslOcspResponse(
  ca: CertificateAuthority,
  cert: IssuedCert,
  entries: IndexEntry[],
  signer: { pem: string; keyPem: string } = ca,
): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'chainwatch-staple-'));
  try {
    await pkiFiles(dir, ca, signer, entries);
    await writeFile(join(dir, 'cert.pem'), cert.pem);
    const run = promisify(execFile);
    await run('openssl', ['ocsp', '-issuer', join(dir, 'ca.pem'), '-cert', join(dir, 'cert.pem'), '-no_nonce', '-reqout', join(dir, 'req.der')]);
    await run('openssl', [
      'ocsp',
      '-index',
      join(dir, 'index.txt'),
      '-rsigner',
      join(dir, 'signer.pem'),
      '-rkey',
      join(dir, 'signer.key'),
      '-CA',
      join(dir, 'ca.pem'),
      '-reqin',
      join(dir, 'req.der'),
      '-respout',
      join(dir, 'resp.der'),
      '-nmin',
      '60',
    ]);
    return await readFile(join(dir, 'resp.der'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface StaplingServer {
  host: string;
  port: number;
  stop(): Promise<void>;
}

/** `openssl s_server` presenting leaf + issuer and stapling the given OCSP response. */
export async function startStaplingServer(leaf: IssuedCert, issuer: IssuedCert, response: Buffer): Promise<StaplingServer> {
  const dir = await mkdtemp(join(tmpdir(), 'chainwatch-s_server-'));
  await writeFile(join(dir, 'leaf.pem'), leaf.pem);
  await writeFile(join(dir, 'leaf.key'), leaf.keyPem);
  await writeFile(join(dir, 'chain.pem'), issuer.pem);
  await writeFile(join(dir, 'status.der'), response);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      const child = await startOpenssl(
        [
          's_server',
          '-accept',
          `127.0.0.1:${port}`,
          '-cert',
          join(dir, 'leaf.pem'),
          '-key',
          join(dir, 'leaf.key'),
          '-cert_chain',
          join(dir, 'chain.pem'),
          '-status_file',
          join(dir, 'status.der'),
          '-naccept',
          '1000',
          '-quiet',
        ],
        async (output) => /ACCEPT/.test(output) || (await canConnect(port)),
      );
      const stop = async () => {
        await stopChild(child);
        await rm(dir, { recursive: true, force: true });
      };
      return { host: '127.0.0.1', port, stop };
    } catch (err) {
      if (attempt >= 3) {
        await rm(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }
}

/** Starts `openssl ARGS` and waits until `ready` sees it listening; stops it when it exits first or never gets there. */
async function startOpenssl(args: string[], ready: (output: string) => boolean | Promise<boolean>): Promise<ChildProcess> {
  const child = spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  try {
    await eventually(
      `openssl ${args[0]} to listen`,
      async () => {
        if (child.exitCode !== null) throw new Error(`openssl ${args[0]} exited: ${output}`);
        return ready(output);
      },
      10_000,
    );
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return child;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
