// The Lync rule end to end: a two-site topology export goes through import-topology, the config
// it writes is pointed at loopback servers (behind the loopback DNS server) holding certificates
// from the test PKI, and a real scan judges it. Dublin and London may each have their own issuing
// CA under one root; a Persistent Chat web certificate must come from its own site's CA.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { buildReport, type Report } from '../../src/output/report.js';
import { runScan } from '../../src/pipeline/scan.js';
import { fqdn, type Server, startTwoSiteFleet, type TwoSiteFleet } from './two-site-fleet.js';

let fleet: TwoSiteFleet;
let pki: TwoSiteFleet['pki'];
let configFile: string;

async function scan(): Promise<Report> {
  const config = await loadConfig(configFile);
  return buildReport(await runScan(config));
}

/** Every divergent endpoint of every policy, as `policy target address`. */
function divergences(report: Report): string[] {
  return report.policies.flatMap((p) => p.divergent.map((d) => `${p.name} ${d.target} ${d.address}`)).sort();
}

before(async () => {
  fleet = await startTwoSiteFleet();
  ({ pki, configFile } = fleet);
});

after(async () => {
  await fleet?.close();
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
    await fleet.serveFleet(() => pki.contosoIssuing01);
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
    await fleet.serveFleet((s, cert) => (s.pool === fqdn('dubpool') && cert === 'web' ? pki.contosoIssuing02 : siteCa(s)));
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
    await fleet.serveFleet((s) => (s.site === 'dublin' ? pki.contosoIssuing01 : pki.contosoIssuing02));
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
