// Config file → validated Config. The one place that knows about YAML, keys and positions.
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isScalar, LineCounter, parseDocument } from 'yaml';
import { ConfigError, type ConfigIssue } from './errors.js';
import { readPendingFiles } from './files.js';
import { readMapping } from './mapping.js';
import { ROOT } from './options.js';
import { Ctx } from './reader.js';
import { readAlerting } from './sections/alerting.js';
import { readDns, readRevocation, readScan, readServer, readState, readTrust } from './sections/general.js';
import { readPolicies } from './sections/policies.js';
import { readTargets } from './sections/targets.js';
import type { Config } from './types.js';

const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

function byPosition(a: ConfigIssue, b: ConfigIssue): number {
  return a.line - b.line || a.column - b.column;
}

function fail(ctx: Ctx): never {
  throw new ConfigError([...ctx.issues].sort(byPosition));
}

/**
 * Validates config text. `file` names the file in messages, and relative paths inside the
 * config resolve against its folder. Throws ConfigError listing every problem found.
 */
export async function parseConfig(text: string, file: string): Promise<Config> {
  const source = resolve(file);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const ctx = new Ctx(file, dirname(source), doc, lines);

  if (doc.errors.length > 0) {
    for (const e of doc.errors) ctx.report(e.pos[0], '', `YAML syntax: ${e.message}`);
    fail(ctx);
  }
  const top = ctx.deref(doc.contents);
  if (top === null || (isScalar(top) && top.value === null)) {
    ctx.report(0, '', 'the config file is empty: it needs at least a targets list (see config/example.yaml)');
    fail(ctx);
  }
  const map = readMapping(ctx, top, '', ROOT, 'a mapping of sections (scan, dns, trust, state, server, revocation, alerting, targets, policies)');
  if (!map) fail(ctx);
  const { fields } = map;

  const { targets, groups } = readTargets(ctx, fields.get('targets'), top);
  const config: Config = {
    source,
    scan: readScan(ctx, fields.get('scan')),
    dns: readDns(ctx, fields.get('dns')),
    trust: readTrust(ctx, fields.get('trust')),
    state: readState(ctx, fields.get('state')),
    server: readServer(ctx, fields.get('server')),
    revocation: readRevocation(ctx, fields.get('revocation')),
    alerting: readAlerting(ctx, fields.get('alerting')),
    targets,
    policies: readPolicies(ctx, fields.get('policies'), groups),
  };
  await readPendingFiles(ctx);
  if (ctx.issues.length > 0) fail(ctx);
  return config;
}

/** Reads and validates a config file. Throws ConfigError (also for an unreadable file). */
export async function loadConfig(file: string): Promise<Config> {
  const unreadable = (message: string): ConfigError => new ConfigError([{ file, line: 1, column: 1, key: '', message }]);
  let text: string;
  try {
    const info = await stat(file);
    if (info.isDirectory()) throw unreadable('is a directory; give the path of the YAML config file');
    if (info.size > MAX_CONFIG_BYTES) throw unreadable(`is ${info.size} bytes; a config file this large is not a config file`);
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw unreadable(
      code === 'ENOENT'
        ? 'cannot read the config file: no such file'
        : code === 'EACCES' || code === 'EPERM'
          ? 'cannot read the config file: permission denied'
          : `cannot read the config file: ${(err as Error).message}`,
    );
  }
  return parseConfig(text.replace(/^\uFEFF/, ''), file);
}
