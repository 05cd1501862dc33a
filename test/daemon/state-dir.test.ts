// A reload that changes state.path takes every state file along (baseline, history, alert
// state), and refuses a directory that already holds someone's chainwatch state.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type ServedEndpoint, serveChain } from '../../src/demo/servers.js';
import { eventually, killAll, REPO, spawnChainwatch } from '../helpers/daemon-process.js';
import { chainPems, standardPki } from '../helpers/fixtures.js';

/** A process that takes a state directory's lock and holds it until killed. */
const LOCK_HOLDER =
  "const { acquireStateLock } = await import('./src/fleet/state-lock.ts'); await acquireStateLock(process.argv[1]); console.log('locked'); setInterval(() => {}, 60000);";

const servers: ServedEndpoint[] = [];
let dir = '';
let holder: ChildProcess | null = null;

after(async () => {
  killAll();
  holder?.kill('SIGKILL');
  await Promise.all(servers.map((s) => s.close()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('baseline.json, history.jsonl and alerts.json move together; an occupied directory is refused', async () => {
  const pki = await standardPki();
  dir = mkdtempSync(join(tmpdir(), 'chainwatch-state-dir-test-'));
  writeFileSync(join(dir, 'root.pem'), pki.contosoRoot.pem);
  const serve = async (host: string, ca: typeof pki.contosoIssuing01) => {
    const leaf = await pki.leaf(ca, host);
    const s = await serveChain({ host: '127.0.0.1', key: leaf.keyPem, chain: chainPems(leaf, ca) });
    servers.push(s);
    return s;
  };
  const [fe, web] = await Promise.all([serve('fe.contoso.test', pki.contosoIssuing01), serve('web.contoso.test', pki.fabrikamTlsCa)]);
  const config = (state: string) => `scan:
  schedule: "0 0 1 1 *"
  timeout: 5s
trust:
  ca_files: [root.pem]
  system_roots: false
state:
  path: ${state}
server:
  listen: 127.0.0.1:0
targets:
  - {name: fe, group: core, host: fe.contoso.test, port: ${fe.port}, address: 127.0.0.1}
  - {name: web, group: web, host: web.contoso.test, port: ${web.port}, address: 127.0.0.1}
policies:
  - {name: web-same-ca, reference: core, members: [web]}
`;
  const file = join(dir, 'chainwatch.yaml');
  const replace = (text: string) => {
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  };
  writeFileSync(file, config('./first'));
  // A history line from an earlier life of this baseline, to see it travel.
  mkdirSync(join(dir, 'first'));
  writeFileSync(join(dir, 'first', 'history.jsonl'), '{"target":"fe","kind":"renewal"}\n');
  const cw = spawnChainwatch(['run', '--config', file]);
  await cw.waitForLog((r) => r.msg === 'scan finished', 'the first scan');
  // The divergence of web fires an alert, which is kept in alerts.json.
  await eventually(async () => assert.ok(existsSync(join(dir, 'first', 'alerts.json')) && existsSync(join(dir, 'first', 'baseline.json'))), 'state written');
  const alertsBefore = JSON.parse(readFileSync(join(dir, 'first', 'alerts.json'), 'utf8')) as { active: { labels: Record<string, string> }[] };
  assert.deepEqual(
    alertsBefore.active.map((a) => a.labels.alertname),
    ['ChainwatchIssuerDivergence'],
  );

  replace(config('./second'));
  await cw.waitForLog((r) => r.msg === 'state moved', 'the move');
  for (const name of ['baseline.json', 'history.jsonl', 'alerts.json']) {
    assert.ok(existsSync(join(dir, 'second', name)), `${name} is in the new directory`);
    assert.ok(!existsSync(join(dir, 'first', name)), `${name} is gone from the old one`);
  }
  assert.equal(readFileSync(join(dir, 'second', 'history.jsonl'), 'utf8'), '{"target":"fe","kind":"renewal"}\n');
  const moved = JSON.parse(readFileSync(join(dir, 'second', 'alerts.json'), 'utf8')) as typeof alertsBefore;
  assert.deepEqual(moved.active, alertsBefore.active);
  const baseline = JSON.parse(readFileSync(join(dir, 'second', 'baseline.json'), 'utf8')) as { entries: { target: string }[] };
  assert.deepEqual(baseline.entries.map((e) => e.target).sort(), ['fe', 'web']);
  // The lock moves with the state: the old directory is free, the new one is ours.
  assert.ok(!existsSync(join(dir, 'first', 'chainwatch.lock')), 'the old directory is released');
  assert.equal((JSON.parse(readFileSync(join(dir, 'second', 'chainwatch.lock'), 'utf8')) as { pid: number }).pid, cw.proc.pid);

  // Someone else's state: neither overwritten nor adopted.
  mkdirSync(join(dir, 'third'));
  writeFileSync(join(dir, 'third', 'baseline.json'), 'theirs');
  const refusals = cw.count((r) => typeof r.msg === 'string' && r.msg.startsWith('config reload refused'));
  replace(config('./third'));
  const refused = await eventually(async () => {
    const all = cw.records.filter((r) => typeof r.msg === 'string' && r.msg.startsWith('config reload refused'));
    assert.equal(all.length, refusals + 1);
    return all[all.length - 1]!;
  }, 'the refusal');
  assert.match(String(refused.msg), /third already holds chainwatch state \(baseline\.json\); chainwatch keeps using .*second/);
  assert.equal(readFileSync(join(dir, 'third', 'baseline.json'), 'utf8'), 'theirs');
  assert.ok(existsSync(join(dir, 'second', 'baseline.json')) && existsSync(join(dir, 'second', 'alerts.json')));

  // A directory whose lock another live process holds (no state files in it yet): refused.
  mkdirSync(join(dir, 'fourth'));
  holder = spawn(process.execPath, ['--import', 'tsx', '-e', LOCK_HOLDER, join(dir, 'fourth')], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => holder!.stdout!.once('data', resolve));
  replace(config('./fourth'));
  const locked = await eventually(async () => {
    const all = cw.records.filter((r) => typeof r.msg === 'string' && r.msg.startsWith('config reload refused'));
    assert.equal(all.length, refusals + 2);
    return all[all.length - 1]!;
  }, 'the refusal of a locked directory');
  assert.match(String(locked.msg), new RegExp(`in use by another chainwatch \\(pid ${holder.pid} `));
  assert.ok(existsSync(join(dir, 'second', 'baseline.json')), 'the state stays where it was');
  holder.kill('SIGKILL');

  cw.proc.kill('SIGTERM');
  assert.equal((await cw.exited).code, 0);
  assert.ok(existsSync(join(dir, 'second', 'baseline.json')), 'shutdown flushes to the directory in use');
});
