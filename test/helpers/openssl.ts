// The reference observer: what `openssl s_client -showcerts` says a server presented, so tests can
// compare the probe's "chain as presented" with an independent TLS stack.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ShowCertsOptions {
  host: string;
  port: number;
  servername?: string;
  tls?: '1.2' | '1.3';
  /** Client certificate for MTLS servers (PEMs). */
  clientCert?: { cert: string; key: string };
  /** Default 10 s; openssl is killed after it. */
  timeoutMs?: number;
  /** Speak this protocol's STARTTLS exchange first (openssl s_client -starttls). */
  starttls?: 'smtp' | 'ldap' | 'xmpp' | 'imap' | 'pop3' | 'ftp' | 'postgres';
  /** Name for -xmpphost (xmpp only). */
  xmppHost?: string;
}

export interface ShowCertsResult {
  /** DER certificates in the order openssl printed them. */
  certs: Buffer[];
  stdout: string;
  stderr: string;
  /** openssl's exit code (1 when the handshake failed). */
  exitCode: number | null;
}

/**
 * DER certificates of the chain the server presented, in the order openssl printed them.
 *
 * stdin is closed, so s_client quits right after the handshake. Servers demanding a client
 * certificate (checked with OpenSSL 3.0): in TLS 1.2 the server aborts with a handshake_failure
 * alert, s_client exits 1 but still prints the chain it received; in TLS 1.3 s_client finishes
 * its side of the handshake, prints the chain and exits 0 before it reads the server's
 * certificate_required alert. Either way the chain is returned; pass `clientCert` to complete
 * the handshake instead.
 */
export async function opensslShowCerts(o: ShowCertsOptions): Promise<Buffer[]> {
  return (await opensslShowCertsDetailed(o)).certs;
}

export async function opensslShowCertsDetailed(o: ShowCertsOptions): Promise<ShowCertsResult> {
  // Security level 0 so that RSA-1024 and SHA-1 chains are shown rather than refused.
  const args = ['s_client', '-connect', `${o.host}:${o.port}`, '-showcerts', '-cipher', 'DEFAULT:@SECLEVEL=0'];
  if (o.servername !== undefined) args.push('-servername', o.servername);
  else args.push('-noservername');
  if (o.tls === '1.2') args.push('-tls1_2');
  if (o.tls === '1.3') args.push('-tls1_3');
  if (o.starttls) args.push('-starttls', o.starttls);
  if (o.xmppHost) args.push('-xmpphost', o.xmppHost);
  let dir: string | null = null;
  try {
    if (o.clientCert) {
      dir = await mkdtemp(join(tmpdir(), 'chainwatch-openssl-'));
      await writeFile(join(dir, 'cert.pem'), o.clientCert.cert);
      await writeFile(join(dir, 'key.pem'), o.clientCert.key);
      args.push('-cert', join(dir, 'cert.pem'), '-key', join(dir, 'key.pem'));
    }
    return await new Promise<ShowCertsResult>((resolve, reject) => {
      const child = execFile('openssl', args, { timeout: o.timeoutMs ?? 10_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
        if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
          reject(new Error('openssl is not installed; the tests need the openssl command line tool'));
          return;
        }
        if (error?.killed) {
          reject(new Error(`openssl s_client to ${o.host}:${o.port} did not finish within ${o.timeoutMs ?? 10_000} ms`));
          return;
        }
        resolve({ certs: pemBlocks(stdout), stdout, stderr, exitCode: error ? (typeof error.code === 'number' ? error.code : 1) : 0 });
      });
      // Closed stdin makes s_client quit right after the handshake.
      child.stdin?.end();
    });
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

function pemBlocks(text: string): Buffer[] {
  const blocks = text.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g);
  return [...blocks].map((m) => Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
}
