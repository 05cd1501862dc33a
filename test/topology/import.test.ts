import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../src/config/load.js';
import { importTopology } from '../../src/topology/index.js';
import { cluster, FIXTURE_DIR, fixture, largeTopology, port, row, service, topology } from './support.js';

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
    for (const p of config.policies)
      for (const g of [...p.members, ...(p.reference ? [p.reference] : [])]) assert.ok(groups.has(g), `${file}: ${p.name} names ${g}`);
  }
});

const FIXTURES_2013_2015_2019 = ['two-site-lync2013.xml', 'two-site-sfb2015.xml', 'two-site-sfb2019.xml'];

test('a Standard Edition server: one target per certificate, the other ports named in a comment', async () => {
  const text = importTopology(fixture('standard-edition.xml'), { sourceName: 'topology.xml' });
  const config = await parseConfig(text, CONFIG_PATH);
  assert.deepEqual(config.targets.map(row), [
    'lyncse01-default-5061 lync-default lyncse01.contoso.local:5061 all pool=lyncse01.contoso.local,site=Dublin',
    'lyncse01-web-443 lync-web-internal lyncse01.contoso.local:443 all pool=lyncse01.contoso.local,site=Dublin',
    'lyncse01-web-ext-4443 lync-web-external lyncse01.contoso.local:4443 all pool=lyncse01.contoso.local,site=Dublin',
  ]);
  assert.match(text, /# The same certificate also serves ports 444, 5067, 5070, 8057 here\.\n\s+- name: lyncse01-default-5061/);
  assert.match(text, /^# Wrote 3 targets in 3 groups and 1 policy\.$/m);
  assert.deepEqual(
    config.policies.map((p) => ({ name: p.name, reference: p.reference, members: p.members, match: p.match, scope: p.scope })),
    [{ name: 'lync-internal-same-ca', reference: 'lync-default', members: ['lync-web-internal'], match: 'issuer', scope: 'site' }],
  );
  // Defaults as the loader would give them; no trust file the operator has not put in place yet.
  assert.equal(config.scan.schedule, '*/5 * * * *');
  assert.deepEqual(config.trust.caFiles, []);
  assert.equal(config.state.path, '/srv/chainwatch/state');
});

test('--ports all: every TLS port of every server, still grouped by certificate', async () => {
  const config = await parseConfig(importTopology(fixture('standard-edition.xml'), { ports: 'all' }), CONFIG_PATH);
  assert.deepEqual(
    config.targets.map((t) => `${t.name} ${t.group}`),
    [
      'lyncse01-default-444 lync-default',
      'lyncse01-default-5061 lync-default',
      'lyncse01-default-5067 lync-default',
      'lyncse01-default-5070 lync-default',
      'lyncse01-default-8057 lync-default',
      'lyncse01-web-443 lync-web-internal',
      'lyncse01-web-ext-4443 lync-web-external',
    ],
  );
});

test('two sites and a branch: each role by certificate, site and pool labels, per-site rules', async () => {
  const text = importTopology(fixture('two-site-lync2013.xml'), { sourceName: 'topology.xml' });
  const config = await parseConfig(text, CONFIG_PATH);
  const D = 'site=Dublin';
  assert.deepEqual(config.targets.map(row), [
    // Default certificate: Front End, Director, Edge internal (by its internal IP), Persistent Chat 5041, Mediation 5070.
    `dubpool-default-5061 lync-default dubpool.contoso.local:5061 all pool=dubpool.contoso.local,${D}`,
    `dubfe01-default-5061 lync-default dubfe01.contoso.local:5061 pool=dubpool.contoso.local,${D}`,
    `dubfe02-default-5061 lync-default dubfe02.contoso.local:5061 pool=dubpool.contoso.local,${D}`,
    `dubdir-default-5061 lync-default dubdir.contoso.local:5061 all pool=dubdir.contoso.local,${D}`,
    `dubdir01-default-5061 lync-default dubdir01.contoso.local:5061 pool=dubdir.contoso.local,${D}`,
    `dubedge-int-5061 lync-default dubedge.contoso.local:5061 all pool=dubedge.contoso.local,${D}`,
    `dubedge01-int-5061 lync-default dubedge01.contoso.local:5061 @10.1.20.5 pool=dubedge.contoso.local,${D}`,
    `dubchat-default-5041 lync-default dubchat.contoso.local:5041 all pool=dubchat.contoso.local,${D}`,
    `dubchat01-default-5041 lync-default dubchat01.contoso.local:5041 pool=dubchat.contoso.local,${D}`,
    `dubmed-default-5070 lync-default dubmed.contoso.local:5070 all pool=dubmed.contoso.local,${D}`,
    `dubmed01-default-5070 lync-default dubmed01.contoso.local:5070 pool=dubmed.contoso.local,${D}`,
    'lonpool-default-5061 lync-default lonpool.contoso.local:5061 all pool=lonpool.contoso.local,site=London',
    'lonfe01-default-5061 lync-default lonfe01.contoso.local:5061 pool=lonpool.contoso.local,site=London',
    'lonfe02-default-5061 lync-default lonfe02.contoso.local:5061 pool=lonpool.contoso.local,site=London',
    'lonchat-default-5041 lync-default lonchat.contoso.local:5041 all pool=lonchat.contoso.local,site=London',
    'lonchat01-default-5041 lync-default lonchat01.contoso.local:5041 pool=lonchat.contoso.local,site=London',
    // The branch appliance answers as sip.<SIP domain>.
    'corksba-default-5061 lync-default corksba.contoso.local:5061 sni=sip.contoso.com all pool=corksba.contoso.local,site=Cork',
    // Internal web of the Director; the Front Ends' internal web is their Persistent Chat web services.
    `dubdir-web-443 lync-web-internal dubdir.contoso.local:443 all pool=dubdir.contoso.local,${D}`,
    `dubdir01-web-443 lync-web-internal dubdir01.contoso.local:443 pool=dubdir.contoso.local,${D}`,
    `dubpool-pchat-web pchat-web https://dubpool.contoso.local/PersistentChat/MGCWebService.asmx all pool=dubpool.contoso.local,${D}`,
    `dubfe01-pchat-web pchat-web https://dubfe01.contoso.local/PersistentChat/MGCWebService.asmx pool=dubpool.contoso.local,${D}`,
    `dubfe02-pchat-web pchat-web https://dubfe02.contoso.local/PersistentChat/MGCWebService.asmx pool=dubpool.contoso.local,${D}`,
    'lonpool-pchat-web pchat-web https://lonpool.contoso.local/PersistentChat/MGCWebService.asmx all pool=lonpool.contoso.local,site=London',
    'lonfe01-pchat-web pchat-web https://lonfe01.contoso.local/PersistentChat/MGCWebService.asmx pool=lonpool.contoso.local,site=London',
    'lonfe02-pchat-web pchat-web https://lonfe02.contoso.local/PersistentChat/MGCWebService.asmx pool=lonpool.contoso.local,site=London',
    // External web: connect to each server, name the external web FQDN.
    `dubpool-web-ext-4443 lync-web-external dubpool.contoso.local:4443 sni=dublinweb.contoso.com all pool=dubpool.contoso.local,${D}`,
    `dubfe01-web-ext-4443 lync-web-external dubfe01.contoso.local:4443 sni=dublinweb.contoso.com pool=dubpool.contoso.local,${D}`,
    `dubfe02-web-ext-4443 lync-web-external dubfe02.contoso.local:4443 sni=dublinweb.contoso.com pool=dubpool.contoso.local,${D}`,
    'lonpool-web-ext-4443 lync-web-external lonpool.contoso.local:4443 all pool=lonpool.contoso.local,site=London',
    'lonfe01-web-ext-4443 lync-web-external lonfe01.contoso.local:4443 pool=lonpool.contoso.local,site=London',
    'lonfe02-web-ext-4443 lync-web-external lonfe02.contoso.local:4443 pool=lonpool.contoso.local,site=London',
    // Edge external: the public name at the public (NAT) address; 443 and 5061 share one certificate.
    `dubedge01-ext-5061 lync-edge-external sip.contoso.com:5061 @203.0.113.10 pool=dubedge.contoso.local,${D}`,
    // XMPP federation: the same public name, TLS after XMPP's STARTTLS.
    `dubedge01-ext-xmpp-5269 lync-edge-external sip.contoso.com:5269 @203.0.113.10 starttls=xmpp pool=dubedge.contoso.local,${D}`,
    // Office Web Apps by the host of its discovery URL.
    `officeapps-owas-443 owas officeapps.contoso.local:443 all pool=owas.contoso.local,${D}`,
  ]);
  assert.deepEqual(
    config.policies.map((p) => [p.name, p.reference, p.members.join(','), p.match, p.scope]),
    [
      ['pchat-web-same-ca', 'lync-default', 'pchat-web', 'issuer', 'site'],
      ['lync-internal-same-ca', 'lync-default', 'lync-web-internal', 'issuer', 'site'],
      ['lync-internal-same-root', null, 'lync-default,lync-web-internal,pchat-web', 'root', null],
    ],
  );
  // The reference never holds an endpoint the rule judges.
  const referenced = new Set(config.targets.filter((t) => t.group === 'lync-default').map((t) => `${t.host}:${t.port}`));
  for (const t of config.targets.filter((t) => t.group === 'pchat-web')) assert.ok(!referenced.has(`${t.host}:${t.port}`), t.name);

  const flat = text.replace(/\n\s*#\s+/g, ' ');
  assert.match(flat, /NOTE: the topology names no external web FQDN for lonpool\.contoso\.local/);
  assert.match(flat, /NOTE: a branch-site registrar: a Survivable Branch Appliance's certificate names sip\.contoso\.com/);
  assert.match(text, /^# Wrote 34 targets in 6 groups and 3 policies\.$/m);
});

test('Lync 2013, Skype for Business 2015 and 2019 exports (ServiceVersion 6, 7, 8) import alike', () => {
  const [lync, ...sfb] = FIXTURES_2013_2015_2019.map((f) => importTopology(fixture(f), { sourceName: 'topology.xml' }));
  for (const text of sfb) assert.equal(text, lync);
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

test('Persistent Chat web services: the Front End the chat pool depends on, else its site, else a note', async () => {
  const clusters = [
    cluster('1', '1', 'poola.contoso.local', ['fea1.contoso.local']),
    cluster('1', '2', 'poolb.contoso.local', ['feb1.contoso.local']),
    cluster('1', '3', 'chat.contoso.local', ['chat1.contoso.local']),
    cluster('2', '1', 'poolc.contoso.local', ['fec1.contoso.local']),
    cluster('2', '2', 'chat2.contoso.local', ['chat21.contoso.local']),
    cluster('3', '1', 'chat3.contoso.local', ['chat31.contoso.local']),
    cluster('4', '1', 'chat4.contoso.local', ['chat41.contoso.local']),
  ].join('');
  const reg = '<RegistrarService IsDirector="false"/>';
  const services = [
    service('1-Registrar-1', '1:1', [port(5061, 'Mtls')], reg),
    service('1-Registrar-2', '1:2', [port(5061, 'Mtls')], reg),
    service('2-Registrar-1', '2:1', [port(5061, 'Mtls')], reg),
    // Names its home pool by attribute: only poolb hosts its web services.
    service('1-PersistentChatService-1', '1:3', [port(5041, 'Mtls')], '<DependsOn><Dependency ServiceId="1-Registrar-2" Usage="Default"/></DependsOn>'),
    // Names none: the Front End pool of its own site.
    service('2-PersistentChatService-1', '2:2', [port(5041, 'Mtls')]),
    // In a site without a Front End, depending on poolc in London: tied to it, with a note.
    service('3-PersistentChatService-1', '3:1', [port(5041, 'Mtls')], '<DependsOn><Dependency ServiceId="2-Registrar-1" Usage="Default"/></DependsOn>'),
    // No Front End in its site and none named: not guessed.
    service('4-PersistentChatService-1', '4:1', [port(5041, 'Mtls')]),
  ].join('');
  const sites = ['Dublin', 'London', 'Leeds', 'Galway'].map((n, i) => `<CentralSite SiteId="${i + 1}"><Name>${n}</Name></CentralSite>`).join('');
  const text = importTopology(topology(clusters, services, sites));
  const config = await parseConfig(text, CONFIG_PATH);
  assert.deepEqual(
    config.targets.filter((t) => t.group === 'pchat-web').map((t) => `${t.name} ${t.labels.site}`),
    ['poolb-pchat-web Dublin', 'feb1-pchat-web Dublin', 'poolc-pchat-web London', 'fec1-pchat-web London'],
  );
  const flat = text.replace(/\n\s*#\s+/g, ' ');
  assert.match(
    flat,
    /Persistent Chat pool chat3\.contoso\.local \(site Leeds\) has its web services on Front End pool poolc\.contoso\.local \(site London\), the pool it depends on in the topology; they are judged against that site's internal servers/,
  );
  assert.match(
    flat,
    /Persistent Chat pool chat4\.contoso\.local \(site Galway\) names no Front End pool it depends on and its site has none, so which pool hosts its web services is unknown \(candidates: poola\.contoso\.local, poolb\.contoso\.local, poolc\.contoso\.local\): add pchat-web targets for that pool by hand/,
  );
});

test('a Persistent Chat pool without any Front End pool gets a note instead of pchat-web targets', async () => {
  const xml = topology(cluster('1', '1', 'chat.contoso.local', ['chat1.contoso.local']), service('1-PersistentChatService-1', '1:1', [port(5041, 'Mtls')]));
  const text = importTopology(xml);
  assert.match(
    text.replace(/\n\s*#\s+/g, ' '),
    /Persistent Chat pool chat\.contoso\.local \(site Dublin\): the topology has no Front End pool to host its web services: add pchat-web targets by hand/,
  );
  const config = await parseConfig(text, CONFIG_PATH);
  assert.deepEqual(
    config.targets.map((t) => t.name),
    ['chat-default-5041', 'chat1-default-5041'],
  );
  assert.deepEqual(
    config.policies.map((p) => p.name),
    ['lync-internal-same-ca'],
  );
});

test('Edge external ports without a published name or public IP are kept, with what to fill in', async () => {
  // edge01 says "any address", edge02 gives something that is no IP address: neither is usable.
  const machines = [
    `<Machine Fqdn="edge01.contoso.local"><NetInterface InterfaceSide="Primary" InterfaceNumber="1" IPAddress="10.0.0.5"/><NetInterface InterfaceSide="External" InterfaceNumber="1" IPAddress="0.0.0.0"/></Machine>`,
    `<Machine Fqdn="edge02.contoso.local"><NetInterface InterfaceSide="External" InterfaceNumber="1" IPAddress="203.0.113.300"/></Machine>`,
  ].join('');
  const ext = '<Port Owner="urn:component:AccessEdge" Usage="SipServer" InterfaceSide="External" InterfaceNumber="1" Port="443" Protocol="Tls" UrlPath="/"/>';
  const xml = topology(cluster('1', '1', 'edgepool.contoso.local', machines), service('1-EdgeServer-1', '1:1', [port(5061, 'Mtls'), ext]));
  const text = importTopology(xml);
  const config = await parseConfig(text, CONFIG_PATH);
  assert.deepEqual(
    config.targets.map((t) => `${t.name} ${t.host}:${t.port}${t.address ? ` @${t.address}` : ''}`),
    [
      'edgepool-int-5061 edgepool.contoso.local:5061',
      'edge01-int-5061 edge01.contoso.local:5061 @10.0.0.5',
      'edge02-int-5061 edge02.contoso.local:5061',
      'edge01-ext-443 edge01.contoso.local:443',
      'edge02-ext-443 edge02.contoso.local:443',
    ],
  );
  const flat = text.replace(/\n\s*#\s+/g, ' ');
  assert.match(flat, /NOTE: the topology names no public FQDN for this port: set sni to the name on the external certificate/);
  assert.match(
    flat,
    /NOTE: the topology gives no public IP for this interface of edge01\.contoso\.local: add address: <its public IP>; without it chainwatch connects to whatever edge01\.contoso\.local resolves to from where it runs/,
  );
  assert.match(flat, /this interface of edge02\.contoso\.local/);
});

test('a branch registrar in a topology without a SIP domain says what to set', () => {
  const xml = topology(
    cluster('2', '1', 'sba.contoso.local', ['sba.contoso.local']),
    service('2-Registrar-1', '2:1', [port(5061, 'Mtls')], '<RegistrarService IsDirector="false"/>'),
    '<BranchSite SiteId="2"><Name>Cork</Name></BranchSite>',
  );
  const flat = importTopology(xml).replace(/\n\s*#\s+/g, ' ');
  assert.match(
    flat,
    /NOTE: a branch-site registrar: a Survivable Branch Appliance's certificate names sip\.<your SIP domain>, which the topology does not give \(no InternalDomains DefaultDomain\): add sni: sip\.<your SIP domain>, or expect hostname_mismatch/,
  );
});

test('names stay unique when servers in different domains share a first label', async () => {
  const clusters =
    cluster('1', '1', 'fe01.emea.contoso.local', ['fe01.emea.contoso.local']) + cluster('1', '2', 'fe01.apac.contoso.local', ['fe01.apac.contoso.local']);
  const reg = '<RegistrarService IsDirector="false"/>';
  const services = service('1-Registrar-1', '1:1', [port(5061, 'Mtls')], reg) + service('1-Registrar-2', '1:2', [port(5061, 'Mtls')], reg);
  const config = await load(topology(clusters, services));
  // Sorted by pool name, so apac is first whatever the XML order.
  assert.deepEqual(
    config.targets.map((t) => `${t.name} ${t.host}`),
    ['fe01-default-5061 fe01.apac.contoso.local', 'fe01-default-5061-2 fe01.emea.contoso.local'],
  );
});

test('no hard cap: 1,000 servers import, and the header says how many targets were written', async () => {
  // 10 sites of 98 Front Ends and 2 Persistent Chat servers.
  const text = importTopology(largeTopology(10, 98));
  // Per site: Default on the pool name, 98 Front Ends and the chat pool's name and 2 servers (102);
  // Persistent Chat web on the pool name and 98 Front Ends (99).
  assert.match(text, /^# Lync topology: 10 sites \(Site 1, .*\), 20 pools and 1000 servers with TLS ports\.$/m);
  assert.match(text, /^# Wrote 2010 targets in 2 groups and 2 policies\.$/m);
  const config = await parseConfig(text, CONFIG_PATH);
  assert.equal(config.targets.length, 2010);
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
    'pool01-default-5061 lync-default pool01.contoso.local:5061 all pool=pool01.contoso.local,site=Dublin',
    'fe01-default-5061 lync-default fe01.contoso.local:5061 pool=pool01.contoso.local,site=Dublin',
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
    assert.ok(header.replace(/\n\s*#\s+/g, ' ').includes(note), `missing note: ${note}\n${header}`);
  }
});
