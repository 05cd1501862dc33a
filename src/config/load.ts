// Config file → validated Config: the text becomes a tree of positioned nodes (quick reader or
// full YAML parser), which the section readers turn into a Config or a list of every problem.
import { dirname, resolve } from 'node:path';
import { FileRefused, readRegularFile } from '../util/fs.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { readPendingFiles } from './files.js';
import { readMapping } from './mapping.js';
import { ROOT } from './options.js';
import { Ctx } from './reader.js';
import { readAlerting } from './sections/alerting.js';
import { readDns, readRevocation, readScan, readServer, readState, readTrust } from './sections/general.js';
import { readPolicies } from './sections/policies.js';
import { readTargets } from './sections/targets.js';
import { isScalar } from './tree.js';
import type { Config } from './types.js';
import { readYamlSubset } from './yaml-subset.js';

/** Far above any real fleet (10,000 targets are about 1 MB). */
export const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

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
  const ctx = new Ctx(file, dirname(source), text);
  // Most configs are plain YAML that the quick reader takes; the full parser reads the rest.
  const tree = readYamlSubset(text) ?? (await import('./yaml-full.js')).readYamlFull(text);
  if ('problems' in tree) {
    for (const p of tree.problems) ctx.report(p.offset, p.key, p.message);
    fail(ctx);
  }
  const top = tree.root;
  if (top === null || (isScalar(top) && top.value === null)) {
    ctx.report(0, '', 'the config file is empty: it needs at least a targets list (see config/example.yaml)');
    fail(ctx);
  }
  const map = readMapping(ctx, top, '', ROOT, 'a mapping of sections (scan, dns, trust, state, server, revocation, alerting, targets, policies)');
  if (!map) fail(ctx);
  const { fields } = map;

  const targetsRead = readTargets(ctx, fields.get('targets'), top);
  const config: Config = {
    source,
    scan: readScan(ctx, fields.get('scan')),
    dns: readDns(ctx, fields.get('dns')),
    trust: readTrust(ctx, fields.get('trust')),
    state: readState(ctx, fields.get('state')),
    server: readServer(ctx, fields.get('server')),
    revocation: readRevocation(ctx, fields.get('revocation')),
    alerting: readAlerting(ctx, fields.get('alerting')),
    targets: targetsRead.targets,
    policies: readPolicies(ctx, fields.get('policies'), targetsRead),
  };
  await readPendingFiles(ctx);
  if (ctx.issues.length > 0) fail(ctx);
  return config;
}

/** Decodes config bytes: UTF-8, or UTF-16 with a byte order mark (Windows editors). Null for binary data. */
function decode(bytes: Buffer): string | null {
  try {
    if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le', { fatal: true }).decode(bytes.subarray(2));
    if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be', { fatal: true }).decode(bytes.subarray(2));
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
    return text.includes('\u0000') ? null : text;
  } catch {
    return null;
  }
}

/** A config file's text and bytes. Throws ConfigError. */
async function readConfigText(file: string): Promise<{ text: string; bytes: Buffer }> {
  const unreadable = (message: string): ConfigError => new ConfigError([{ file, line: 1, column: 1, key: '', message }]);
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(file, MAX_CONFIG_BYTES);
  } catch (err) {
    if (!(err instanceof FileRefused)) throw err;
    switch (err.code) {
      case 'directory':
        throw unreadable('is a directory; give the path of the YAML config file');
      case 'not_a_file':
        throw unreadable(`${err.reason}; give the path of the YAML config file`);
      case 'too_large':
        throw unreadable(`${err.reason}; a config file this large is not a config file`);
      default:
        throw unreadable(`cannot read the config file: ${err.reason}`);
    }
  }
  const text = decode(bytes);
  if (text === null) throw unreadable('is not a text file (it holds binary data); give the path of the YAML config file');
  return { text, bytes };
}

/** A config file's text and the SHA-256 of its bytes (to tell whether it changed). Throws ConfigError. */
export async function readConfigFile(file: string): Promise<{ text: string; sha256: string }> {
  const { text, bytes } = await readConfigText(file);
  // node:crypto only here: the commands that read a config once never hash it.
  return { text, sha256: process.getBuiltinModule('node:crypto').createHash('sha256').update(bytes).digest('hex') };
}

/** Reads and validates a config file. Throws ConfigError (also for a file that cannot be used). */
export async function loadConfig(file: string): Promise<Config> {
  return parseConfig((await readConfigText(file)).text, file);
}
