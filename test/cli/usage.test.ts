// The command line as a user meets it: help for every command, usage mistakes as one line and
// exit 2 (never a stack trace), the README's command reference generated from the same table,
// and each command loading only the modules it uses.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { COMMANDS, commandHelp, overview, usageMarkdown } from '../../src/cli/usage.js';
import { chainwatch } from '../helpers/cli.js';

describe('help', () => {
  test('chainwatch help and --help list every command, exit 0', async () => {
    for (const args of [['help'], ['--help'], ['-h']]) {
      const r = await chainwatch(...args);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, overview());
      for (const c of COMMANDS) assert.match(r.stdout, new RegExp(`^  ${c.name} `, 'm'));
    }
  });

  test('every command has --help (also -h, and help COMMAND), naming each of its flags', async () => {
    for (const c of COMMANDS) {
      // Every command with --help; the other two spellings on one command each (spawns are slow).
      const spellings = [[c.name, '--help'], ...(c.name === 'scan' ? [[c.name, '-h']] : []), ...(c.name === 'import-topology' ? [['help', c.name]] : [])];
      for (const args of spellings) {
        const r = await chainwatch(...args);
        assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
        assert.equal(r.stdout, commandHelp(c), args.join(' '));
        for (const f of c.flags) assert.match(r.stdout, new RegExp(`--${f.name}\\b`), `${c.name} --help names --${f.name}`);
      }
    }
  });

  test('--help wins over missing required flags', async () => {
    const r = await chainwatch('run', '--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--log-level LEVEL/);
  });
});

describe('usage mistakes: one line on stderr, exit 2, no stack trace', () => {
  const cases: [string[], RegExp][] = [
    [[], /^chainwatch: a command is needed: run, scan/],
    [['frob'], /^chainwatch: unknown command 'frob'; the commands are run, scan, check-config/],
    [['--config', 'x.yaml'], /^chainwatch: unknown command '--config' \(flags go after the command\)/],
    [['run'], /^chainwatch run: --config FILE is required \(see 'chainwatch run --help'\)$/],
    [['scan', '--config', 'x.yaml', '--format', 'xml'], /^chainwatch scan: --format must be table or json, not 'xml'/],
    [['scan', '--bogus'], /^chainwatch scan: Unknown option '--bogus' \(see 'chainwatch scan --help'\)$/],
    [['run', '--config', 'x.yaml', '--log-level', 'loud'], /^chainwatch run: --log-level must be one of debug, info, warn, error, not 'loud'/],
    [['check-config', '--config'], /^chainwatch check-config: Option '-c, --config <value>' argument missing/],
    [['rules', '--config', 'x.yaml', 'extra'], /^chainwatch rules: unexpected argument 'extra'/],
    [['import-topology'], /^chainwatch import-topology: FILE\.xml is required/],
    [['import-topology', 'a.xml', 'b.xml'], /^chainwatch import-topology: unexpected argument 'b\.xml'/],
    [['demo', '--listen'], /^chainwatch demo: Option '--listen <value>' argument missing/],
    [['help', 'frob'], /^chainwatch: unknown command 'frob'/],
  ];
  for (const [args, message] of cases) {
    test(`chainwatch ${args.join(' ') || '(nothing)'}`, async () => {
      const r = await chainwatch(...args);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, '');
      const lines = r.stderr.split('\n').filter(Boolean);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, message);
      assert.doesNotMatch(r.stderr, /\bat .*\.(js|ts):\d+/, 'no stack trace');
    });
  }
});

test('the README lists every command and every flag, as the usage table renders them', async () => {
  const readme = await readFile('README.md', 'utf8');
  const m = /<!-- commands:start -->\n([\s\S]*?)\n<!-- commands:end -->/.exec(readme);
  assert.ok(m, 'README has the generated command reference');
  assert.equal(m[1], usageMarkdown());
  for (const c of COMMANDS) {
    assert.ok(m[1]!.includes(`### \`chainwatch ${c.name}`), c.name);
    for (const f of c.flags) assert.ok(m[1]!.includes(`\`--${f.name}`), `${c.name} --${f.name}`);
  }
});

