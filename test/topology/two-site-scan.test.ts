// The Lync rule end to end: a two-site topology export goes through import-topology, the config
// it writes is pointed at loopback servers (behind the loopback DNS server) holding certificates
// from the test PKI, and a real scan judges it. Dublin and London may each have their own issuing
// CA under one root; a Persistent Chat web certificate must come from its own site's CA.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseDocument } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { type DnsServer, startDnsServer } from '../../src/demo/dns-server.js';
import type { CertificateAuthority } from '../../src/demo/pki.js';
import { type ServedEndpoint, serveChain } from '../../src/demo/servers.js';
import { buildReport, type Report } from '../../src/output/report.js';
import { runScan } from '../../src/pipeline/scan.js';
import { importTopology } from '../../src/topology/index.js';
import { chainPems, type StandardPki, standardPki } from '../helpers/fixtures.js';
import { cluster, port, service, topology } from './support.js';

// Unprivileged stand-ins for 5061, 443, 5041 and 5070; every server has its own loopback address.
const SIP = 15061;
const WEB = 15443;
const CHAT = 15041;
const MED = 15070;
const DOMAIN = 'contoso.test';

type Site = 'dublin' | 'london';
type Cert = 'default' | 'web';

interface Server {
  fqdn: string;
  address: string;
  site: Site;
  pool: string;
  /** The certificates this server holds and the port each is served on. */
  certs: [Cert, number][];
}

