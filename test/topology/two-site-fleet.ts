// The two-site Lync fleet the topology tests share: a topology export with Dublin and London
// sites goes through import-topology, and every server it names is a loopback TLS server (behind
// the loopback DNS server) holding a certificate from the test PKI. The config written is the
// import's output with only the settings its header asks the operator to fill in (DNS, the root
// CA, where state lives) plus whatever a test overrides.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { type DnsServer, startDnsServer } from '../../src/demo/dns-server.js';
import type { CertificateAuthority } from '../../src/demo/pki.js';
import { type ServedEndpoint, serveChain } from '../../src/demo/servers.js';
import { importTopology } from '../../src/topology/index.js';
import { chainPems, type StandardPki, standardPki } from '../helpers/fixtures.js';
import { cluster, port, service, topology } from './support.js';

// Unprivileged stand-ins for 5061, 443, 5041 and 5070; every server has its own loopback address.
const SIP = 15061;
const WEB = 15443;
const CHAT = 15041;
const MED = 15070;
const DOMAIN = 'contoso.test';

export type Site = 'dublin' | 'london';
export type Cert = 'default' | 'web';

export interface Server {
  fqdn: string;
  address: string;
  site: Site;
  pool: string;
  /** The certificates this server holds and the port each is served on. */
  certs: [Cert, number][];
}

export const fqdn = (name: string): string => `${name}.${DOMAIN}`;
export const SERVERS: Server[] = [
  {
    fqdn: fqdn('dubfe01'),
    address: '127.93.1.11',
    site: 'dublin',
    pool: fqdn('dubpool'),
    certs: [
      ['default', SIP],
      ['web', WEB],
    ],
  },
  {
    fqdn: fqdn('dubfe02'),
    address: '127.93.1.12',
    site: 'dublin',
    pool: fqdn('dubpool'),
    certs: [
      ['default', SIP],
      ['web', WEB],
    ],
  },
  {
    fqdn: fqdn('dubdir01'),
    address: '127.93.1.21',
    site: 'dublin',
    pool: fqdn('dubdir'),
    certs: [
      ['default', SIP],
      ['web', WEB],
    ],
  },
  { fqdn: fqdn('dubchat01'), address: '127.93.1.31', site: 'dublin', pool: fqdn('dubchat'), certs: [['default', CHAT]] },
  { fqdn: fqdn('dubmed01'), address: '127.93.1.41', site: 'dublin', pool: fqdn('dubmed'), certs: [['default', MED]] },
  { fqdn: fqdn('dubedge01'), address: '127.93.1.51', site: 'dublin', pool: fqdn('dubedge'), certs: [['default', SIP]] },
  {
    fqdn: fqdn('lonfe01'),
    address: '127.93.2.11',
    site: 'london',
    pool: fqdn('lonpool'),
    certs: [
      ['default', SIP],
      ['web', WEB],
    ],
  },
  {
    fqdn: fqdn('lonfe02'),
    address: '127.93.2.12',
    site: 'london',
    pool: fqdn('lonpool'),
    certs: [
      ['default', SIP],
      ['web', WEB],
    ],
  },
  { fqdn: fqdn('lonchat01'), address: '127.93.2.31', site: 'london', pool: fqdn('lonchat'), certs: [['default', CHAT]] },
];

function topologyXml(): string {
  const reg = '<RegistrarService IsDirector="false"/>';
  const web = port(WEB, 'Https', 'WebSite');
  const machines = (pool: string) => SERVERS.filter((s) => s.pool === pool).map((s) => s.fqdn);
  const edgeMachine = `<Machine Fqdn="${fqdn('dubedge01')}"><NetInterface InterfaceSide="Primary" InterfaceNumber="1" IPAddress="127.93.1.51"/></Machine>`;
  const clusters = [
    cluster('1', '1', fqdn('dubpool'), machines(fqdn('dubpool'))),
    cluster('1', '2', fqdn('dubdir'), machines(fqdn('dubdir'))),
    cluster('1', '3', fqdn('dubchat'), machines(fqdn('dubchat'))),
    cluster('1', '4', fqdn('dubmed'), machines(fqdn('dubmed'))),
    cluster('1', '5', fqdn('dubedge'), edgeMachine),
    cluster('2', '1', fqdn('lonpool'), machines(fqdn('lonpool'))),
    cluster('2', '2', fqdn('lonchat'), machines(fqdn('lonchat'))),
  ].join('');
  const services = [
    service('1-Registrar-1', '1:1', [port(SIP, 'Mtls')], reg),
    service('1-WebServices-1', '1:1', [web]),
    service('1-Registrar-2', '1:2', [port(SIP, 'Mtls')], '<RegistrarService IsDirector="true"/>'),
    service('1-WebServices-2', '1:2', [web]),
    service('1-PersistentChatService-1', '1:3', [port(CHAT, 'Mtls')], '<DependsOn><Dependency ServiceId="1-Registrar-1" Usage="Default"/></DependsOn>'),
    service('1-MediationServer-1', '1:4', [port(MED, 'Mtls')]),
    service('1-EdgeServer-1', '1:5', [port(SIP, 'Mtls')]),
    service('2-Registrar-1', '2:1', [port(SIP, 'Mtls')], reg),
    service('2-WebServices-1', '2:1', [web]),
    service('2-PersistentChatService-1', '2:2', [port(CHAT, 'Mtls')], '<DependsOn><Dependency ServiceId="2-Registrar-1" Usage="Default"/></DependsOn>'),
  ].join('');
  return topology(clusters, services, '<CentralSite SiteId="1"><Name>Dublin</Name></CentralSite><CentralSite SiteId="2"><Name>London</Name></CentralSite>');
}