/** The chainwatch modules and packages a command loads, through a module-load hook. */
async function loadedModules(args: string[]): Promise<{ code: number | null; modules: string[]; stderr: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'chainwatch-loads-'));
  try {
    await writeFile(
      join(dir, 'hooks.mjs'),
      // Hooks run on their own thread, whose stderr may be lost when a short command exits:
      // each load is appended to a file, synchronously, before the module reaches the command.
      `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  if (url.startsWith('file:')) appendFileSync(${JSON.stringify(join(dir, 'loaded.txt'))}, 'LOADED ' + url + '\\n');
  return next(url, context);
}\n`,
    );
    await writeFile(
      join(dir, 'register.mjs'),
      // require() (node-cron, the yaml package's own files) passes no hook: the CommonJS cache
      // is listed when the command exits.
      `import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';
register(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});
const cache = createRequire(import.meta.url).cache;
process.on('exit', () => {
  const lines = Object.keys(cache).map((f) => 'LOADED ' + pathToFileURL(f).href + '\\n');
  appendFileSync(${JSON.stringify(join(dir, 'loaded.txt'))}, lines.join(''));
});\n`,
    );
    await writeFile(join(dir, 'one.yaml'), 'targets:\n  - name: web1\n    group: web\n    host: 127.0.0.1\n');
    const child = spawn(
      process.execPath,
      ['--import', join(dir, 'register.mjs'), '--import', 'tsx', 'src/cli/main.ts', ...args.map((a) => a.replace('ONE', join(dir, 'one.yaml')))],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    const loaded = await readFile(join(dir, 'loaded.txt'), 'utf8').catch(() => '');
    const modules = [...loaded.matchAll(/^LOADED (\S+)$/gm)].map((x) => x[1]!);
    return { code, modules, stderr };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('each command loads only what it uses', () => {
  const heavy = [
    /\/src\/daemon\/daemon\./,
    /\/src\/demo\//,
    /\/src\/topology\//,
    /\/src\/probe\//,
    /\/node_modules\/undici\//,
    /\/node_modules\/prom-client\//,
    /\/node_modules\/node-cron\//,
    /\/node_modules\/@peculiar\//,
  ];

  test('check-config loads the config reader, not the daemon, demo, topology, prober or their packages', async () => {
    const r = await loadedModules(['check-config', '--config', 'ONE']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(
      r.modules.some((m) => m.includes('/src/config/load.')),
      'the hook sees chainwatch modules',
    );
    assert.deepEqual(
      r.modules.filter((m) => heavy.some((h) => h.test(m))),
      [],
    );
  });

  test('check-config reads a plain config without the full YAML parser or the cron scheduler', async () => {
    const r = await loadedModules(['check-config', '--config', 'ONE']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(
      r.modules.some((m) => m.includes('/src/config/yaml-subset.')),
      'the hook sees the quick reader',
    );
    assert.deepEqual(
      r.modules.filter((m) => /\/node_modules\/(yaml|node-cron)\/|\/src\/config\/yaml-full\./.test(m)),
      [],
    );
  });

  test('help loads nothing but the command line', async () => {
    const r = await loadedModules(['help']);
    assert.equal(r.code, 0, r.stderr);
    const ours = r.modules.filter((m) => m.includes('/src/'));
    assert.deepEqual(ours.map((m) => m.replace(/^.*\/src\//, 'src/')).sort(), ['src/cli/main.ts', 'src/cli/usage.ts', 'src/config/errors.ts']);
  });

  test('scan loads the pipeline, not the daemon, demo, topology, HTTP client, metrics or scheduler', async () => {
    const r = await loadedModules(['scan', '--config', 'ONE', '--format', 'json', '--target', 'web1']);
    assert.ok(
      r.modules.some((m) => m.includes('/src/pipeline/scan.')),
      r.stderr,
    );
    const daemonSide = heavy.filter((h) => !/probe|peculiar/.test(h.source));
    assert.deepEqual(
      r.modules.filter((m) => daemonSide.some((h) => h.test(m))),
      [],
    );
  });

  test('rules loads the generator and the config reader, not the daemon', async () => {
    const r = await loadedModules(['rules', '--config', 'ONE']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.modules.some((m) => m.includes('/src/output/prometheus-rules.')));
    assert.deepEqual(
      r.modules.filter((m) => heavy.some((h) => h.test(m))),
      [],
    );
  });
});
