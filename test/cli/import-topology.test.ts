import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { chainwatch } from '../helpers/cli.js';

const dirs: string[] = [];
after(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

describe('chainwatch import-topology', () => {
  it('turns a topology export into a config that check-config accepts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chainwatch-topology-'));
    dirs.push(dir);
    const r = await chainwatch('import-topology', 'test/topology/fixtures/enterprise.xml');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /pchat-web-same-ca/);
    assert.match(r.stdout, /PersistentChat\/MGCWebService\.asmx/);
    await writeFile(join(dir, 'chainwatch.yaml'), r.stdout);
    const check = await chainwatch('check-config', '--config', join(dir, 'chainwatch.yaml'));
    assert.equal(check.code, 0, check.stderr);
  });

  it('exits 2 with a message naming the file for unreadable or invalid input', async () => {
    const missing = await chainwatch('import-topology', 'no/such/topology.xml');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no\/such\/topology\.xml: cannot read the topology file: no such file/);
    const dir = await mkdtemp(join(tmpdir(), 'chainwatch-topology-'));
    dirs.push(dir);
    await writeFile(join(dir, 'broken.xml'), '<Topology><Clusters><Cluster Fqdn="x"></Topology>');
    const broken = await chainwatch('import-topology', join(dir, 'broken.xml'));
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /broken\.xml/);
    assert.equal(broken.stdout, '');
    assert.equal((await chainwatch('import-topology')).code, 2);
  });

  it('--ports all lists every TLS port; anything else is a usage error', async () => {
    const all = await chainwatch('import-topology', 'test/topology/fixtures/standard-edition.xml', '--ports', 'all');
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /- name: lyncse01-default-444\n/);
    const bad = await chainwatch('import-topology', 'test/topology/fixtures/standard-edition.xml', '--ports', 'some');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--ports must be default \(one port per certificate and server\) or all \(every TLS port\), not 'some'/);
  });
});
