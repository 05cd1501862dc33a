import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createLogger, parseLogLevel, redactUrl } from '../../src/log/logger.js';

function capture(isTTY = false) {
  const lines: string[] = [];
  const sink = { isTTY, write: (s: string) => lines.push(s) };
  return { lines, sink };
}
const fixed = () => new Date('2025-01-02T03:04:05.678Z');

test('JSON lines carry time, level, msg and fields, and respect the level', () => {
  const { lines, sink } = capture();
  const log = createLogger({ sink, level: 'info', now: fixed }).child({ component: 'scheduler' });
  log.debug('hidden');
  log.info('scan finished', { endpoints: 3, time: 'clash' });
  log.error('boom', { err: new Error('bad thing') });
  assert.equal(lines.length, 2);
  assert.ok(lines.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n')));
  assert.deepEqual(JSON.parse(lines[0]!), {
    time: '2025-01-02T03:04:05.678Z',
    level: 'info',
    msg: 'scan finished',
    component: 'scheduler',
    endpoints: 3,
    field_time: 'clash',
  });
  assert.deepEqual(JSON.parse(lines[1]!).err, { name: 'Error', message: 'bad thing' });
});

test('a terminal gets one readable line', () => {
  const { lines, sink } = capture(true);
  createLogger({ sink, level: 'debug', now: fixed }).warn('reload refused', { file: 'a b.yaml', line: 3 });
  assert.equal(lines[0], '2025-01-02T03:04:05.678Z WARN  reload refused file="a b.yaml" line=3\n');
});

test('secrets never reach the output', () => {
  const { lines, sink } = capture();
  const log = createLogger({ sink, level: 'debug', now: fixed });
  const pem = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----';
  log.info('delivering to https://hooks.example.test/services/T0/B0/SECRETTOKEN?sig=abc now', {
    url: 'https://user:pw@outlook.example.test/webhookb2/SECRETPATH?sig=SECRETSIG',
    privateKey: 'not shown',
    issues: [{ file: 'c.yaml', line: 3, column: 5, key: 'targets[0].port', message: 'expected a port number' }],
    clientCert: { cert: 'c', key: pem, password: 'hunter2' },
    note: `material ${pem} end`,
    keyId: '42d1aa',
    der: Buffer.alloc(12),
  });
  const out = lines.join('');
  for (const secret of ['SECRETTOKEN', 'SECRETPATH', 'SECRETSIG', 'sig=abc', 'pw@', 'not shown', 'MIIEvQ', 'hunter2']) {
    assert.ok(!out.includes(secret), `${secret} leaked: ${out}`);
  }
  const rec = JSON.parse(lines[0]!);
  assert.equal(rec.msg, 'delivering to https://hooks.example.test/… now');
  assert.equal(rec.url, 'https://outlook.example.test/…');
  assert.equal(rec.keyId, '42d1aa', 'key ids are public and stay');
  assert.equal(rec.issues[0].key, 'targets[0].port', 'config key paths are shown');
  assert.equal(rec.note, 'material [redacted PEM] end');
  assert.equal(rec.der, '[12 bytes]');
});

test('LOG_LEVEL is read from the environment and a bad one is reported, not fatal', () => {
  const saved = process.env.LOG_LEVEL;
  try {
    process.env.LOG_LEVEL = 'WARN';
    const a = capture();
    createLogger({ sink: a.sink }).info('dropped');
    assert.equal(a.lines.length, 0);
    process.env.LOG_LEVEL = 'loud';
    const b = capture();
    createLogger({ sink: b.sink }).info('kept');
    assert.equal(b.lines.length, 2);
    assert.match(JSON.parse(b.lines[0]!).msg, /LOG_LEVEL is not a known level/);
  } finally {
    if (saved === undefined) delete process.env.LOG_LEVEL;
    else process.env.LOG_LEVEL = saved;
  }
  assert.equal(parseLogLevel('Debug'), 'debug');
  assert.equal(parseLogLevel('verbose'), null);
  assert.equal(redactUrl('http://am:9093'), 'http://am:9093');
  assert.equal(redactUrl('not a url'), '[unparseable url]');
});

test('a stdout pipe whose reader goes away costs the logs, not the process', async () => {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(new URL('./closed-pipe-child.ts', import.meta.url))], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  // The reader leaves after the first line; the child's later writes fail with EPIPE.
  child.stdout.once('data', () => child.stdout.destroy());
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(code, 0, stderr);
  assert.match(stderr, /still alive/);
});
