// The rule generator on an imported topology, all real: the two-site Lync fleet goes through
// import-topology, `chainwatch run` scans it, `chainwatch rules --config` generates the rules for
// the config the import wrote, and Debian's Prometheus scrapes the daemon and evaluates them.
// Dublin and London each legitimately have their own issuing CA; when Dublin's Front End web
// certificate is re-issued from London's CA, the generated per-site rule fires for exactly
// Dublin's Persistent Chat web endpoints.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { POLICY_GROUP } from '../../src/output/prometheus-rules.js';
import { startRulesPrometheus, writeGeneratedRules } from '../deploy/live-stack.js';
import { killAll, spawnChainwatch } from '../helpers/daemon-process.js';
import { fqdn, type Server, startTwoSiteFleet, type TwoSiteFleet } from '../topology/two-site-fleet.js';
import { eventually, type PrometheusAlert, type RunningPrometheus } from './alerts/processes.js';

const DIVERGENCE = 'ChainwatchIssuerDivergence';
/** Every endpoint probed in the fleet (each pool name fans out to the addresses behind it). */
const ENDPOINTS = 28;

let fleet: TwoSiteFleet;
let prometheus: RunningPrometheus;
let rulesText: string;

const siteCa = (f: TwoSiteFleet) => (s: Server) => (s.site === 'dublin' ? f.pki.contosoIssuing01 : f.pki.contosoIssuing02);

async function query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  if (body.status !== 'success') throw new Error(`query failed: ${body.error} in ${expr}`);
  return body.data.result;
}

/** When Prometheus last evaluated the generated policy group, in ms since the epoch. */
async function lastPolicyEvaluation(): Promise<number> {
  const res = await fetch(`${prometheus.url}/api/v1/rules`);
  const body = (await res.json()) as { data: { groups: { name: string; lastEvaluation: string }[] } };
  const group = body.data.groups.find((g) => g.name === POLICY_GROUP);
  if (!group) throw new Error(`Prometheus did not load the ${POLICY_GROUP} group`);
  return Date.parse(group.lastEvaluation);
}

/** Waits until every endpoint's chain is in Prometheus and the policy rules were evaluated on it. */
async function settled(what: string, ready: () => Promise<boolean>): Promise<void> {
  await eventually(what, ready, 90_000);
  const seen = Date.now();
  await eventually('the policy rules evaluated after that', async () => (await lastPolicyEvaluation()) > seen + 1000, 30_000);
}

const policyAlerts = async (): Promise<PrometheusAlert[]> => (await prometheus.alerts()).filter((a) => a.labels.alertname === DIVERGENCE);
const show = (a: PrometheusAlert) => `${a.labels.judged_by} ${a.labels.policy} ${a.labels.site} ${a.labels.target} ${a.labels.address} ${a.state}`;

before(async () => {
  fleet = await startTwoSiteFleet([
    [['scan', 'schedule'], '*/2 * * * * *'],
    [['server', 'listen'], '127.0.0.1:0'],
  ]);
  // Each site on its own issuing CA: right, and only right when judged per site.
  await fleet.serveFleet(siteCa(fleet));
  const rulesPath = join(fleet.dir, 'rules.yml');
  rulesText = await writeGeneratedRules(fleet.configFile, rulesPath);
  const daemon = spawnChainwatch(['run', '--config', fleet.configFile]);
  const started = await daemon.waitForLog((r) => r.msg === 'chainwatch started', 'the daemon to start', 60_000);
  prometheus = await startRulesPrometheus(rulesPath, new URL(String(started.listen)).host);
});

after(async () => {
  killAll();
  await prometheus?.stop();
  await fleet?.close();
});

describe('rules generated from an imported two-site topology, in real Prometheus', () => {
  it('generates one per-site PromQL rule per policy of the imported config', () => {
    for (const policy of ['pchat-web-same-ca', 'lync-internal-same-ca', 'lync-internal-same-root']) {
      assert.match(rulesText, new RegExp(`policy: ${policy}\\n`), `a rule for ${policy}`);
    }
    assert.match(rulesText, /count by \(site, issuer_key_id\)/, 'the issuer policies are judged per site');
  });

  it('nothing fires while each site holds its own CA', async () => {
    await settled(
      'every endpoint scraped with the right CAs',
      async () =>
        (await query(`count(chainwatch_chain_info{issuer_key_id="${fleet.pki.contosoIssuing01.keyId}", site="Dublin"})`))[0]?.value[1] === '18' &&
        (await query(`count(chainwatch_chain_info{issuer_key_id="${fleet.pki.contosoIssuing02.keyId}", site="London"})`))[0]?.value[1] === '10',
    );
    assert.equal((await query('count(chainwatch_chain_info)'))[0]?.value[1], String(ENDPOINTS));
    assert.deepEqual((await policyAlerts()).map(show), []);
  });

  it("Dublin's Front End web certificate from London's CA: pchat-web-same-ca fires for exactly Dublin's Persistent Chat web endpoints", async () => {
    await fleet.reserve(
      (s, cert) => s.pool === fqdn('dubpool') && cert === 'web',
      () => fleet.pki.contosoIssuing02,
    );
    const expected = [
      'prometheus pchat-web-same-ca Dublin dubfe01-pchat-web 127.93.1.11 firing',
      'prometheus pchat-web-same-ca Dublin dubfe02-pchat-web 127.93.1.12 firing',
      'prometheus pchat-web-same-ca Dublin dubpool-pchat-web 127.93.1.11 firing',
      'prometheus pchat-web-same-ca Dublin dubpool-pchat-web 127.93.1.12 firing',
    ];
    const promql = async () => (await policyAlerts()).filter((a) => a.labels.judged_by === 'prometheus');
    await eventually(
      'the generated rule firing for Dublin',
      async () => JSON.stringify((await promql()).map(show).sort()) === JSON.stringify(expected),
      90_000,
    );
    // One more evaluation on the changed fleet, and the picture still holds.
    await settled('the change scraped', async () => true);
    assert.deepEqual((await promql()).map(show).sort(), expected);
    const fired = (await promql())[0]!;
    assert.equal(fired.labels.issuer_key_id, fleet.pki.contosoIssuing02.keyId, 'the alert names the CA presented');
    assert.match(fired.annotations.summary ?? '', /breaks CA policy pchat-web-same-ca in site Dublin/);
    // The daemon's own verdict, relayed by the generated rule, agrees; London is silent on both paths.
    assert.deepEqual((await policyAlerts()).filter((a) => a.labels.site !== 'Dublin').map(show), [], 'nothing fires for London');
    assert.deepEqual([...new Set((await policyAlerts()).map((a) => a.labels.policy))], ['pchat-web-same-ca']);
  });
});