export type Issuer = (s: Server, cert: Cert) => CertificateAuthority;

export interface TwoSiteFleet {
  pki: StandardPki;
  dir: string;
  /** The imported config, as written to disk. */
  configFile: string;
  /** (Re)starts every server with certificates from the CA `issuer` picks. */
  serveFleet(issuer: Issuer): Promise<void>;
  /** Restarts only the servers `which` selects, on the same address and port, with `issuer`'s CA. */
  reserve(which: (s: Server, cert: Cert) => boolean, issuer: Issuer): Promise<void>;
  close(): Promise<void>;
}

/** Imports the two-site topology into a config in a temp directory; `settings` are set in it by path. */
export async function startTwoSiteFleet(settings: [string[], unknown][] = []): Promise<TwoSiteFleet> {
  await holdFleetAddresses();
  const pki = await standardPki();
  const dir = await mkdtemp(join(tmpdir(), 'chainwatch-two-site-'));
  const records: Record<string, string[]> = {};
  for (const s of SERVERS) {
    records[s.fqdn] = [s.address];
    records[s.pool] = [...(records[s.pool] ?? []), s.address];
  }
  const dns: DnsServer = await startDnsServer({ records });

  const doc = parseDocument(importTopology(topologyXml(), { sourceName: 'topology.xml' }));
  doc.setIn(['dns', 'servers'], [dns.address]);
  doc.setIn(['trust', 'ca_files'], ['contoso-root.pem']);
  doc.setIn(['trust', 'system_roots'], false);
  doc.setIn(['scan', 'timeout'], '5s');
  for (const [path, value] of settings) doc.setIn(path, value);
  await writeFile(join(dir, 'contoso-root.pem'), pki.contosoRoot.pem);
  const configFile = join(dir, 'chainwatch.yaml');
  await writeFile(configFile, doc.toString());

  const running = new Map<string, ServedEndpoint>();
  const serve = async (s: Server, cert: Cert, port: number, issuer: Issuer): Promise<void> => {
    const ca = issuer(s, cert);
    const leaf = await pki.leaf(ca, s.fqdn, { dnsNames: [s.fqdn, s.pool] });
    const served = await serveChain({
      host: s.address,
      port,
      key: leaf.keyPem,
      chain: chainPems(leaf, ca),
      // The Default certificate's ports are MTLS, as on a real Lync server.
      ...(cert === 'default' ? { requireClientCert: { ca: [ca.pem] } } : {}),
    });
    running.set(`${s.fqdn} ${cert}`, served);
  };
  const reserve = async (which: (s: Server, cert: Cert) => boolean, issuer: Issuer): Promise<void> => {
    const chosen = SERVERS.flatMap((s) => s.certs.filter(([cert]) => which(s, cert)).map(([cert, port]) => ({ s, cert, port })));
    await Promise.all(chosen.map(({ s, cert }) => running.get(`${s.fqdn} ${cert}`)?.close()));
    await Promise.all(chosen.map(({ s, cert, port }) => serve(s, cert, port, issuer)));
  };
  return {
    pki,
    dir,
    configFile,
    serveFleet: (issuer) => reserve(() => true, issuer),
    reserve,
    async close() {
      await Promise.all([...running.values()].map((s) => s.close()));
      await dns.close();
      await rm(dir, { recursive: true, force: true });
      await rm(ADDRESS_LOCK, { recursive: true, force: true });
    },
  };
}

// The fleet's addresses and ports are fixed (the topology names them), and test files run in
// parallel processes: one fleet at a time, held by a lock directory with the holder's pid in it.
const ADDRESS_LOCK = join(tmpdir(), 'chainwatch-two-site-fleet.lock');

async function holdFleetAddresses(): Promise<void> {
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    try {
      await mkdir(ADDRESS_LOCK);
      await writeFile(join(ADDRESS_LOCK, 'pid'), String(process.pid));
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number(await readFile(join(ADDRESS_LOCK, 'pid'), 'utf8').catch(() => ''));
    if (holder > 0 && !alive(holder)) await rm(ADDRESS_LOCK, { recursive: true, force: true });
    if (Date.now() > deadline) throw new Error(`the two-site fleet's addresses are still held by pid ${holder} (${ADDRESS_LOCK})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
