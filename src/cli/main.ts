#!/usr/bin/env node
// The command line: flags come from the usage table, and each command imports what it needs only
// once it runs, so `check-config` does not load the daemon, the prober or the HTTP client.

import { parseArgs } from 'node:util';
import { ConfigError } from '../config/errors.js';
import { COMMANDS, type CommandSpec, commandHelp, commandSpec, HELP_FLAG, overview, UsageError } from './usage.js';

interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

type Runner = (p: Parsed) => Promise<number>;

const RUNNERS: Record<string, Runner> = {
  async run({ values }) {
    const { createLogger, LOG_LEVELS, parseLogLevel } = await import('../log/logger.js');
    const raw = values['log-level'] as string | undefined;
    const level = raw === undefined ? undefined : parseLogLevel(raw);
    if (level === null) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, not '${raw}'`, 'run');
    const { shardFromArgs } = await import('./shard.js');
    const shard = shardFromArgs(values.shard as string | undefined, 'run');
    const { runDaemon } = await import('../daemon/daemon.js');
    const webConfigFile = values['web.config.file'] as string | undefined;
    return runDaemon(values.config as string, { log: createLogger({ level }), shard, ...(webConfigFile === undefined ? {} : { webConfigFile }) });
  },

  async scan({ values }) {
    const format = (values.format as string | undefined) ?? (process.stdout.isTTY ? 'table' : 'json');
    if (format !== 'table' && format !== 'json') throw new UsageError(`--format must be table or json, not '${format}'`, 'scan');
    const { shardFromArgs } = await import('./shard.js');
    const shard = shardFromArgs(values.shard as string | undefined, 'scan');
    const { loadConfig } = await import('../config/load.js');
    const config = await loadConfig(values.config as string);
    const { scanCommand } = await import('./scan.js');
    return scanCommand(config, { format, targets: (values.target as string[] | undefined) ?? [], save: values.save === true, shard });
  },

  async 'check-config'({ values }) {
    // The shard planner (and the hashing it needs) only for --shards.
    const shardPlan = values.shards === undefined ? undefined : await import('./shard.js');
    const shards = shardPlan?.parseShardCount(values.shards as string);
    const { loadConfig } = await import('../config/load.js');
    const { summarizeConfig } = await import('../config/summary.js');
    const config = await loadConfig(values.config as string);
    process.stdout.write(`${summarizeConfig(config)}\n`);
    if (shardPlan && shards !== undefined) process.stdout.write(`${shardPlan.formatShardPlan(config, shards)}\n`);
    return 0;
  },

  async healthcheck({ values }) {
    const { healthcheckCommand } = await import('./healthcheck.js');
    return healthcheckCommand(values.config as string, values['web.config.file'] as string | undefined);
  },

  async rules({ values }) {
    const { loadConfig } = await import('../config/load.js');
    const { rulesCommand } = await import('./rules.js');
    return rulesCommand(await loadConfig(values.config as string));
  },

  async 'import-topology'({ positionals, values }) {
    const ports = (values.ports as string | undefined) ?? 'default';
    if (ports !== 'default' && ports !== 'all') {
      throw new UsageError(`--ports must be default (one port per certificate and server) or all (every TLS port), not '${ports}'`, 'import-topology');
    }
    const { importTopologyFile, TopologyError } = await import('../topology/index.js');
    try {
      process.stdout.write(await importTopologyFile(positionals[0]!, { ports }));
      return 0;
    } catch (err) {
      if (!(err instanceof TopologyError)) throw err;
      process.stderr.write(`chainwatch import-topology: ${err.message}\n`);
      return 2;
    }
  },

  async demo({ values }) {
    const { startDemo } = await import('../demo/demo.js');
    let demo: Awaited<ReturnType<typeof startDemo>>;
    try {
      demo = await startDemo({
        listen: values.listen as string | undefined,
        ipPrefix: values['ip-prefix'] as string | undefined,
        dir: values.dir as string | undefined,
        schedule: values.schedule as string | undefined,
      });
    } catch (err) {
      process.stderr.write(`chainwatch demo: ${(err as Error).message}\n`);
      return 1;
    }
    await demo.stopped;
    return 0;
  },

  async help({ positionals }) {
    const name = positionals[0];
    if (name === undefined) {
      process.stdout.write(overview());
      return 0;
    }
    process.stdout.write(commandHelp(knownCommand(name)));
    return 0;
  },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) throw new UsageError(`a command is needed: ${COMMANDS.map((c) => c.name).join(', ')}`);
  if (name === '--help' || name === '-h') return RUNNERS.help!({ values: {}, positionals: [] });
  if (name === '--version' || name === '-v') {
    const { chainwatchVersion } = await import('../daemon/version.js');
    process.stdout.write(`chainwatch ${chainwatchVersion()}\n`);
    return 0;
  }
  const command = knownCommand(name);
  const parsed = parse(command, rest);
  if (parsed.values.help === true) {
    process.stdout.write(commandHelp(command));
    return 0;
  }
  return RUNNERS[command.name]!(parsed);
}

function knownCommand(name: string): CommandSpec {
  const command = commandSpec(name);
  if (command) return command;
  const hint = name.startsWith('-') ? ' (flags go after the command)' : '';
  throw new UsageError(`unknown command '${name}'${hint}; the commands are ${COMMANDS.map((c) => c.name).join(', ')}`);
}

/** Flags and positionals of one command, checked against its entry in the usage table. */
function parse(command: CommandSpec, args: string[]): Parsed {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const f of [...command.flags, HELP_FLAG]) {
    options[f.name] = { type: f.value ? 'string' : 'boolean', ...(f.short ? { short: f.short } : {}), ...(f.multiple ? { multiple: true } : {}) };
  }
  let parsed: Parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true }) as Parsed;
  } catch (err) {
    // node:util's messages end in advice about '--' that does not apply here.
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''), command.name);
  }
  if (parsed.values.help === true) return parsed;
  const max = command.positionals ?? 0;
  if (parsed.positionals.length > max) {
    throw new UsageError(`unexpected argument '${parsed.positionals[max]}'`, command.name);
  }
  if (command.args && max > 0 && !command.args.startsWith('[') && parsed.positionals.length < max) {
    throw new UsageError(`${command.args} is required`, command.name);
  }
  for (const f of command.flags) {
    if (f.required && (parsed.values[f.name] === undefined || parsed.values[f.name] === '')) {
      throw new UsageError(`--${f.name} ${f.value} is required`, command.name);
    }
  }
  return parsed;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 2;
    } else if (err instanceof UsageError) {
      const help = err.command ? `chainwatch ${err.command} --help` : 'chainwatch help';
      process.stderr.write(`chainwatch${err.command ? ` ${err.command}` : ''}: ${err.message} (see '${help}')\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`chainwatch: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 3;
    }
  },
);
