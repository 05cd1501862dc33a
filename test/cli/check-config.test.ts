// A config that cannot be used stops chainwatch with one clear line and exit 2, whatever the
// file is: never a stack trace, never a hang (each run has a deadline).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const dir = mkdtempSync(join(tmpdir(), 'chainwatch-check-config-'));
chmodSync(dir, 0o755);
after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `chainwatch ...args`, killed after 20 s so that a hang fails the test instead of stalling it. */
function run(args: string[], asNobody = false): Promise<Run> {
  const node = [process.execPath, '--import', 'tsx', 'src/cli/main.ts', ...args];
  const [cmd, ...rest] = asNobody ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...node] : node;
  const child = spawn(cmd!, rest, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: dir }, timeout: 20_000 });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

function assertOneLine(r: Run, path: string, fragment: string): void {
  assert.equal(r.code, 2, `exit ${r.code}: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.ok(lines[0]!.startsWith(`${path}:`) && lines[0]!.includes(fragment), r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at |Error:|call stack/);
}

test('devices, FIFOs, directories, huge, binary, deeply nested and unreadable configs: one line, exit 2', async () => {
  const fifo = join(dir, 'fifo.yaml');
  execFileSync('mkfifo', [fifo]);
  const huge = join(dir, 'huge.yaml');
  writeFileSync(huge, `# ${'x'.repeat(9 * 1024 * 1024)}\n`);
  const binary = join(dir, 'binary.yaml');
  writeFileSync(binary, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
  const deep = join(dir, 'deep.yaml');
  writeFileSync(deep, `a: ${'['.repeat(1000)}${']'.repeat(1000)}\n`);
  const secret = join(dir, 'secret.yaml');
  writeFileSync(secret, 'targets: []\n', { mode: 0o600 });
  const folder = join(dir, 'folder.yaml');
  mkdirSync(folder);
  const cases: [string, string, boolean?][] = [
    ['/dev/zero', 'is a character device, not a file'],
    [fifo, 'is a named pipe (FIFO), not a file'],
    [folder, 'is a directory'],
    [huge, 'a config file this large is not a config file'],
    [binary, 'is not a text file'],
    [deep, 'nests more than 64 levels deep here'],
    [secret, 'cannot read the config file: permission denied', true],
  ];
  for (const [path, fragment, asNobody] of cases) {
    const r = await run(['check-config', '--config', path], asNobody);
    assertOneLine(r, path, fragment);
  }
});

test('an unclosed [ is reported where it opened; the daemon logs the key of each issue', async () => {
  const file = join(dir, 'unclosed.yaml');
  writeFileSync(file, 'scan:\n  timeout: 10s\ntargets:\n  - name: a\n    group: g\n    port: [443\n');
  const r = await run(['check-config', '--config', file]);
  assertOneLine(r, file, `${file}:6:11: YAML syntax: the list '[' opened here is not closed (the parser noticed at line 7, column 1`);

  const typo = join(dir, 'typo.yaml');
  writeFileSync(typo, 'targets:\n  - name: a\n    group: g\n    host: h.test\n    prot: 5061\n');
  const daemon = await run(['run', '--config', typo]);
  assert.equal(daemon.code, 2);
  const record = daemon.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; issues?: { key: string; line: number; column: number }[] })
    .find((rec) => rec.issues);
  assert.ok(record, daemon.stdout);
  assert.deepEqual(
    record.issues!.map((i) => [i.key, i.line, i.column]),
    [['targets[0] (a).prot', 5, 5]],
  );
});
