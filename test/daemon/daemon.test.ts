// `chainwatch run` as operators run it: a child process scanning a loopback fleet, observed only
// through its metrics, HTTP endpoints, log lines, state files and exit code.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ServedEndpoint, serveChain } from '../../src/demo/servers.js';
import { type ChainwatchProcess, eventually, killAll, type LogRecord, scrape, select, spawnChainwatch, value } from '../helpers/daemon-process.js';
import { chainPems, type StandardPki, standardPki } from '../helpers/fixtures.js';
import { freePort } from '../helpers/ports.js';
import { closedPort, serveBlackHole } from '../helpers/servers.js';

const servers: ServedEndpoint[] = [];
const dirs: string[] = [];
let pki: StandardPki;

after(async () => {
  killAll();
  await Promise.all(servers.map((s) => s.close()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

before(async () => {
  pki = await standardPki();
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'chainwatch-daemon-test-'));
  dirs.push(d);
  return d;
}

async function tlsServer(host: string, issuer: 'contoso' | 'fabrikam'): Promise<ServedEndpoint> {
  const ca = issuer === 'contoso' ? pki.contosoIssuing01 : pki.fabrikamTlsCa;
  const leaf = await pki.leaf(ca, host);
  const s = await serveChain({ host: '127.0.0.1', key: leaf.keyPem, chain: chainPems(leaf, ca) });
  servers.push(s);
  return s;
}

interface T {
  name: string;
  group: string;
  host: string;
  port: number;
}

function configYaml(o: { schedule: string; timeout: string; targets: T[]; policies?: string; extra?: string }): string {
  return `# written by the daemon tests
scan:
  schedule: "${o.schedule}"
  timeout: ${o.timeout}
  concurrency: 16
trust:
  ca_files: [root.pem]
  system_roots: false
state:
  path: ./state
server:
  listen: 127.0.0.1:0
targets:
${o.targets.map((t) => `  - name: ${t.name}\n    group: ${t.group}\n    host: ${t.host}\n    port: ${t.port}\n    address: 127.0.0.1\n`).join('')}${o.policies ?? ''}${o.extra ?? ''}`;
}

/** Replaces the file the way editors do: write a new file, rename it over the old one. */
function replaceFile(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

const isMsg = (re: RegExp) => (r: LogRecord) => typeof r.msg === 'string' && re.test(r.msg);

async function startedUrl(cw: ChainwatchProcess): Promise<string> {
  const rec = await cw.waitForLog(isMsg(/^chainwatch started$/), 'the start line');
  return String(rec.listen);
}

describe('a daemon over a small fleet', () => {
  let dir: string;
  let configFile: string;
  let cw: ChainwatchProcess;
  let url: string;
  let fleet: T[];
  let web1Port: number;
  const policy = `policies:
  - name: web-same-ca
    reference: core
    members: [web]
`;

  before(async () => {
    dir = tempDir();
    configFile = join(dir, 'chainwatch.yaml');
    writeFileSync(join(dir, 'root.pem'), pki.contosoRoot.pem);
    const [a, b, good, bad] = await Promise.all([
      tlsServer('a.contoso.test', 'contoso'),
      tlsServer('b.contoso.test', 'contoso'),
      tlsServer('web1.contoso.test', 'contoso'),
      tlsServer('web2.contoso.test', 'fabrikam'),
    ]);
    const dead = await closedPort();
    web1Port = good.port;
    fleet = [
      { name: 'fe-a', group: 'core', host: 'a.contoso.test', port: a.port },
      { name: 'fe-b', group: 'core', host: 'b.contoso.test', port: b.port },
      { name: 'web1', group: 'web', host: 'web1.contoso.test', port: good.port },
      { name: 'web2', group: 'web', host: 'web2.contoso.test', port: bad.port },
      { name: 'gone-host', group: 'other', host: 'dead.contoso.test', port: dead.port },
    ];
    writeFileSync(configFile, configYaml({ schedule: '0 0 1 1 *', timeout: '5s', targets: fleet, policies: policy }));
    cw = spawnChainwatch(['run', '--config', configFile]);
    url = await startedUrl(cw);
  });

  test('the first scan shows the divergent member, the failed probe and the rest, by value', async () => {
    const m = await eventually(async () => {
      const s = await scrape(url);
      assert.equal(value(s, 'chainwatch_scans_total'), 1);
      return s;
    }, 'first scan in the metrics');
    const ep = (target: string) => ({ target, address: '127.0.0.1' });
    assert.equal(value(m, 'chainwatch_probe_success', ep('fe-a')), 1);
    assert.equal(value(m, 'chainwatch_probe_success', ep('gone-host')), 0);
    assert.equal(value(m, 'chainwatch_probe_error_info', { ...ep('gone-host'), kind: 'refused' }), 1);
    assert.equal(select(m, 'chainwatch_chain_info', ep('gone-host')).length, 0, 'no chain, no chain series');
    assert.equal(value(m, 'chainwatch_chain_info', { ...ep('web2'), group: 'web', issuer_key_id: pki.fabrikamTlsCa.keyId }), 1);
    assert.equal(value(m, 'chainwatch_chain_info', { ...ep('fe-a'), issuer_key_id: pki.contosoIssuing01.keyId }), 1);
    assert.equal(value(m, 'chainwatch_chain_trusted', ep('fe-a')), 1);
    assert.equal(value(m, 'chainwatch_chain_trusted', ep('web2')), 0);
    assert.equal(value(m, 'chainwatch_chain_problem', { ...ep('web2'), problem: 'untrusted' }), 1);
    const leafA = await pki.leaf(pki.contosoIssuing01, 'a.contoso.test');
    assert.equal(
      value(m, 'chainwatch_cert_not_after_timestamp_seconds', { ...ep('fe-a'), position: '0', sha256: leafA.sha256 }),
      Math.floor(leafA.notAfter.getTime() / 1000),
    );
    assert.equal(
      value(m, 'chainwatch_cert_not_after_timestamp_seconds', { ...ep('fe-a'), position: '1', sha256: pki.contosoIssuing01.sha256 }),
      Math.floor(pki.contosoIssuing01.notAfter.getTime() / 1000),
    );
    assert.equal(value(m, 'chainwatch_policy_consistent', { policy: 'web-same-ca' }), 0);
    assert.equal(value(m, 'chainwatch_policy_divergent_endpoints', { policy: 'web-same-ca' }), 1);
    assert.equal(value(m, 'chainwatch_policy_member_divergent', { policy: 'web-same-ca', target: 'web2' }), 1);
    assert.equal(value(m, 'chainwatch_policy_member_divergent', { policy: 'web-same-ca', target: 'web1' }), 0);
    assert.equal(value(m, 'chainwatch_cert_changes_total', ep('fe-a')), 0);
    assert.equal(value(m, 'chainwatch_cert_last_change_timestamp_seconds', ep('fe-a')), 0);
    assert.equal(value(m, 'chainwatch_targets'), 5);
    assert.equal(value(m, 'chainwatch_config_last_reload_successful'), 1);
    assert.equal(select(m, 'chainwatch_build_info').length, 1);
    assert.ok(select(m, 'process_resident_memory_bytes').length === 1, 'default process metrics are exported');

    assert.equal((await fetch(`${url}/readyz`)).status, 200);
    const status = (await (await fetch(`${url}/api/v1/status`)).json()) as {
      targets: { target: string; ok: boolean; error: { kind: string } | null }[];
      policies: { name: string; consistent: boolean; divergent: { target: string }[] }[];
      changes: unknown[];
    };
    assert.equal(status.targets.length, 5);
    assert.equal(status.targets.find((t) => t.target === 'gone-host')?.error?.kind, 'refused');
    assert.deepEqual(
      status.policies.map((p) => [p.name, p.consistent, p.divergent.map((d) => d.target)]),
      [['web-same-ca', false, ['web2']]],
    );
    assert.ok(Array.isArray(status.changes));

    const line = cw.records.find(isMsg(/^scan finished$/))!;
    assert.deepEqual([line.endpoints, line.failures, line.divergent, line.changes], [5, 1, 1, 0]);
    assert.ok(
      cw.records.some((r) => isMsg(/became divergent/)(r) && r.target === 'web2'),
      'the divergence transition is logged',
    );
  });

  test('a target removed from the config loses its series at the next scan', async () => {
    fleet = fleet.filter((t) => t.name !== 'fe-b');
    replaceFile(configFile, configYaml({ schedule: '0 0 1 1 *', timeout: '5s', targets: fleet, policies: policy }));
    const m = await eventually(async () => {
      const s = await scrape(url);
      assert.equal(value(s, 'chainwatch_scans_total'), 2);
      return s;
    }, 'the reload scan');
    assert.equal(select(m, 'chainwatch_probe_success', { target: 'fe-b' }).length, 0);
    assert.ok(!m.some((s) => s.labels.target === 'fe-b'), 'no series at all for fe-b');
    assert.equal(value(m, 'chainwatch_probe_success', { target: 'fe-a' }), 1);
    assert.equal(value(m, 'chainwatch_targets'), 4);
  });

  test('a broken config is refused with file:line:column, the old one keeps running, a fixed one takes effect', async () => {
    const good = configYaml({ schedule: '0 0 1 1 *', timeout: '5s', targets: fleet, policies: policy });
    const broken = good.replace('  concurrency: 16\n', '  concurrency: 16\n  timout: 3s\n');
    writeFileSync(configFile, broken);
    const refused = await cw.waitForLog(isMsg(/config reload refused/), 'the refusal');
    assert.match(String(refused.msg), /chainwatch\.yaml:6:3: .*timout/);
    await eventually(async () => assert.equal(value(await scrape(url), 'chainwatch_config_last_reload_successful'), 0), 'reload metric 0');
    assert.equal((await fetch(`${url}/healthz`)).status, 200, 'still alive');
    assert.equal(value(await scrape(url), 'chainwatch_targets'), 4, 'old config still in force');

    const c = await tlsServer('c.contoso.test', 'contoso');
    fleet = [...fleet, { name: 'fe-c', group: 'core', host: 'c.contoso.test', port: c.port }];
    replaceFile(configFile, configYaml({ schedule: '0 0 1 1 *', timeout: '5s', targets: fleet, policies: policy }));
    const m = await eventually(async () => {
      const s = await scrape(url);
      assert.equal(value(s, 'chainwatch_config_last_reload_successful'), 1);
      assert.equal(value(s, 'chainwatch_probe_success', { target: 'fe-c' }), 1);
      return s;
    }, 'the fixed config and its new target');
    assert.equal(value(m, 'chainwatch_targets'), 5);
  });

  test('a fixed endpoint is back to consistent; its change is logged and counted', async () => {
    // web2 now reaches a server with a Contoso certificate: an issuer change back to the right CA.
    fleet = fleet.map((t) => (t.name === 'web2' ? { ...t, port: web1Port } : t));
    replaceFile(configFile, configYaml({ schedule: '0 0 1 1 *', timeout: '5s', targets: fleet, policies: policy }));
    const m = await eventually(async () => {
      const s = await scrape(url);
      assert.equal(value(s, 'chainwatch_policy_consistent', { policy: 'web-same-ca' }), 1);
      return s;
    }, 'the policy consistent again');
    assert.equal(value(m, 'chainwatch_policy_member_divergent', { policy: 'web-same-ca', target: 'web2' }), 0);
    assert.equal(value(m, 'chainwatch_cert_changes_total', { target: 'web2' }), 1);
    assert.equal(value(m, 'chainwatch_cert_changes_total', { target: 'web1' }), 0);
    const changedAt = value(m, 'chainwatch_cert_last_change_timestamp_seconds', { target: 'web2' });
    assert.ok(Math.abs(changedAt - Date.now() / 1000) < 120, `last change at ${changedAt}`);
    const change = await cw.waitForLog((r) => isMsg(/different issuing CA/)(r) && r.target === 'web2', 'the change line');
    assert.match(String(change.fromIssuer), new RegExp(`key id ${pki.fabrikamTlsCa.keyId}`));
    assert.match(String(change.toIssuer), new RegExp(`key id ${pki.contosoIssuing01.keyId}`));
    await cw.waitForLog((r) => isMsg(/back to consistent/)(r) && r.target === 'web2', 'the transition line');
    const status = (await (await fetch(`${url}/api/v1/status`)).json()) as { changes: { target: string; kind: string }[] };
    assert.deepEqual(
      status.changes.map((c) => [c.target, c.kind]),
      [['web2', 'issuer_change']],
    );
  });

  test('a new listen address on reload rebinds the server', async () => {
    const port = await freePort();
    replaceFile(configFile, configYaml({ schedule: '0 0 1 1 *', timeout: '5s', targets: fleet, policies: policy }).replace('127.0.0.1:0', `127.0.0.1:${port}`));
    const moved = `http://127.0.0.1:${port}`;
    await eventually(async () => assert.equal((await fetch(`${moved}/healthz`)).status, 200), 'the new address');
    await assert.rejects(fetch(`${url}/healthz`), 'the old address is closed');
    url = moved;
    assert.equal((await fetch(`${url}/readyz`)).status, 200, 'the last scan is still served');
  });

  test('SIGHUP reloads too', async () => {
    const scans = value(await scrape(url), 'chainwatch_scans_total');
    cw.proc.kill('SIGHUP');
    const reloads = cw.count(isMsg(/^config reloaded; scanning now$/));
    await cw.waitForLog(isMsg(/^SIGHUP received; reloading/), 'SIGHUP noticed');
    await eventually(async () => assert.equal(cw.count(isMsg(/^config reloaded; scanning now$/)), reloads + 1), 'the reload', 10_000, 50);
    await eventually(async () => assert.equal(value(await scrape(url), 'chainwatch_scans_total'), scans + 1), 'the reload scan');
  });

  test('SIGTERM exits 0 and flushes the baseline', async () => {
    const sentAt = Date.now();
    cw.proc.kill('SIGTERM');
    const exit = await cw.exited;
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(Date.now() - sentAt < 5000, `took ${Date.now() - sentAt} ms`);
    const saved = JSON.parse(readFileSync(join(dir, 'state', 'baseline.json'), 'utf8')) as { savedAt: string; entries: { target: string }[] };
    assert.ok(Date.parse(saved.savedAt) >= sentAt - 1000, 'written at shutdown');
    assert.ok(saved.entries.some((e) => e.target === 'fe-c'));
  });

  test('after a restart the change counters are still there and nothing is reported as changed', async () => {
    cw = spawnChainwatch(['run', '--config', configFile]);
    url = await startedUrl(cw);
    const m = await eventually(async () => {
      const s = await scrape(url);
      assert.equal(value(s, 'chainwatch_scans_total'), 1);
      return s;
    }, 'the first scan after restart');
    assert.equal(value(m, 'chainwatch_cert_changes_total', { target: 'web2' }), 1);
    assert.ok(value(m, 'chainwatch_cert_last_change_timestamp_seconds', { target: 'web2' }) > 0);
    assert.equal(cw.records.find(isMsg(/^scan finished$/))?.changes, 0);
    assert.equal(cw.count(isMsg(/certificate (renewed|changed)|chain changed/)), 0);
    cw.proc.kill('SIGTERM');
    assert.equal((await cw.exited).code, 0);
  });
});

describe('a scan slower than the schedule', () => {
  test('is never overlapped: ticks are skipped and counted, and SIGTERM aborts it promptly', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'root.pem'), pki.contosoRoot.pem);
    const hole = await serveBlackHole({ host: '127.0.0.1' });
    servers.push(hole);
    const ok = await tlsServer('ok.contoso.test', 'contoso');
    const configFile = join(dir, 'chainwatch.yaml');
    writeFileSync(
      configFile,
      configYaml({
        schedule: '* * * * * *',
        timeout: '6s',
        targets: [
          { name: 'hole', group: 'g', host: 'hole.contoso.test', port: hole.port },
          { name: 'ok', group: 'g', host: 'ok.contoso.test', port: ok.port },
        ],
      }),
    );
    const cw = spawnChainwatch(['run', '--config', configFile]);
    const url = await startedUrl(cw);
    // While the first scan waits on the black hole, every tick must be skipped.
    const m = await eventually(
      async () => {
        const s = await scrape(url);
        assert.ok(value(s, 'chainwatch_scans_skipped_total') >= 2);
        return s;
      },
      'skipped ticks',
      30_000,
    );
    assert.equal(value(m, 'chainwatch_scans_total'), 0, 'the first scan is still running; nothing ran beside it');
    assert.ok(cw.count(isMsg(/scheduled scan skipped/)) >= 2, 'skips are logged');

    await cw.waitForLog(isMsg(/^scan finished$/), 'the first scan', 30_000);
    // A second scan starts on the next tick; stop the daemon while it waits on the black hole.
    await eventually(async () => assert.equal(cw.count(isMsg(/^scan started$/)), 2), 'the second scan', 10_000, 50);
    const sentAt = Date.now();
    cw.proc.kill('SIGTERM');
    const exit = await cw.exited;
    const took = Date.now() - sentAt;
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(took < 4000, `SIGTERM took ${took} ms with a 6 s probe in flight`);

    // Scans strictly alternate start/finish in the log: never two at once.
    let open = 0;
    for (const r of cw.records) {
      if (r.msg === 'scan started') open++;
      if (r.msg === 'scan finished' || r.msg === 'scan aborted for shutdown') open--;
      assert.ok(open === 0 || open === 1, 'two scans overlapped');
    }
    assert.equal(cw.count(isMsg(/^scan finished$/)), 1);
    const saved = JSON.parse(readFileSync(join(dir, 'state', 'baseline.json'), 'utf8')) as { savedAt: string; entries: { target: string }[] };
    assert.ok(Date.parse(saved.savedAt) >= sentAt - 1000, 'the baseline was flushed at shutdown');
    assert.deepEqual(
      saved.entries.map((e) => e.target),
      ['ok'],
    );
  });
});

describe('a config that is bad at start', () => {
  test('exits 2 and says where', async () => {
    const dir = tempDir();
    const configFile = join(dir, 'bad.yaml');
    writeFileSync(configFile, 'targets:\n  - name: x\n    group: g\n    host: x.test\n    port: 70000\n');
    const cw = spawnChainwatch(['run', '--config', configFile]);
    const exit = await cw.exited;
    assert.equal(exit.code, 2);
    assert.match(cw.stderr(), /bad\.yaml:5:11: .*port/);
    assert.ok(!existsSync(join(dir, 'state')), 'nothing was started');
  });
});
