// The topology importer against damaged exports: whatever the text, it answers with a config that
// the config loader accepts, or with a TopologyError naming the input, never another exception.
// Fixed seed and bounded runs (test/support/fuzz.ts); CHAINWATCH_FUZZ_RUNS=N runs longer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ConfigError } from '../../src/config/errors.js';
import { parseConfig } from '../../src/config/load.js';
import { importTopology, TopologyError } from '../../src/topology/index.js';
import { FUZZ, mutated } from '../support/fuzz.js';
import { fixture } from './support.js';

async function importsOrRefuses(xml: string): Promise<'imported' | 'refused'> {
  let config: string;
  try {
    config = importTopology(xml, { sourceName: 'fuzz.xml' });
  } catch (err) {
    if (err instanceof TopologyError) {
      assert.match(err.message, /^fuzz\.xml/, 'a refusal names the input');
      return 'refused';
    }
    throw err;
  }
  try {
    await parseConfig(config, '/srv/chainwatch/imported.yaml');
  } catch (err) {
    // An import that names no endpoint at all is a config without targets: the loader says so.
    if (err instanceof ConfigError && err.issues.every((i) => i.key === 'targets')) return 'imported';
    throw err;
  }
  return 'imported';
}

test('damaged topology exports are imported or refused with a TopologyError, never a crash', async () => {
  const base = Buffer.from(fixture('two-site-sfb2019.xml'), 'utf8');
  const seen = { imported: 0, refused: 0 };
  await fc.assert(
    fc.asyncProperty(mutated(base), async (bytes) => {
      seen[await importsOrRefuses(bytes.toString('utf8'))]++;
    }),
    FUZZ,
  );
  // Both outcomes occur, so the property exercised the planner as well as the parser.
  assert.ok(seen.imported > 0 && seen.refused > 0, JSON.stringify(seen));
});

// The export's own vocabulary, so generated documents reach past the XML parser into the planner.
const PIECES = [
  '<Topology xmlns="urn:schema:Microsoft.Rtc.Management.Deploy.Topology.2008">',
  '</Topology>',
  '<Sites><CentralSite SiteId="1"><Name>Dublin</Name></CentralSite></Sites>',
  '<Clusters>',
  '</Clusters>',
  '<Cluster Fqdn="pool01.contoso.local"><ClusterId SiteId="1" Number="1"/>',
  '<Machine OrdinalInCluster="1" Fqdn="fe01.contoso.local"><NetInterface InterfaceSide="Primary" InterfaceNumber="1" IPAddress="10.0.0.1"/></Machine>',
  '</Cluster>',
  '<Services>',
  '</Services>',
  '<Service RoleVersion="1" ServiceVersion="6" Type="x"><ServiceId SiteId="1" RoleName="Registrar" Instance="1"/>',
  '<InstalledOn><ClusterId SiteId="1" Number="1"/></InstalledOn>',
  '<Ports><Port Owner="urn:component:Registrar" Usage="SipServer" InterfaceSide="Primary" InterfaceNumber="1" Port="5061" Protocol="Mtls" UrlPath="/"/></Ports>',
  '<RegistrarService IsDirector="false"/>',
  '</Service>',
  '<ServiceId SiteId="1" RoleName="PersistentChatService" Instance="1"/>',
  '<ServiceId SiteId="2" RoleName="WacService" Instance="1"/>',
  'Port="-1"',
  'Fqdn=""',
  '&amp;',
  '<![CDATA[x]]>',
  '<!-- c -->',
];

test('documents built from the export vocabulary are imported or refused, never a crash', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.constantFrom(...PIECES), { maxLength: 40 }), async (parts) => {
      await importsOrRefuses(parts.join(''));
    }),
    FUZZ,
  );
});
