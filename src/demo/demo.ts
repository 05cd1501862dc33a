// `chainwatch demo`: a simulated Lync Server 2013 site on loopback, and the daemon watching it.
// The site has a deliberate mistake a real one often has: one Front End's web services (which
// host the Persistent Chat web service) present a certificate from a different CA, so the
// pchat-web-same-ca policy shows divergence on the very first scan.
//
// Ports are above 1024 so no privileges are needed: 5061 (SIP over MTLS), 5041 (Persistent Chat
// MTLS) and 4443 (web services; 443 in production). Every server has its own loopback address
// (127.0.0.11 and up), so the ports never clash with anything on 127.0.0.1.

import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startDaemon } from '../daemon/daemon.js';
import { createLogger, type Logger } from '../log/logger.js';
import { startDnsServer } from './dns-server.js';
import { createIntermediateCa, createRootCa, issueClientCert, issueCrl, issueLeaf, type CertificateAuthority, type IssuedCert } from './pki.js';
import { startRevocationServer } from './revocation-server.js';
import { serveChain, type ServedEndpoint, type TlsVersion } from './servers.js';

export const DEMO_PORTS = { sip: 5061, pchat: 5041, web: 4443, pki: 8080 } as const;
const DOMAIN = 'contoso.test';

export interface DemoOptions {
  /** First three octets of the fleet's loopback addresses; default 127.0.0. */
  ipPrefix?: string;
  /** HTTP listen address of the daemon; default 127.0.0.1:9862, or a free port when that is taken. */
  listen?: string;
  /** Folder for the generated CA, certificates, config and state; default a fresh temp folder (removed on exit). */
  dir?: string;
  /** Cron schedule of the daemon; default every minute. */
  schedule?: string;
  log?: Logger;
  /** Where the "what to open" text goes; default stdout. */
  print?: (text: string) => void;
}

export interface RunningDemo {
  url: string;
  dir: string;
  configFile: string;
  stop(): Promise<void>;
  stopped: Promise<void>;
}

interface Host {
  name: string;
  fqdn: string;
  address: string;
}