const fqdn = (name: string): string => `${name}.${DOMAIN}`;
const SERVERS: Server[] = [
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

let pki: StandardPki;
let dir: string;
let dns: DnsServer;
let configFile: string;
const running: ServedEndpoint[] = [];

/** (Re)starts every server with certificates from the CA `issuer` picks. */
async function serveFleet(issuer: (s: Server, cert: Cert) => CertificateAuthority): Promise<void> {
  await Promise.all(running.splice(0).map((s) => s.close()));
  const started = await Promise.all(
    SERVERS.flatMap((s) =>
      s.certs.map(async ([cert, port]) => {
        const ca = issuer(s, cert);
        const leaf = await pki.leaf(ca, s.fqdn, { dnsNames: [s.fqdn, s.pool] });
        return serveChain({
          host: s.address,
          port,
          key: leaf.keyPem,
          chain: chainPems(leaf, ca),
          // The Default certificate's ports are MTLS, as on a real Lync server.
          ...(cert === 'default' ? { requireClientCert: { ca: [ca.pem] } } : {}),
        });
      }),
    ),
  );
  running.push(...started);
}

async function scan(): Promise<Report> {
  const config = await loadConfig(configFile);
  return buildReport(await runScan(config));
}

/** Every divergent endpoint of every policy, as `policy target address`. */
function divergences(report: Report): string[] {
  return report.policies.flatMap((p) => p.divergent.map((d) => `${p.name} ${d.target} ${d.address}`)).sort();
}

before(async () => {
  pki = await standardPki();
  dir = await mkdtemp(join(tmpdir(), 'chainwatch-two-site-'));
  const records: Record<string, string[]> = {};
  for (const s of SERVERS) {
    records[s.fqdn] = [s.address];
    records[s.pool] = [...(records[s.pool] ?? []), s.address];
  }
  dns = await startDnsServer({ records });

  // The config exactly as import-topology writes it, with the three settings its header asks the
  // operator to fill in: DNS, the root CA, and where state lives.
  const doc = parseDocument(importTopology(topologyXml(), { sourceName: 'topology.xml' }));
  doc.setIn(['dns', 'servers'], [dns.address]);
  doc.setIn(['trust', 'ca_files'], ['contoso-root.pem']);
  doc.setIn(['trust', 'system_roots'], false);
  doc.setIn(['scan', 'timeout'], '5s');
  await writeFile(join(dir, 'contoso-root.pem'), pki.contosoRoot.pem);
  configFile = join(dir, 'chainwatch.yaml');
  await writeFile(configFile, doc.toString());
});

after(async () => {
  await Promise.all(running.map((s) => s.close()));
  await dns?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the Lync rule on an imported two-site topology', () => {
  it('imports the policies the rule needs, scoped by site', async () => {
    const config = await loadConfig(configFile);
    assert.deepEqual(
      config.policies.map((p) => `${p.name} ${p.scope ?? '-'} ${p.match}`),
      ['pchat-web-same-ca site issuer', 'lync-internal-same-ca site issuer', 'lync-internal-same-root - root'],
    );
    assert.deepEqual(
      config.targets.filter((t) => t.group === 'pchat-web').map((t) => `${t.name} ${t.labels.site}`),
      [
        'dubpool-pchat-web Dublin',
        'dubfe01-pchat-web Dublin',
        'dubfe02-pchat-web Dublin',
        'lonpool-pchat-web London',
        'lonfe01-pchat-web London',
        'lonfe02-pchat-web London',
      ],
    );
  });

  it('(a) everything right: every endpoint answers, every policy is consistent', async () => {
    await serveFleet(() => pki.contosoIssuing01);
    const report = await scan();
    assert.deepEqual(
      report.targets.filter((t) => !t.ok).map((t) => `${t.target}: ${t.error?.message}`),
      [],
    );
    assert.deepEqual(
      report.targets.filter((t) => t.problems.length > 0).map((t) => `${t.target}: ${t.problems}`),
      [],
    );
    assert.equal(report.targets.length, 28, 'each pool name fans out to the addresses behind it');
    assert.deepEqual(divergences(report), []);
    assert.deepEqual(
      report.policies.map((p) => p.consistent),
      [true, true, true],
    );
  });

  it("(b) Dublin's Front End web certificate from London's issuing CA: exactly Dublin's Persistent Chat web endpoints diverge", async () => {
    const siteCa = (s: Server) => (s.site === 'dublin' ? pki.contosoIssuing01 : pki.contosoIssuing02);
    await serveFleet((s, cert) => (s.pool === fqdn('dubpool') && cert === 'web' ? pki.contosoIssuing02 : siteCa(s)));
    const report = await scan();
    assert.deepEqual(
      report.targets.filter((t) => !t.ok),
      [],
    );
    assert.deepEqual(divergences(report), [
      'pchat-web-same-ca dubfe01-pchat-web 127.93.1.11',
      'pchat-web-same-ca dubfe02-pchat-web 127.93.1.12',
      'pchat-web-same-ca dubpool-pchat-web 127.93.1.11',
      'pchat-web-same-ca dubpool-pchat-web 127.93.1.12',
    ]);
    const rule = report.policies.find((p) => p.name === 'pchat-web-same-ca')!;
    // Each site's expected CA is its own; the divergent endpoints are told Dublin's.
    assert.deepEqual(
      rule.scopes.map((s) => [s.value, s.expected.map((e) => e.keyId), s.consistent]),
      [
        ['Dublin', [pki.contosoIssuing01.keyId], false],
        ['London', [pki.contosoIssuing02.keyId], true],
      ],
    );
    assert.ok(
      rule.divergent.every((d) => d.scope === 'Dublin' && d.expected[0]!.keyId === pki.contosoIssuing01.keyId && d.issuer.keyId === pki.contosoIssuing02.keyId),
    );
  });

  it('(c) London on its own issuing CA, legitimately: no divergence anywhere', async () => {
    await serveFleet((s) => (s.site === 'dublin' ? pki.contosoIssuing01 : pki.contosoIssuing02));
    const report = await scan();
    assert.deepEqual(
      report.targets.filter((t) => !t.ok),
      [],
    );
    assert.deepEqual(divergences(report), []);
    assert.deepEqual(
      report.policies.map((p) => p.consistent),
      [true, true, true],
    );
  });
});
