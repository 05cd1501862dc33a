import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { parseDocument } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { importTopology } from '../../src/topology/index.js';
import { cluster, fixture, FIXTURE_DIR, port, row, service, topology } from './support.js';

const CONFIG_PATH = '/srv/chainwatch/chainwatch.yaml';

async function load(xml: string) {
  return parseConfig(importTopology(xml, { sourceName: 'topology.xml' }), CONFIG_PATH);
}

test('every fixture imports to a config the config loader accepts', async () => {
  const files = readdirSync(FIXTURE_DIR).filter((f) => f.endsWith('.xml'));
  assert.ok(files.length >= 2, 'fixtures are missing');
  for (const file of files) {
    const text = importTopology(fixture(file), { sourceName: file });
    const config = await parseConfig(text, join(fileURLToPath(FIXTURE_DIR), 'generated.yaml'));
    assert.ok(config.targets.length > 0, `${file}: no targets`);
    // Every group a policy names has targets, and every target name is unique (the loader
    // would have refused otherwise; this states it as a property of the importer).
    const groups = new Set(config.targets.map((t) => t.group));
    for (const p of config.policies) for (const g of [...p.members, ...(p.reference ? [p.reference] : [])]) assert.ok(groups.has(g), `${file}: ${p.name} names ${g}`);
  }
});

test('a Standard Edition server: one name that is both pool and server, roles merged per port', async () => {
  const config = await load(fixture('standard-edition.xml'));
  assert.deepEqual(config.targets.map(row), [
    'lyncse01-web-443 lync-frontend lyncse01.contoso.local:443 all UserServices, WebServices',
    'lyncse01-sip-444 lync-frontend lyncse01.contoso.local:444 all UserServices',
    'lyncse01-sip-5061 lync-frontend lyncse01.contoso.local:5061 all Registrar',
    'lyncse01-sip-5067 lync-frontend lyncse01.contoso.local:5067 all MediationServer',
    'lyncse01-sip-5070 lync-frontend lyncse01.contoso.local:5070 all MediationServer',
    'lyncse01-psom-8057 lync-frontend lyncse01.contoso.local:8057 all ConfServices',
    'lyncse01-web-4443 lync-web-external lyncse01.contoso.local:4443 all WebServices',
  ]);
  // Http 80, Tcp 5060/5063 and the file share have no TLS and give no targets.
  assert.ok(!config.targets.some((t) => [80, 5060, 5063].includes(t.port) || t.host.startsWith('fs01')));
  assert.deepEqual(
    config.policies.map((p) => ({ name: p.name, reference: p.reference, members: p.members, match: p.match })),
    [{ name: 'lync-internal-same-ca', reference: null, members: ['lync-frontend'], match: 'issuer' }],
  );
  // Defaults as the loader would give them; no trust file the operator has not put in place yet.
  assert.equal(config.scan.schedule, '*/5 * * * *');
  assert.equal(config.scan.timeoutMs, 10_000);
  assert.deepEqual(config.trust.caFiles, []);
  assert.equal(config.trust.systemRoots, true);
  assert.equal(config.state.path, '/srv/chainwatch/state');
  assert.deepEqual(config.server.listen, { host: '0.0.0.0', port: 9862 });
});