/** Builds the PKI and the fleet, writes the config, starts the daemon. SIGINT/SIGTERM stop all of it. */
export async function startDemo(o: DemoOptions = {}): Promise<RunningDemo> {
  const log = o.log ?? createLogger();
  const print = o.print ?? ((t: string) => void process.stdout.write(t));
  const prefix = o.ipPrefix ?? '127.0.0';
  if (!/^127\.\d{1,3}\.\d{1,3}$/.test(prefix) || prefix.split('.').some((p) => Number(p) > 255)) {
    throw new Error(`--ip-prefix must be three octets inside 127/8, e.g. 127.0.0 (got '${prefix}'); the demo only ever uses loopback`);
  }
  const ownDir = o.dir === undefined;
  const dir = ownDir ? await mkdtemp(join(tmpdir(), 'chainwatch-demo-')) : resolve(o.dir!);
  const started: { close(): Promise<void> }[] = [];
  const cleanup = async () => {
    await Promise.allSettled(started.map((s) => s.close()));
    if (ownDir) await rm(dir, { recursive: true, force: true });
  };

  try {
    const host = (name: string, last: number): Host => ({ name, fqdn: `${name}.${DOMAIN}`, address: `${prefix}.${last}` });
    const fe = [host('fe01', 11), host('fe02', 12), host('fe03', 13)];
    const pool = host('pool01', 11);
    const director = host('dir01', 14);
    const pchat = host('pchat01', 15);
    const edge = host('edge01-int', 16);
    // The CA's publication point: CRLs and OCSP, named in every Contoso certificate.
    const pkiBase = `http://${prefix}.10:${DEMO_PORTS.pki}`;
    const published = { crlUrls: [`${pkiBase}/crl/contoso-issuing.crl`], ocspUrls: [`${pkiBase}/ocsp`] };

    // The site's PKI: an internal enterprise CA, and a public CA someone used by mistake.
    const [contosoRoot, fabrikamRoot] = await Promise.all([
      createRootCa({ commonName: 'Contoso Internal Root CA', organization: 'Contoso', notAfter: years(20) }),
      createRootCa({ commonName: 'Fabrikam Global Root', organization: 'Fabrikam Trust Services', notAfter: years(20) }),
    ]);
    const [issuing, fabrikamCa] = await Promise.all([
      createIntermediateCa(contosoRoot, { commonName: 'Contoso Issuing CA 01', organization: 'Contoso', notAfter: years(10), crlUrls: [`${pkiBase}/crl/contoso-root.crl`] }),
      createIntermediateCa(fabrikamRoot, { commonName: 'Fabrikam TLS CA 2023', organization: 'Fabrikam Trust Services', notAfter: years(8) }),
    ]);
    const lyncCert = (ca: CertificateAuthority, names: string[]) =>
      issueLeaf(ca, { commonName: names[0]!, organization: 'Contoso', dnsNames: names, notAfter: days(300), ...(ca === issuing ? published : {}) });
    // Lync's default certificate covers the pool FQDN, the server FQDN and the web services.
    const feCerts = await Promise.all(fe.map((h) => lyncCert(issuing, [pool.fqdn, h.fqdn, `sip.${DOMAIN}`])));
    const [dirCert, pchatCert, edgeCert, strayWebCert, client] = await Promise.all([
      lyncCert(issuing, [director.fqdn]),
      lyncCert(issuing, [pchat.fqdn]),
      lyncCert(issuing, [edge.fqdn]),
      // fe03's IIS got a public certificate: the classic Persistent Chat mistake.
      issueLeaf(fabrikamCa, { commonName: pool.fqdn, dnsNames: [pool.fqdn, fe[2]!.fqdn], notAfter: days(80) }),
      issueClientCert(issuing, { commonName: 'chainwatch', organization: 'Contoso' }),
    ]);

    // The Edge's internal certificate was revoked (key compromise) and nobody bound its replacement.
    const revoked = [{ serialNumber: edgeCert.serialNumber, reason: 1, revokedAt: days(-3) }];
    try {
      started.push(
        await startRevocationServer({
          host: `${prefix}.10`,
          port: DEMO_PORTS.pki,
          crls: {
            '/crl/contoso-root.crl': await issueCrl(contosoRoot),
            '/crl/contoso-issuing.crl': await issueCrl(issuing, { revoked }),
          },
          ocsp: { ca: issuing, revoked },
        }),
      );
    } catch (err) {
      throw new Error(bindAdvice(`${prefix}.10`, DEMO_PORTS.pki, err));
    }

    const mtls = { ca: [issuing.pem] };
    const serve = async (h: Host, port: number, leaf: IssuedCert, ca: CertificateAuthority, more: { mtls?: boolean; maxVersion?: TlsVersion } = {}) => {
      try {
        const s = await serveChain({
          host: h.address,
          port,
          key: leaf.keyPem,
          chain: [leaf.pem, ca.pem],
          ...(more.mtls ? { requireClientCert: mtls } : {}),
          ...(more.maxVersion ? { maxVersion: more.maxVersion } : {}),
        });
        started.push(s);
        return s;
      } catch (err) {
        throw new Error(bindAdvice(h.address, port, err));
      }
    };
    const servers: Promise<ServedEndpoint>[] = [];
    fe.forEach((h, i) => {
      // One Front End still speaks TLS 1.2 only, as older Lync servers do.
      servers.push(serve(h, DEMO_PORTS.sip, feCerts[i]!, issuing, { mtls: true, maxVersion: i === 1 ? 'TLSv1.2' : undefined }));
      servers.push(i === 2 ? serve(h, DEMO_PORTS.web, strayWebCert, fabrikamCa) : serve(h, DEMO_PORTS.web, feCerts[i]!, issuing));
    });
    servers.push(serve(director, DEMO_PORTS.sip, dirCert, issuing, { mtls: true }));
    servers.push(serve(director, DEMO_PORTS.web, dirCert, issuing));
    servers.push(serve(pchat, DEMO_PORTS.pchat, pchatCert, issuing, { mtls: true }));
    servers.push(serve(edge, DEMO_PORTS.sip, edgeCert, issuing, { mtls: true }));
    const results = await Promise.allSettled(servers);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;

    const dns = await startDnsServer({
      records: {
        [pool.fqdn]: fe.map((h) => h.address),
        ...Object.fromEntries(fe.map((h) => [h.fqdn, [h.address]])),
        [director.fqdn]: [director.address],
        [pchat.fqdn]: [pchat.address],
        [edge.fqdn]: [edge.address],
      },
    });
    started.push(dns);

    await mkdir(join(dir, 'ca'), { recursive: true });
    await writeFile(join(dir, 'ca', 'contoso-root.pem'), contosoRoot.pem);
    await writeFile(join(dir, 'ca', 'chainwatch-client.pem'), client.pem + issuing.pem);
    await writeFile(join(dir, 'ca', 'chainwatch-client.key'), client.keyPem, { mode: 0o600 });
    await chmod(join(dir, 'ca', 'chainwatch-client.key'), 0o600).catch(() => undefined);
    const listen = o.listen ?? ((await portFree('127.0.0.1', 9862)) ? '127.0.0.1:9862' : '127.0.0.1:0');
    const configFile = join(dir, 'chainwatch.yaml');
    await writeFile(
      configFile,
      demoConfig({ dnsServer: dns.address, listen, schedule: o.schedule ?? '* * * * *', pool, director, pchat, edge }),
    );

    const daemon = await startDaemon(configFile, { log, signals: true });
    const stopped = daemon.stopped.then(cleanup);
    const url = daemon.url();
    print(banner(url, dir, configFile, ownDir, { fe, director, pchat, edge, prefix }));
    return {
      url,
      dir,
      configFile,
      stopped,
      async stop() {
        await daemon.stop();
        await stopped;
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

function demoConfig(c: { dnsServer: string; listen: string; schedule: string; pool: Host; director: Host; pchat: Host; edge: Host }): string {
  return `# chainwatch demo: a simulated Lync Server 2013 site on loopback (generated; edit it and
# chainwatch reloads it at once).
scan:
  schedule: "${c.schedule}"
  timeout: 5s
  expiry_warning: 90d
dns:
  # The demo's own DNS server: ${c.pool.fqdn} has three A records, one per Front End.
  servers: ["${c.dnsServer}"]
trust:
  ca_files: [ca/contoso-root.pem]
  system_roots: false
state:
  path: ./state
server:
  listen: ${c.listen}
targets:
  # The Front End pool's SIP (MTLS) port, every pool member probed on its own.
  - name: pool01-sip
    group: lync-internal
    role: front-end
    host: ${c.pool.fqdn}
    port: ${DEMO_PORTS.sip}
    resolve: all
    client_cert: {cert: ca/chainwatch-client.pem, key: ca/chainwatch-client.key}
  - name: dir01-sip
    group: lync-internal
    role: director
    host: ${c.director.fqdn}
    port: ${DEMO_PORTS.sip}
  - name: dir01-web
    group: lync-internal
    role: director-web
    url: https://${c.director.fqdn}:${DEMO_PORTS.web}/
  # Persistent Chat server: MTLS without a client certificate here, so the server aborts the
  # handshake; chainwatch still records the chain it presented.
  - name: pchat01
    group: lync-internal
    role: persistent-chat
    host: ${c.pchat.fqdn}
    port: ${DEMO_PORTS.pchat}
  - name: edge01-internal
    group: lync-internal
    role: edge-internal
    host: ${c.edge.fqdn}
    port: ${DEMO_PORTS.sip}
  # The Persistent Chat Web Services live on the pool's web services, on every Front End.
  - name: pchat-web
    group: pchat-web
    role: pchat-web-services
    url: https://${c.pool.fqdn}:${DEMO_PORTS.web}/PersistentChat/MGCWebService.asmx
    resolve: all
policies:
  # Lync Server 2013: Persistent Chat Web Services need a certificate from the same CA as the
  # internal Lync servers.
  - name: pchat-web-same-ca
    reference: lync-internal
    members: [pchat-web]
    match: issuer
  - name: lync-internal-one-ca
    members: [lync-internal]
`;
}

function banner(url: string, dir: string, configFile: string, ownDir: boolean, f: { fe: Host[]; director: Host; pchat: Host; edge: Host; prefix: string }): string {
  const row = (what: string, where: string) => `    ${what.padEnd(34)} ${where}\n`;
  return (
    `\nchainwatch demo: a simulated Lync site (${DOMAIN}) on loopback\n\n` +
    row('Front End pool pool01 (3 servers)', `${f.fe.map((h) => h.address).join(', ')}  SIP ${DEMO_PORTS.sip} (MTLS), web ${DEMO_PORTS.web}`) +
    row('Director dir01', `${f.director.address}  SIP ${DEMO_PORTS.sip} (MTLS), web ${DEMO_PORTS.web}`) +
    row('Persistent Chat pchat01', `${f.pchat.address}  ${DEMO_PORTS.pchat} (MTLS)`) +
    row('Edge internal edge01-int', `${f.edge.address}  SIP ${DEMO_PORTS.sip} (MTLS)`) +
    `\n  The web services on fe03 (${f.fe[2]!.address}) present a certificate from Fabrikam TLS CA 2023,\n` +
    `  not Contoso Issuing CA 01: policy pchat-web-same-ca reports it as divergent.\n` +
    `  The Edge's internal certificate is revoked: the CRL and OCSP responder at ${f.prefix}.10:${DEMO_PORTS.pki} say so.\n\n` +
    `  Open:\n` +
    row('status page', `${url}/`) +
    row('Prometheus metrics', `${url}/metrics`) +
    row('JSON status', `${url}/api/v1/status`) +
    `\n  Config: ${configFile} (edit it; chainwatch reloads on save)\n` +
    `  One-off scan: chainwatch scan --config ${configFile}\n` +
    (ownDir ? `  Files live in ${dir} and are removed on exit.\n` : `  Files live in ${dir}.\n`) +
    `  Ctrl-C stops the daemon and every demo server.\n\n`
  );
}

function bindAdvice(address: string, port: number, err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return `cannot start the demo server on ${address}:${port}: the port is in use (another chainwatch demo?). Stop it, or run this one on other loopback addresses with --ip-prefix 127.0.1`;
  }
  if (code === 'EADDRNOTAVAIL') {
    return `cannot bind ${address}:${port}: this system does not route all of 127.0.0.0/8 to loopback (macOS: sudo ifconfig lo0 alias ${address} for each demo address)`;
  }
  return `cannot start the demo server on ${address}:${port}: ${(err as Error).message}`;
}

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ host, port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

function years(n: number): Date {
  return new Date(Date.now() + n * 365 * 86_400_000);
}

function days(n: number): Date {
  return new Date(Date.now() + n * 86_400_000);
}
