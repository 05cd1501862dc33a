import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FileRefused, readRegularFile, writeFileAtomic } from '../../src/util/fs.js';

const dir = mkdtempSync(join(tmpdir(), 'chainwatch-fs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function refusal(path: string, max = 1024): Promise<FileRefused> {
  try {
    await readRegularFile(path, max);
  } catch (err) {
    assert.ok(err instanceof FileRefused, String(err));
    return err;
  }
  throw new Error(`${path} was read`);
}

test('readRegularFile reads a regular file up to its limit and refuses everything else without blocking', async () => {
  const ok = join(dir, 'ok.txt');
  writeFileSync(ok, 'hello');
  assert.equal((await readRegularFile(ok, 5)).toString(), 'hello');
  assert.equal((await refusal(ok, 4)).code, 'too_large');

  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  assert.deepEqual([(await refusal(fifo)).code, (await refusal(fifo)).reason], ['not_a_file', 'is a named pipe (FIFO), not a file']);
  assert.equal((await refusal('/dev/zero')).reason, 'is a character device, not a file');
  assert.equal((await refusal(dir)).code, 'directory');
  assert.equal((await refusal(join(dir, 'missing'))).code, 'missing');
  assert.equal((await refusal(join(ok, 'below-a-file'))).code, 'missing');
});

test('writeFileAtomic replaces the file whole, with the mode asked, and leaves no temporary file', async () => {
  const path = join(dir, 'state.json');
  await writeFileAtomic(path, '{"v":1}', 0o600);
  await writeFileAtomic(path, '{"v":2}', 0o600);
  assert.equal(readFileSync(path, 'utf8'), '{"v":2}');
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.startsWith('state.json')),
    ['state.json'],
  );
});

test('a failed writeFileAtomic leaves what was there and no temporary file', async () => {
  const blocked = join(dir, 'blocked');
  mkdirSync(join(blocked, 'inner'), { recursive: true }); // rename onto a non-empty folder fails
  await assert.rejects(writeFileAtomic(blocked, 'x'));
  assert.ok(statSync(join(blocked, 'inner')).isDirectory());
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.startsWith('blocked.tmp')),
    [],
  );
});