test('an enterprise topology over two sites: every pool, server and TLS port, grouped by kind', async () => {
  const config = await load(fixture('enterprise.xml'));
  assert.deepEqual(config.targets.map(row), [
    // Front End pool of three: the pool name (every address behind it) and each server.
    'pool01-web-443 lync-frontend pool01.contoso.local:443 all WebServices',
    'pool01-sip-444 lync-frontend pool01.contoso.local:444 all UserServices',
    'pool01-sip-5061 lync-frontend pool01.contoso.local:5061 all Registrar',
    'pool01-psom-8057 lync-frontend pool01.contoso.local:8057 all ConfServices',
    'fe01-web-443 lync-frontend fe01.contoso.local:443 WebServices',
    'fe01-sip-444 lync-frontend fe01.contoso.local:444 UserServices',
    'fe01-sip-5061 lync-frontend fe01.contoso.local:5061 Registrar',
    'fe01-psom-8057 lync-frontend fe01.contoso.local:8057 ConfServices',
    'fe02-web-443 lync-frontend fe02.contoso.local:443 WebServices',
    'fe02-sip-444 lync-frontend fe02.contoso.local:444 UserServices',
    'fe02-sip-5061 lync-frontend fe02.contoso.local:5061 Registrar',
    'fe02-psom-8057 lync-frontend fe02.contoso.local:8057 ConfServices',
    'fe03-web-443 lync-frontend fe03.contoso.local:443 WebServices',
    'fe03-sip-444 lync-frontend fe03.contoso.local:444 UserServices',
    'fe03-sip-5061 lync-frontend fe03.contoso.local:5061 Registrar',
    'fe03-psom-8057 lync-frontend fe03.contoso.local:8057 ConfServices',
    // The second site's Standard Edition server (HTTPS spelt in capitals in the XML).
    'lyncse02-web-443 lync-frontend lyncse02.contoso.local:443 all WebServices',
    'lyncse02-sip-5061 lync-frontend lyncse02.contoso.local:5061 all Registrar',
    // A Registrar with IsDirector="true" is a Director.
    'dirpool-web-443 lync-director dirpool.contoso.local:443 all WebServices',
    'dirpool-web-444 lync-director dirpool.contoso.local:444 all Director',
    'dirpool-sip-5061 lync-director dirpool.contoso.local:5061 all Director',
    'dir01-web-443 lync-director dir01.contoso.local:443 WebServices',
    'dir01-web-444 lync-director dir01.contoso.local:444 Director',
    'dir01-sip-5061 lync-director dir01.contoso.local:5061 Director',
    'dir02-web-443 lync-director dir02.contoso.local:443 WebServices',
    'dir02-web-444 lync-director dir02.contoso.local:444 Director',
    'dir02-sip-5061 lync-director dir02.contoso.local:5061 Director',
    // Edge internal side: same CA as the rest of the inside (the UDP media relay port is not TLS).
    'edgepool-web-4443 lync-edge-internal edgepool.contoso.local:4443 all EdgeServer',
    'edgepool-sip-5061 lync-edge-internal edgepool.contoso.local:5061 all EdgeServer',
    'edgepool-sip-5062 lync-edge-internal edgepool.contoso.local:5062 all EdgeServer',
    'edgepool-psom-8057 lync-edge-internal edgepool.contoso.local:8057 all EdgeServer',
    'edge01-web-4443 lync-edge-internal edge01.contoso.local:4443 EdgeServer',
    'edge01-sip-5061 lync-edge-internal edge01.contoso.local:5061 EdgeServer',
    'edge01-sip-5062 lync-edge-internal edge01.contoso.local:5062 EdgeServer',
    'edge01-psom-8057 lync-edge-internal edge01.contoso.local:8057 EdgeServer',
    'edge02-web-4443 lync-edge-internal edge02.contoso.local:4443 EdgeServer',
    'edge02-sip-5061 lync-edge-internal edge02.contoso.local:5061 EdgeServer',
    'edge02-sip-5062 lync-edge-internal edge02.contoso.local:5062 EdgeServer',
    'edge02-psom-8057 lync-edge-internal edge02.contoso.local:8057 EdgeServer',
    'pchatpool-sip-5041 lync-pchat pchatpool.contoso.local:5041 all PersistentChatService',
    'pchat01-sip-5041 lync-pchat pchat01.contoso.local:5041 PersistentChatService',
    'pchat02-sip-5041 lync-pchat pchat02.contoso.local:5041 PersistentChatService',
    'medpool-sip-5067 lync-mediation medpool.contoso.local:5067 all MediationServer',
    'medpool-sip-5070 lync-mediation medpool.contoso.local:5070 all MediationServer',
    'med01-sip-5067 lync-mediation med01.contoso.local:5067 MediationServer',
    'med01-sip-5070 lync-mediation med01.contoso.local:5070 MediationServer',
    'med02-sip-5067 lync-mediation med02.contoso.local:5067 MediationServer',
    'med02-sip-5070 lync-mediation med02.contoso.local:5070 MediationServer',
    // The Persistent Chat pool depends on pool01, whose IIS serves its file upload/download.
    'pool01-pchat-web pchat-web https://pool01.contoso.local/PersistentChat/MGCWebService.asmx all PersistentChatWebServices',
    'fe01-pchat-web pchat-web https://fe01.contoso.local/PersistentChat/MGCWebService.asmx PersistentChatWebServices',
    'fe02-pchat-web pchat-web https://fe02.contoso.local/PersistentChat/MGCWebService.asmx PersistentChatWebServices',
    'fe03-pchat-web pchat-web https://fe03.contoso.local/PersistentChat/MGCWebService.asmx PersistentChatWebServices',
    'pool01-web-4443 lync-web-external pool01.contoso.local:4443 all WebServices',
    'fe01-web-4443 lync-web-external fe01.contoso.local:4443 WebServices',
    'fe02-web-4443 lync-web-external fe02.contoso.local:4443 WebServices',
    'fe03-web-4443 lync-web-external fe03.contoso.local:4443 WebServices',
    'dirpool-web-4443 lync-web-external dirpool.contoso.local:4443 all WebServices',
    'dir01-web-4443 lync-web-external dir01.contoso.local:4443 WebServices',
    'dir02-web-4443 lync-web-external dir02.contoso.local:4443 WebServices',
    // Edge external: the published name on each server's external IP for that interface number;
    // the A/V port (Tcp) carries no TLS.
    'edge01-ext-sip-443 lync-edge-external sip.contoso.com:443 @203.0.113.10 EdgeServer',
    'edge01-ext-psom-443 lync-edge-external webconf.contoso.com:443 @203.0.113.11 EdgeServer',
    'edge01-ext-sip-5061 lync-edge-external sip.contoso.com:5061 @203.0.113.10 EdgeServer',
    'edge02-ext-sip-443 lync-edge-external sip.contoso.com:443 @203.0.113.20 EdgeServer',
    'edge02-ext-psom-443 lync-edge-external webconf.contoso.com:443 @203.0.113.21 EdgeServer',
    'edge02-ext-sip-5061 lync-edge-external sip.contoso.com:5061 @203.0.113.20 EdgeServer',
    'owas-web-443 owas owas.contoso.local:443 all WacService',
    'owas01-web-443 owas owas01.contoso.local:443 WacService',
    'gw01-sip-5067 lync-other gw01.contoso.local:5067 all PstnGateway',
  ]);
  // SNI follows the host; the edge external targets connect to the IP and still ask for the public name.
  const edge = config.targets.find((t) => t.name === 'edge01-ext-sip-443')!;
  assert.equal(edge.sni, 'sip.contoso.com');
  assert.deepEqual(
    config.policies.map((p) => ({ name: p.name, reference: p.reference, members: p.members, match: p.match })),
    [
      { name: 'pchat-web-same-ca', reference: 'lync-frontend', members: ['pchat-web'], match: 'issuer' },
      {
        name: 'lync-internal-same-ca',
        reference: null,
        members: ['lync-frontend', 'lync-director', 'lync-edge-internal', 'lync-pchat', 'lync-mediation'],
        match: 'issuer',
      },
    ],
  );
});

