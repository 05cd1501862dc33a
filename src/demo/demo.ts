// `chainwatch demo`: a simulated two-site Lync Server 2013 fleet on loopback, and the daemon
// watching it. Dublin and London each have their own issuing CA under one Contoso root, which is
// legitimate; the mistake is in Dublin only: one Front End's web services (which host the
// Persistent Chat web service) present a certificate from London's issuing CA, so the per-site
// pchat-web-same-ca policy shows exactly that endpoint as divergent on the very first scan.
//
// Ports are above 1024 so no privileges are needed: 5061 (SIP over MTLS), 5041 (Persistent Chat
// MTLS) and 4443 (web services; 443 in production). Every server has its own loopback address
// (Dublin 127.0.0.11 and up, London 127.0.0.21 and up), so the ports never clash with anything
// on 127.0.0.1.

import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startDaemon } from '../daemon/daemon.js';
import { createLogger, type Logger } from '../log/logger.js';
import { startDnsServer } from './dns-server.js';
import { type CertificateAuthority, createIntermediateCa, createRootCa, type IssuedCert, issueClientCert, issueCrl, issueLeaf } from './pki.js';
import { startRevocationServer } from './revocation-server.js';
import { serveChain, type TlsVersion } from './servers.js';

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

/** One site of the demo fleet: a Front End pool, a Persistent Chat server, and its own issuing CA. */
interface DemoSite {
  name: string;
  pool: Host;
  fe: Host[];
  pchat: Host;
  edge: Host | null;
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
    const dublin: DemoSite = {
      name: 'Dublin',
      pool: host('dubpool', 11),
      fe: [host('dubfe01', 11), host('dubfe02', 12)],
      pchat: host('dubchat01', 15),
      edge: host('dubedge01-int', 16),
    };
    const london: DemoSite = {
      name: 'London',
      pool: host('lonpool', 21),
      fe: [host('lonfe01', 21), host('lonfe02', 22)],
      pchat: host('lonchat01', 25),
      edge: null,
    };
    const sites = [dublin, london];

    // Each site's CA publishes its CRL and answers OCSP at its own point (Dublin .10, London .20);
    // Dublin's also carries the root's CRL.
    const pkiHost = (site: DemoSite): string => `${prefix}.${site === dublin ? 10 : 20}`;
    const pkiBase = (site: DemoSite): string => `http://${pkiHost(site)}:${DEMO_PORTS.pki}`;

    // One root, an issuing CA per site: Microsoft's advice is an internal CA, not one CA for every site.
    const root = await createRootCa({ commonName: 'Contoso Internal Root CA', organization: 'Contoso', notAfter: years(20) });
    const [dublinCa, londonCa] = await Promise.all(
      sites.map((s) =>
        createIntermediateCa(root, {
          commonName: `Contoso ${s.name} Issuing CA`,
          organization: 'Contoso',
          notAfter: years(10),
          crlUrls: [`${pkiBase(dublin)}/crl/contoso-root.crl`],
        }),
      ),
    );
    const caOf = new Map<DemoSite, CertificateAuthority>([
      [dublin, dublinCa!],
      [london, londonCa!],
    ]);
    const lyncCert = (site: DemoSite, names: string[]) =>
      issueLeaf(caOf.get(site)!, {
        commonName: names[0]!,
        organization: 'Contoso',
        dnsNames: names,
        notAfter: days(300),
        crlUrls: [`${pkiBase(site)}/crl/contoso-issuing.crl`],
        ocspUrls: [`${pkiBase(site)}/ocsp`],
      });
    // dubfe02's IIS was renewed from London's CA by mistake: the Persistent Chat rule is broken in Dublin only.
    const stray = dublin.fe[1]!;
    const client = await issueClientCert(dublinCa!, { commonName: 'chainwatch', organization: 'Contoso' });

