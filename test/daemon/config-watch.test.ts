import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { watchConfigFile } from '../../src/daemon/config-watch.js';
import { nullLogger } from '../../src/log/logger.js';

const dirs: string[] = [];
after(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

function nextChange(file: string): { changed: Promise<void>; close: () => void } {
  let resolve!: () => void;
  const changed = new Promise<void>((r) => (resolve = r));
  const w = watchConfigFile(file, () => resolve(), nullLogger, 50);
  return { changed, close: () => w.close() };
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no change noticed within ${ms} ms: ${what}`)), ms))]);
}

describe('config file watch', () => {
  it('notices an editor replacing the file by rename', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chainwatch-watch-'));
    dirs.push(dir);
    const file = join(dir, 'chainwatch.yaml');
    await writeFile(file, 'a: 1\n');
    const w = nextChange(file);
    await writeFile(join(dir, '.chainwatch.yaml.swp'), 'a: 2\n');
    await rename(join(dir, '.chainwatch.yaml.swp'), file);
    await within(w.changed, 5000, 'rename over the file');
    w.close();
  });

  it('notices a Kubernetes ConfigMap update (the ..data symlink swap)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chainwatch-watch-'));
    dirs.push(dir);
    // The layout kubelet writes: versioned folder, ..data -> it, the file -> ..data/file.
    await mkdir(join(dir, '..v1'));
    await writeFile(join(dir, '..v1', 'chainwatch.yaml'), 'a: 1\n');
    await symlink('..v1', join(dir, '..data'));
    await symlink('..data/chainwatch.yaml', join(dir, 'chainwatch.yaml'));
    const file = join(dir, 'chainwatch.yaml');
    const w = nextChange(file);
    await mkdir(join(dir, '..v2'));
    await writeFile(join(dir, '..v2', 'chainwatch.yaml'), 'a: 2\n');
    await symlink('..v2', join(dir, '..data_tmp'));
    await rename(join(dir, '..data_tmp'), join(dir, '..data'));
    await within(w.changed, 5000, 'symlink swap');
    assert.equal(await readFile(file, 'utf8'), 'a: 2\n');
    w.close();
  });
});
