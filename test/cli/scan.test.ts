import assert from 'node:assert/strict';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ServedEndpoint, serveChain } from '../../src/demo/servers.js';
import { chainwatch } from '../helpers/cli.js';
import { chainPems, standardPki } from '../helpers/fixtures.js';

// `chainwatch scan` and `check-config` as a user runs them: a child process, exit codes, stdout.
let dir: string;
const servers: ServedEndpoint[] = [];
let good: ServedEndpoint;
let foreign: ServedEndpoint;

before(async () => {
  const pki = await standardPki();
  dir = await mkdtemp(join(tmpdir(), 'chainwatch-cli-'));
  await writeFile(join(dir, 'root.pem'), pki.contosoRoot.pem);
  const fe = await pki.leaf(pki.contosoIssuing01, 'fe01.contoso.test');
  const web = await pki.leaf(pki.fabrikamTlsCa, 'web01.contoso.test');
  good = await serveChain({ host: '127.0.0.41', key: fe.keyPem, chain: chainPems(fe, pki.contosoIssuing01) });
  foreign = await serveChain({ host: '127.0.0.42', key: web.keyPem, chain: chainPems(web, pki.fabrikamTlsCa) });
  servers.push(good, foreign);
  const targets = `trust: {ca_files: [root.pem], system_roots: false}
targets:
  - {name: fe01, group: lync-internal, host: fe01.contoso.test, address: 127.0.0.41, port: ${good.port}}
`;
  await writeFile(join(dir, 'clean.yaml'), targets);
  await writeFile(
    join(dir, 'fleet.yaml'),
    `${targets}  - {name: web01, group: pchat-web, host: web01.contoso.test, address: 127.0.0.42, port: ${foreign.port}}
policies:
  - {name: pchat-web-same-ca, reference: lync-internal, members: [pchat-web]}
`,
  );
  await writeFile(join(dir, 'typo.yaml'), `targets:\n  - name: fe01\n    group: g\n    host: fe01.contoso.test\n    prot: 5061\n`);
});

after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await rm(dir, { recursive: true, force: true });
});

describe('chainwatch scan', () => {
  it('exits 0 and prints a JSON report when nothing is wrong', async () => {
    const r = await chainwatch('scan', '--config', join(dir, 'clean.yaml'), '--format', 'json');
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.targets.length, 1);
    const t = report.targets[0];
    assert.deepEqual(
      Object.keys(t).filter((k) =>
        ['target', 'group', 'host', 'port', 'address', 'sni', 'ok', 'error', 'tls', 'chain', 'issuer', 'root', 'trusted', 'hostnameMatch', 'problems'].includes(
          k,
        ),
      ).length,
      15,
    );
    assert.equal(t.ok, true);
    assert.equal(t.trusted, true);
    assert.equal(t.tls.completed, true);
    assert.equal(t.chain.length, 2);
    assert.deepEqual(report.policies, []);
  });

  it('exits 1 on divergence and names both CAs in the table', async () => {
    const r = await chainwatch('scan', '--config', join(dir, 'fleet.yaml'), '--format', 'table');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^TARGET\s+ENDPOINT\s+STATUS\s+ISSUER \(KEY\)\s+DAYS\s+PROBLEMS$/m);
    assert.match(r.stdout, /^fe01\s+127\.0\.0\.41:\d+\s+OK\s+Contoso Issuing CA 01 \(key [0-9a-f]{8}…\)\s+\d+\s+-$/m);
    assert.match(r.stdout, /pchat-web-same-ca \[match issuer, reference lync-internal\]: DIVERGENT \(1\)/);
    assert.match(r.stdout, /✗ web01 has Fabrikam TLS CA \(key [0-9a-f]{8}…\), expected Contoso Issuing CA 01 \(key [0-9a-f]{8}…\)/);
    for (const line of r.stdout.split('\n')) assert.ok(line.length <= 120, `line longer than 120 columns: ${line}`);
  });

  it('scans only the named targets with --target', async () => {
    const r = await chainwatch('scan', '--config', join(dir, 'fleet.yaml'), '--format', 'json', '--target', 'fe01');
    const report = JSON.parse(r.stdout);
    assert.deepEqual(
      report.targets.map((t: { target: string }) => t.target),
      ['fe01'],
    );
    const unknown = await chainwatch('scan', '--config', join(dir, 'fleet.yaml'), '--target', 'nope');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no target named nope/);
  });

  it('writes the baseline only with --save, and reports changes against it', async () => {
    const config = join(dir, 'clean.yaml');
    await chainwatch('scan', '--config', config, '--format', 'json');
    await assert.rejects(access(join(dir, 'state', 'baseline.json')), 'no --save, no state written');
    const saved = await chainwatch('scan', '--config', config, '--format', 'json', '--save');
    assert.equal(saved.code, 0, saved.stderr);
    const baseline = JSON.parse(await readFile(join(dir, 'state', 'baseline.json'), 'utf8'));
    assert.deepEqual(
      baseline.entries.map((e: { key: string }) => e.key),
      ['fe01'],
    );
    const again = JSON.parse((await chainwatch('scan', '--config', config, '--format', 'json')).stdout);
    assert.deepEqual(again.changes, []);
  });

  it('exits 2 on a config typo, naming file, line, column and key', async () => {
    const r = await chainwatch('scan', '--config', join(dir, 'typo.yaml'));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /typo\.yaml:5:5: targets\[0\].*prot.*did you mean 'port'/);
    assert.equal(r.stdout, '');
  });

  it('exits 2 on usage errors', async () => {
    assert.equal((await chainwatch('scan')).code, 2);
    assert.equal((await chainwatch('scan', '--config', join(dir, 'clean.yaml'), '--format', 'xml')).code, 2);
    assert.equal((await chainwatch('frobnicate')).code, 2);
  });
});

describe('chainwatch check-config', () => {
  it('exits 0 with a summary for a valid config and 2 for an invalid one', async () => {
    const ok = await chainwatch('check-config', '--config', join(dir, 'fleet.yaml'));
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /pchat-web-same-ca/);
    const bad = await chainwatch('check-config', '--config', join(dir, 'typo.yaml'));
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /typo\.yaml:5:5/);
  });
});