    const serve = async (h: Host, port: number, leaf: IssuedCert, ca: CertificateAuthority, more: { mtls?: boolean; maxVersion?: TlsVersion } = {}) => {
      try {
        const s = await serveChain({
          host: h.address,
          port,
          key: leaf.keyPem,
          chain: [leaf.pem, ca.pem],
          ...(more.mtls ? { requireClientCert: { ca: [dublinCa!.pem, londonCa!.pem] } } : {}),
          ...(more.maxVersion ? { maxVersion: more.maxVersion } : {}),
        });
        started.push(s);
        return s;
      } catch (err) {
        throw new Error(bindAdvice(h.address, port, err));
      }
    };
    // Every certificate first: the CRLs must name the revoked one before anything is served.
    const plan: { h: Host; port: number; leaf: IssuedCert; ca: CertificateAuthority; more: { mtls?: boolean; maxVersion?: TlsVersion } }[] = [];
    let edgeCert: IssuedCert | null = null;
    for (const site of sites) {
      const ca = caOf.get(site)!;
      for (const [i, h] of site.fe.entries()) {
        // Lync's default certificate covers the pool FQDN, the server FQDN and the SIP name.
        const names = [site.pool.fqdn, h.fqdn, `sip.${DOMAIN}`];
        const defaultCert = await lyncCert(site, names);
        const webCert = h === stray ? await lyncCert(london, names) : defaultCert;
        // One Dublin Front End still speaks TLS 1.2 only, as older Lync servers do.
        plan.push({ h, port: DEMO_PORTS.sip, leaf: defaultCert, ca, more: { mtls: true, maxVersion: site === dublin && i === 0 ? 'TLSv1.2' : undefined } });
        plan.push({ h, port: DEMO_PORTS.web, leaf: webCert, ca: h === stray ? londonCa! : ca, more: {} });
      }
      plan.push({ h: site.pchat, port: DEMO_PORTS.pchat, leaf: await lyncCert(site, [site.pchat.fqdn]), ca, more: { mtls: true } });
      if (site.edge) {
        edgeCert = await lyncCert(site, [site.edge.fqdn]);
        plan.push({ h: site.edge, port: DEMO_PORTS.sip, leaf: edgeCert, ca, more: { mtls: true } });
      }
    }

    // Dublin's Edge internal certificate was revoked (key compromise) and nobody bound its replacement.
    const revokedIn = (site: DemoSite) => (site === dublin && edgeCert ? [{ serialNumber: edgeCert.serialNumber, reason: 1, revokedAt: days(-3) }] : []);
    for (const site of sites) {
      const ca = caOf.get(site)!;
      try {
        started.push(
          await startRevocationServer({
            host: pkiHost(site),
            port: DEMO_PORTS.pki,
            crls: {
              ...(site === dublin ? { '/crl/contoso-root.crl': await issueCrl(root) } : {}),
              '/crl/contoso-issuing.crl': await issueCrl(ca, { revoked: revokedIn(site) }),
            },
            ocsp: { ca, revoked: revokedIn(site) },
          }),
        );
      } catch (err) {
        throw new Error(bindAdvice(pkiHost(site), DEMO_PORTS.pki, err));
      }
    }

    const servers = plan.map((p) => serve(p.h, p.port, p.leaf, p.ca, p.more));
    const results = await Promise.allSettled(servers);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;

    const records: Record<string, string[]> = {};
    for (const site of sites) {
      records[site.pool.fqdn] = site.fe.map((h) => h.address);
      for (const h of [...site.fe, site.pchat, ...(site.edge ? [site.edge] : [])]) records[h.fqdn] = [h.address];
    }
    const dns = await startDnsServer({ records });
    started.push(dns);

    await mkdir(join(dir, 'ca'), { recursive: true });
    await writeFile(join(dir, 'ca', 'contoso-root.pem'), root.pem);
    await writeFile(join(dir, 'ca', 'chainwatch-client.pem'), client.pem + dublinCa!.pem);
    await writeFile(join(dir, 'ca', 'chainwatch-client.key'), client.keyPem, { mode: 0o600 });
    await chmod(join(dir, 'ca', 'chainwatch-client.key'), 0o600).catch(() => undefined);
    const listen = o.listen ?? ((await portFree('127.0.0.1', 9862)) ? '127.0.0.1:9862' : '127.0.0.1:0');
    const configFile = join(dir, 'chainwatch.yaml');
    await writeFile(configFile, demoConfig({ dnsServer: dns.address, listen, schedule: o.schedule ?? '* * * * *', sites }));