test('the generated YAML explains itself: MTLS, skipped parts, trust anchors, public groups', () => {
  const text = importTopology(fixture('enterprise.xml'), { sourceName: 'C:\\lync\\topology.xml' });
  assert.match(text, /^# chainwatch configuration generated by 'chainwatch import-topology' from C:\\lync\\topology\.xml\./);
  assert.match(text, /^# Lync topology: 2 sites \(Dublin, London & South East\), 8 pools and 14 servers with TLS ports, 68 targets in 10 groups\.$/m);
  // The service on an undefined pool is reported in the header, not silently dropped.
  assert.match(text, /service 2-MediationServer-9 is installed on pool 2:9, which the topology does not define/);
  // trust.ca_files is a commented example the operator is told to set.
  assert.match(text, /SET ca_files to your internal root CA/);
  assert.match(text, /^ {2}# ca_files:$/m);
  assert.doesNotMatch(text, /^ {2}ca_files:/m);

  // The MTLS remark sits exactly on the targets whose port is Mtls in the topology.
  const doc = parseDocument(text);
  const targets = (doc.get('targets', true) as { items: { commentBefore?: string | null; get(k: string): unknown }[] }).items;
  const withMtls = targets.filter((t) => /MTLS port/.test(t.commentBefore ?? '')).map((t) => t.get('name'));
  const mtlsExpected = [
    'pool01-sip-444', 'pool01-sip-5061', 'fe01-sip-444', 'fe01-sip-5061', 'fe02-sip-444', 'fe02-sip-5061', 'fe03-sip-444', 'fe03-sip-5061',
    'lyncse02-sip-5061',
    'dirpool-web-444', 'dirpool-sip-5061', 'dir01-web-444', 'dir01-sip-5061', 'dir02-web-444', 'dir02-sip-5061',
    'edgepool-sip-5061', 'edgepool-sip-5062', 'edgepool-psom-8057', 'edge01-sip-5061', 'edge01-sip-5062', 'edge01-psom-8057', 'edge02-sip-5061', 'edge02-sip-5062', 'edge02-psom-8057',
    'pchatpool-sip-5041', 'pchat01-sip-5041', 'pchat02-sip-5041',
    'medpool-sip-5070', 'med01-sip-5070', 'med02-sip-5070',
    'edge01-ext-sip-5061', 'edge02-ext-sip-5061',
  ];
  assert.deepEqual(withMtls, mtlsExpected);
  // Each group is introduced once, with why it is (or is not) under a policy.
  for (const g of ['lync-frontend', 'lync-director', 'lync-edge-internal', 'lync-pchat', 'lync-mediation', 'pchat-web', 'lync-web-external', 'lync-edge-external', 'owas', 'lync-other']) {
    assert.equal(text.split(`# ==== ${g}:`).length - 1, 1, `group ${g} heading`);
  }
  assert.match(text, /==== lync-edge-external: Edge servers' external \(internet\) interface: public certificates,\n\s+# +deliberately kept out of the internal one-CA policy/);
});

test('the output does not depend on the order of pools and services in the XML', () => {
  const xml = fixture('enterprise.xml');
  const reorder = (tag: string, text: string): string => {
    const open = `<top:${tag}s>`;
    const close = `</top:${tag}s>`;
    const start = text.indexOf(open) + open.length;
    const end = text.indexOf(close);
    const items = text.slice(start, end).match(new RegExp(`<top:${tag}[ >][\\s\\S]*?</top:${tag}>`, 'g'))!;
    assert.ok(items.length > 5);
    return text.slice(0, start) + [...items].reverse().join('\n') + text.slice(end);
  };
  const shuffled = reorder('Service', reorder('Cluster', xml));
  assert.notEqual(shuffled, xml);
  assert.equal(importTopology(shuffled), importTopology(xml));
});

test('Persistent Chat web services go to the Front End pool the chat pool depends on, else to its site', async () => {
  const clusters = [
    cluster('1', '1', 'poola.contoso.local', ['fea1.contoso.local']),
    cluster('1', '2', 'poolb.contoso.local', ['feb1.contoso.local', 'feb2.contoso.local']),
    cluster('1', '3', 'chat.contoso.local', ['chat1.contoso.local']),
    cluster('2', '1', 'poolc.contoso.local', ['fec1.contoso.local']),
    cluster('2', '2', 'chat2.contoso.local', ['chat21.contoso.local']),
  ].join('');
  const reg = '<RegistrarService IsDirector="false"/>';
  const services = [
    service('1-Registrar-1', '1:1', [port(5061, 'Mtls')], reg),
    service('1-Registrar-2', '1:2', [port(5061, 'Mtls')], reg),
    service('2-Registrar-1', '2:1', [port(5061, 'Mtls')], reg),
    // Names its home pool by attribute: only poolb hosts its web services.
    service('1-PersistentChatService-1', '1:3', [port(5041, 'Mtls')], '<DependsOn><Dependency ServiceId="1-Registrar-2" Usage="Default"/></DependsOn>'),
    // Names none: the Front End pools of its own site (site 2: poolc only).
    service('2-PersistentChatService-1', '2:2', [port(5041, 'Mtls')]),
  ].join('');
  const sites = '<CentralSite SiteId="1"><Name>Dublin</Name></CentralSite><CentralSite SiteId="2"><Name>Cork</Name></CentralSite>';
  const config = await load(topology(clusters, services, sites));
  assert.deepEqual(
    config.targets.filter((t) => t.group === 'pchat-web').map(row),
    [
      'poolb-pchat-web pchat-web https://poolb.contoso.local/PersistentChat/MGCWebService.asmx all PersistentChatWebServices',
      'feb1-pchat-web pchat-web https://feb1.contoso.local/PersistentChat/MGCWebService.asmx PersistentChatWebServices',
      'feb2-pchat-web pchat-web https://feb2.contoso.local/PersistentChat/MGCWebService.asmx PersistentChatWebServices',
      'poolc-pchat-web pchat-web https://poolc.contoso.local/PersistentChat/MGCWebService.asmx all PersistentChatWebServices',
      'fec1-pchat-web pchat-web https://fec1.contoso.local/PersistentChat/MGCWebService.asmx PersistentChatWebServices',
    ],
  );
  assert.equal(config.policies.find((p) => p.name === 'pchat-web-same-ca')?.reference, 'lync-frontend');
});

test('a Persistent Chat pool without any Front End pool gets a note instead of pchat-web targets', async () => {
  const xml = topology(cluster('1', '1', 'chat.contoso.local', ['chat1.contoso.local']), service('1-PersistentChatService-1', '1:1', [port(5041, 'Mtls')]));
  const text = importTopology(xml);
  assert.match(text, /Persistent Chat pool chat\.contoso\.local has no Front End pool in this topology to host its web\n#\s+services: add pchat-web targets by hand/);
  const config = await parseConfig(text, CONFIG_PATH);
  assert.deepEqual(config.targets.map(row), ['chat-sip-5041 lync-pchat chat.contoso.local:5041 all PersistentChatService', 'chat1-sip-5041 lync-pchat chat1.contoso.local:5041 PersistentChatService']);
  assert.deepEqual(config.policies.map((p) => p.name), ['lync-internal-same-ca']);
});

test('Edge external ports without a published name or external IP are kept, with what to fill in', async () => {
  // edge01 says "any address", edge02 gives something that is no IP address: neither is usable.
  const machines = [
    `<Machine Fqdn="edge01.contoso.local"><NetInterface InterfaceSide="Primary" InterfaceNumber="1" IPAddress="10.0.0.5"/><NetInterface InterfaceSide="External" InterfaceNumber="1" IPAddress="0.0.0.0"/></Machine>`,
    `<Machine Fqdn="edge02.contoso.local"><NetInterface InterfaceSide="External" InterfaceNumber="1" IPAddress="203.0.113.300"/></Machine>`,
  ].join('');
  const ext = '<Port Owner="urn:component:AccessEdge" Usage="SipServer" InterfaceSide="External" InterfaceNumber="1" Port="443" Protocol="Tls" UrlPath="/"/>';
  const xml = topology(cluster('1', '1', 'edgepool.contoso.local', machines), service('1-EdgeServer-1', '1:1', [port(5061, 'Mtls'), ext]));
  const text = importTopology(xml);
  const config = await parseConfig(text, CONFIG_PATH);
  assert.deepEqual(config.targets.map(row), [
    'edgepool-sip-5061 lync-edge-internal edgepool.contoso.local:5061 all EdgeServer',
    'edge01-sip-5061 lync-edge-internal edge01.contoso.local:5061 EdgeServer',
    'edge02-sip-5061 lync-edge-internal edge02.contoso.local:5061 EdgeServer',
    'edge01-ext-sip-443 lync-edge-external edge01.contoso.local:443 EdgeServer',
    'edge02-ext-sip-443 lync-edge-external edge02.contoso.local:443 EdgeServer',
  ]);
  assert.match(text, /NOTE: the topology names no public FQDN for this port: set sni to the name on the external/);
  assert.match(text, /NOTE: the topology gives no external IP for edge01\.contoso\.local: add address: <external/);
  assert.match(text, /NOTE: the topology gives no external IP for edge02\.contoso\.local: add address: <external/);
});

test('names stay unique when servers in different domains share a first label', async () => {
  const clusters = cluster('1', '1', 'fe01.emea.contoso.local', ['fe01.emea.contoso.local']) + cluster('1', '2', 'fe01.apac.contoso.local', ['fe01.apac.contoso.local']);
  const reg = '<RegistrarService IsDirector="false"/>';
  const services = service('1-Registrar-1', '1:1', [port(5061, 'Mtls')], reg) + service('1-Registrar-2', '1:2', [port(5061, 'Mtls')], reg);
  const config = await load(topology(clusters, services));
  // Sorted by pool name, so apac is first whatever the XML order.
  assert.deepEqual(config.targets.map(row), [
    'fe01-sip-5061 lync-frontend fe01.apac.contoso.local:5061 all Registrar',
    'fe01-sip-5061-2 lync-frontend fe01.emea.contoso.local:5061 all Registrar',
  ]);
});

test('broken parts of a topology are skipped with a note, the rest is imported', async () => {
  const clusters = [
    cluster('1', '1', 'pool01.contoso.local', ['fe01.contoso.local', 'bad name.contoso.local']),
    cluster('1', '2', 'not a host!', ['x.contoso.local']),
    '<Cluster Fqdn="nokey.contoso.local"><Machine Fqdn="y.contoso.local"/></Cluster>',
  ].join('');
  const services = [
    service('1-Registrar-1', '1:1', [port(5061, 'Mtls'), port(70000, 'Tls'), port('abc', 'Tls')], '<RegistrarService IsDirector="false"/>'),
    '<Service><InstalledOn><ClusterId SiteId="1" Number="1"/></InstalledOn></Service>',
    '<Service><ServiceId SiteId="1" RoleName="WebServices" Instance="1"/><Ports><Port Port="443" Protocol="Https"/></Ports></Service>',
  ].join('');
  const text = importTopology(topology(clusters, services));
  const config = await parseConfig(text, CONFIG_PATH);
  assert.deepEqual(config.targets.map(row), [
    'pool01-sip-5061 lync-frontend pool01.contoso.local:5061 all Registrar',
    'fe01-sip-5061 lync-frontend fe01.contoso.local:5061 Registrar',
  ]);
  const header = text.slice(0, text.indexOf('\nscan:'));
  for (const note of [
    "a server of pool pool01.contoso.local has no valid Fqdn ('bad name.contoso.local'): skipped",
    "pool 1:2 has no valid Fqdn ('not a host!'): skipped",
    'pool nokey.contoso.local has no ClusterId (SiteId, Number): skipped',
    "service 1-Registrar-1: port '70000' is not a port number: skipped",
    "service 1-Registrar-1: port 'abc' is not a port number: skipped",
    'a service without ServiceId/@RoleName (type unknown): skipped',
    'service 1-WebServices-1 names no pool (InstalledOn/ClusterId): its ports are skipped',
  ]) {
    assert.ok(header.replace(/\n#\s+/g, ' ').includes(note), `missing note: ${note}\n${header}`);
  }
});
