#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/errors.js';
import { StateLockedError } from '../fleet/state-lock.js';
import { loadConfig } from '../config/load.js';
import { summarizeConfig } from '../config/summary.js';
import { runDaemon } from '../daemon/daemon.js';
import { createLogger, LOG_LEVELS, parseLogLevel } from '../log/logger.js';
import { chainwatchVersion } from '../daemon/version.js';
import { demoMain } from '../demo/demo.js';
import { importTopologyFile, TopologyError } from '../topology/index.js';
import { healthcheckCommand } from './healthcheck.js';
import { scanCommand } from './scan.js';
import { formatShardPlan, parseShardCount, shardFromArgs } from './shard.js';
import { USAGE, UsageError } from './usage.js';

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`chainwatch ${chainwatchVersion()}\n`);
    return 0;
  }
  switch (command) {
    case 'scan': {
      const { values } = parse(rest, {
        config: { type: 'string', short: 'c' },
        format: { type: 'string', short: 'f' },
        target: { type: 'string', short: 't', multiple: true },
        save: { type: 'boolean' },
        shard: { type: 'string' },
      });
      const format = values.format ?? (process.stdout.isTTY ? 'table' : 'json');
      if (format !== 'table' && format !== 'json') throw new UsageError(`--format must be table or json, not '${format}'`);
      const config = await loadConfig(requireConfig(values.config));
      const shard = shardFromArgs(values.shard);
      return scanCommand(config, { format, targets: values.target ?? [], save: values.save ?? false, shard });
    }
    case 'check-config': {
      const { values } = parse(rest, { config: { type: 'string', short: 'c' }, shards: { type: 'string' } });
      const shards = values.shards === undefined ? undefined : parseShardCount(values.shards);
      const config = await loadConfig(requireConfig(values.config));
      process.stdout.write(summarizeConfig(config) + '\n');
      if (shards !== undefined) process.stdout.write(formatShardPlan(config, shards) + '\n');
      return 0;
    }
    case 'run': {
      const { values } = parse(rest, { config: { type: 'string', short: 'c' }, 'log-level': { type: 'string' }, shard: { type: 'string' } });
      const shard = shardFromArgs(values.shard);
      const level = values['log-level'] === undefined ? undefined : parseLogLevel(values['log-level']);
      if (level === null) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
      return runDaemon(requireConfig(values.config), { log: createLogger({ level }), shard });
    }
    case 'healthcheck': {
      const { values } = parse(rest, { config: { type: 'string', short: 'c' } });
      return healthcheckCommand(requireConfig(values.config));
    }
    case 'demo':
      return demoMain(rest);
    case 'import-topology': {
      const { positionals } = parseArgs({ args: rest, options: {}, allowPositionals: true, strict: true });
      if (positionals.length !== 1) throw new UsageError('import-topology takes exactly one file: the output of (Get-CsTopology -AsXml).ToString()');
      try {
        process.stdout.write(await importTopologyFile(positionals[0]!));
        return 0;
      } catch (err) {
        if (!(err instanceof TopologyError)) throw err;
        process.stderr.write(`chainwatch import-topology: ${err.message}\n`);
        return 2;
      }
    }
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

function parse<O extends Options>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function requireConfig(path: string | undefined): string {
  if (!path) throw new UsageError('--config FILE is required');
  return path;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 2;
    } else if (err instanceof StateLockedError) {
      process.stderr.write(`chainwatch: ${err.message}\n`);
      process.exitCode = 2;
    } else if (err instanceof UsageError) {
      process.stderr.write(`chainwatch: ${err.message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`chainwatch: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 3;
    }
  },
);
