// Two real `chainwatch run --shard I/2` processes share one inventory in which a CA policy spans
// both shards: neither daemon sees the whole policy, and Debian's Prometheus, scraping both with
// the shipped rules, still names the divergent member. `scan --shard` scans what the shard does.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { type ServedEndpoint, serveChain } from '../../src/demo/servers.js';
import { planShards } from '../../src/targets/shard.js';
import { chainwatch } from '../helpers/cli.js';
import { type ChainwatchProcess, killAll, scrape, select, spawnChainwatch } from '../helpers/daemon-process.js';
import { chainPems, type StandardPki, standardPki } from '../helpers/fixtures.js';
import { eventually, type RunningPrometheus, startPrometheus } from '../output/alerts/processes.js';

const POLICY = 'pchat-web-same-ca';

describe('two shards, one Prometheus: a policy split over both is judged by the rules', () => {
  let pki: StandardPki;
  let dir: string;
  let prom: RunningPrometheus;
  const daemons: ChainwatchProcess[] = [];
  const urls: string[] = [];
  const servers: ServedEndpoint[] = [];
  let configText: string;

  before(async () => {
    pki = await standardPki();
    dir = mkdtempSync(join(tmpdir(), 'chainwatch-shards-'));
    const serve = async (host: string, issuer: 'contoso' | 'fabrikam') => {
      const ca = issuer === 'contoso' ? pki.contosoIssuing01 : pki.fabrikamTlsCa;
      const leaf = await pki.leaf(ca, host);
      const s = await serveChain({ host: '127.0.0.1', port: 0, key: leaf.keyPem, chain: chainPems(leaf, ca) });
      servers.push(s);
      return s;
    };
    const fleet: [string, string, string, 'contoso' | 'fabrikam'][] = [
      ['pool01-fe1', 'lync-internal', 'fe1.contoso.test', 'contoso'],
      ['pool01-fe2', 'lync-internal', 'fe2.contoso.test', 'contoso'],
      ['web1', 'pchat-web', 'web1.contoso.test', 'contoso'],
      ['web2', 'pchat-web', 'web2.contoso.test', 'fabrikam'],
    ];
    const targets: string[] = [];
    for (const [name, group, host, issuer] of fleet) {
      const s = await serve(host, issuer);
      targets.push(`  - name: ${name}\n    group: ${group}\n    host: ${host}\n    port: ${s.port}\n    address: 127.0.0.1\n`);
    }
    configText = `scan:
  schedule: "*/2 * * * * *"
  timeout: 5s
trust:
  ca_files: [../root.pem]
  system_roots: false
state:
  path: ./state
server:
  listen: 127.0.0.1:0
targets:
${targets.join('')}policies:
  - name: ${POLICY}
    reference: lync-internal
    members: [pchat-web]
`;
    writeFileSync(join(dir, 'root.pem'), `${pki.contosoRoot.pem}\n${pki.fabrikamRoot.pem}`);
    // One copy of the same file per pod, as a ConfigMap mounted next to each pod's own volume.
    for (const i of [0, 1]) {
      mkdirSync(join(dir, `pod-${i}`));
      writeFileSync(join(dir, `pod-${i}`, 'chainwatch.yaml'), configText);
    }
    for (const i of [0, 1]) {
      const cw = spawnChainwatch(['run', '--config', join(dir, `pod-${i}`, 'chainwatch.yaml')], { CHAINWATCH_SHARD: 'auto/2', HOSTNAME: `chainwatch-${i}` });
      daemons.push(cw);
      const started = await cw.waitForLog((r) => r.msg === 'chainwatch started', `shard ${i} to start`, 60_000);
      assert.equal(started.shard, `${i}/2`);
      urls.push(String(started.listen));
    }
    // The rules `chainwatch rules` generates for this config, with their settling time cut to
    // nothing, so "firing" needs no 10 minutes.
    const generated = await chainwatch('rules', '--config', join(dir, 'pod-0', 'chainwatch.yaml'));
    assert.equal(generated.code, 0, generated.stderr);
    writeFileSync(join(dir, 'rules.yml'), generated.stdout.replace(/for: \d+m/g, 'for: 0s'));
    prom = await startPrometheus(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - ${join(dir, 'rules.yml')}
scrape_configs:
  - job_name: chainwatch
    static_configs:
      - targets: [${urls.map((u) => `'${new URL(u).host}'`).join(', ')}]
`);
  });

  after(async () => {
    killAll();
    await Promise.all([prom?.stop(), ...servers.map((s) => s.close())]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the plan puts the reference group on one shard and the divergent member on the other', async () => {
    const plan = planShards(await parseConfig(configText, join(dir, 'pod-0', 'chainwatch.yaml')), 2);
    assert.deepEqual(plan.splitPolicies, [POLICY]);
    const shardOf = (t: string) => plan.shards.findIndex((s) => s.targets.includes(t));
    assert.equal(shardOf('pool01-fe1'), shardOf('pool01-fe2'));
    assert.notEqual(shardOf('web2'), shardOf('pool01-fe1'), 'web2 must not share a shard with the reference group for this test to mean anything');
  });

  it('each shard scans only its share and says the policy is not judged locally', async () => {
    const seen: string[] = [];
    for (const url of urls) {
      const samples = await eventually('a completed scan', async () => {
        const s = await scrape(url);
        return select(s, 'chainwatch_probe_success').length > 0 ? s : undefined;
      });
      seen.push(...select(samples, 'chainwatch_probe_success').map((s) => s.labels.target!));
      assert.deepEqual(
        select(samples, 'chainwatch_policy_judged_locally').map((s) => [s.labels.policy, s.value]),
        [[POLICY, 0]],
      );
    }
    assert.deepEqual(seen.sort(), ['pool01-fe1', 'pool01-fe2', 'web1', 'web2']);
  });

  it('Prometheus fires the cross-shard divergence rule for web2, though neither daemon saw web2 beside the reference', async () => {
    const fired = await eventually(
      'the PromQL divergence rule firing',
      async () =>
        (await prom.alerts()).find(
          (a) =>
            a.labels.alertname === 'ChainwatchIssuerDivergence' && a.labels.judged_by === 'prometheus' && a.labels.policy === POLICY && a.state === 'firing',
        ),
      60_000,
    );
    assert.equal(fired.labels.target, 'web2');
    const all = (await prom.alerts()).filter((a) => a.labels.alertname === 'ChainwatchIssuerDivergence' && a.labels.policy === POLICY);
    assert.deepEqual(
      all.map((a) => a.labels.target),
      ['web2'],
      'no other member is named, by the rules or by either daemon',
    );
  });

  it('scan --shard I/2 scans exactly the targets shard I does', async () => {
    for (const i of [0, 1]) {
      const run = await chainwatch('scan', '--config', join(dir, `pod-${i}`, 'chainwatch.yaml'), '--shard', `${i}/2`, '--format', 'json');
      assert.ok(run.code === 0 || run.code === 1, run.stderr);
      const scanned = (JSON.parse(run.stdout) as { targets: { target: string }[] }).targets.map((t) => t.target).sort();
      const metrics = await scrape(urls[i]!);
      assert.deepEqual(
        scanned,
        select(metrics, 'chainwatch_probe_success')
          .map((s) => s.labels.target!)
          .sort(),
      );
    }
  });

  it('check-config --shards 2 prints the same plan', async () => {
    const run = await chainwatch('check-config', '--config', join(dir, 'pod-0', 'chainwatch.yaml'), '--shards', '2');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /shard 0\/2: \d+ targets/);
    assert.match(run.stdout, /shard 1\/2: \d+ targets/);
    assert.match(run.stdout, new RegExp(`spanning shards .*: ${POLICY}`));
  });
});