    const daemon = await startDaemon(configFile, { log, signals: true });
    const stopped = daemon.stopped.then(cleanup);
    const url = daemon.url();
    print(banner(url, dir, configFile, ownDir, { sites, stray, prefix }));
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

function demoConfig(c: { dnsServer: string; listen: string; schedule: string; sites: DemoSite[] }): string {
  const targets = c.sites
    .map((s) => {
      const labels = `labels: {site: ${s.name}, pool: ${s.pool.fqdn}}`;
      const lines = [
        `  # ${s.name}: the Front End pool's SIP (MTLS) port, every pool member probed on its own.`,
        `  - name: ${s.pool.name}-default`,
        `    group: lync-default`,
        `    role: front-end`,
        `    host: ${s.pool.fqdn}`,
        `    port: ${DEMO_PORTS.sip}`,
        `    resolve: all`,
        `    client_cert: {cert: ca/chainwatch-client.pem, key: ca/chainwatch-client.key}`,
        `    ${labels}`,
        `  # Persistent Chat server: MTLS without a client certificate here, so the server aborts the`,
        `  # handshake; chainwatch still records the chain it presented.`,
        `  - name: ${s.pchat.name}-default`,
        `    group: lync-default`,
        `    role: persistent-chat`,
        `    host: ${s.pchat.fqdn}`,
        `    port: ${DEMO_PORTS.pchat}`,
        `    labels: {site: ${s.name}, pool: ${s.pchat.fqdn}}`,
      ];
      if (s.edge) {
        lines.push(
          `  - name: ${s.edge.name}-default`,
          `    group: lync-default`,
          `    role: edge-internal`,
          `    host: ${s.edge.fqdn}`,
          `    port: ${DEMO_PORTS.sip}`,
          `    labels: {site: ${s.name}, pool: ${s.edge.fqdn}}`,
        );
      }
      lines.push(
        `  # The Persistent Chat Web Services live on the pool's web services, on every Front End.`,
        `  - name: ${s.pool.name}-pchat-web`,
        `    group: pchat-web`,
        `    role: pchat-web-services`,
        `    url: https://${s.pool.fqdn}:${DEMO_PORTS.web}/PersistentChat/MGCWebService.asmx`,
        `    resolve: all`,
        `    ${labels}`,
      );
      return lines.join('\n');
    })
    .join('\n');
  return `# chainwatch demo: a simulated two-site Lync Server 2013 fleet on loopback (generated; edit it
# and chainwatch reloads it at once).
scan:
  schedule: "${c.schedule}"
  timeout: 5s
  expiry_warning: 90d
dns:
  # The demo's own DNS server: each pool name has one A record per Front End.
  servers: ["${c.dnsServer}"]
trust:
  ca_files: [ca/contoso-root.pem]
  system_roots: false
state:
  path: ./state
server:
  listen: ${c.listen}
targets:
${targets}
policies:
  # Lync Server 2013: Persistent Chat Web Services need a certificate from the same CA as the
  # internal Lync servers, judged per site: each site may have its own issuing CA.
  - name: pchat-web-same-ca
    reference: lync-default
    members: [pchat-web]
    match: issuer
    scope: site
  # Across sites, one root.
  - name: lync-internal-same-root
    members: [lync-default, pchat-web]
    match: root
`;
}

function banner(url: string, dir: string, configFile: string, ownDir: boolean, f: { sites: DemoSite[]; stray: Host; prefix: string }): string {
  const row = (what: string, where: string) => `    ${what.padEnd(36)} ${where}\n`;
  const fleet = f.sites
    .map(
      (s) =>
        `  ${s.name} (Contoso ${s.name} Issuing CA)\n` +
        row(
          `Front End pool ${s.pool.name} (${s.fe.length} servers)`,
          `${s.fe.map((h) => h.address).join(', ')}  SIP ${DEMO_PORTS.sip} (MTLS), web ${DEMO_PORTS.web}`,
        ) +
        row(`Persistent Chat ${s.pchat.name}`, `${s.pchat.address}  ${DEMO_PORTS.pchat} (MTLS)`) +
        (s.edge ? row(`Edge internal ${s.edge.name}`, `${s.edge.address}  SIP ${DEMO_PORTS.sip} (MTLS)`) : ''),
    )
    .join('');
  return (
    `\nchainwatch demo: a simulated two-site Lync fleet (${DOMAIN}) on loopback\n\n` +
    fleet +
    `\n  The web services on ${f.stray.name} (${f.stray.address}) in Dublin present a certificate from\n` +
    `  Contoso London Issuing CA: policy pchat-web-same-ca (judged per site) reports it as divergent.\n` +
    `  Dublin's Edge internal certificate is revoked: the CRL and OCSP responder at ${f.prefix}.10:${DEMO_PORTS.pki} say so.\n` +
    `  Each site's CA publishes its CRL and OCSP at ${f.prefix}.10 (Dublin) and ${f.prefix}.20 (London), port ${DEMO_PORTS.pki}.\n\n` +
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
