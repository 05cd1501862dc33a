// Every command and flag, as data: the argument parser, `chainwatch help`, `COMMAND --help` and
// the README's command reference are all built from this table, so none can drift from another.

/** A mistake on the command line: one line on stderr, exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The command whose --help the message points to; none for the top level. */
    readonly command?: string,
  ) {
    super(message);
  }
}

export interface FlagSpec {
  name: string;
  short?: string;
  /** Placeholder for the value; a flag without one is a switch. */
  value?: string;
  multiple?: boolean;
  required?: boolean;
  description: string;
}

export interface CommandSpec {
  name: string;
  /** Positional arguments as shown in the synopsis, e.g. `FILE.xml`. */
  args?: string;
  /** How many positional arguments it takes (default 0). */
  positionals?: number;
  summary: string;
  flags: FlagSpec[];
  /** Exit codes besides 0, in words. */
  exits: string;
}

const CONFIG: FlagSpec = { name: 'config', short: 'c', value: 'FILE', required: true, description: 'the YAML config file' };
const SHARD: FlagSpec = {
  name: 'shard',
  value: 'I/N|auto/N',
  description: 'scan only shard I of N (0-based; auto takes I from a StatefulSet pod name NAME-I in HOSTNAME); also CHAINWATCH_SHARD',
};
export const HELP_FLAG: FlagSpec = { name: 'help', short: 'h', description: 'print this help and exit' };

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'run',
    summary: 'run the daemon: scans on schedule, /metrics, status page, alerts',
    flags: [
      CONFIG,
      { name: 'log-level', value: 'LEVEL', description: 'debug, info, warn or error (default info); logs are JSON lines on stdout' },
      SHARD,
      { name: 'web.config.file', value: 'FILE', description: 'web configuration file (TLS, basic auth, headers); overrides server.web_config_file' },
    ],
    exits: '0 after SIGTERM or SIGINT; 2 bad config at start, state.path in use by another chainwatch, or bad usage',
  },
  {
    name: 'scan',
    summary: 'scan once now and print the report',
    flags: [
      CONFIG,
      { name: 'format', short: 'f', value: 'table|json', description: 'report format (default table on a terminal, json otherwise)' },
      { name: 'target', short: 't', value: 'NAME', multiple: true, description: 'scan only this target' },
      { name: 'save', description: 'record the chains seen in the baseline (state.path), as the daemon does' },
      { name: 'shard', value: 'I/N', description: 'scan exactly the targets shard I of N of the daemon scans (also CHAINWATCH_SHARD)' },
    ],
    exits: '1 findings (divergence, failed probe or any problem); 2 bad config or usage',
  },
  {
    name: 'check-config',
    summary: 'validate a config and summarise it',
    flags: [CONFIG, { name: 'shards', value: 'N', description: 'also print how N shards would split the targets and policies' }],
    exits: '2 invalid config or bad usage',
  },
  {
    name: 'rules',
    summary: "print the Prometheus rule file for the config's policies plus the generic rules",
    flags: [CONFIG],
    exits: '2 bad config or usage',
  },
  {
    name: 'healthcheck',
    summary: "ask /healthz of the daemon on the config's server.listen (for container health checks)",
    flags: [
      CONFIG,
      { name: 'web.config.file', value: 'FILE', description: 'the web configuration file the daemon was started with, if given on its command line' },
    ],
    exits: '1 the daemon did not answer 200; 2 bad usage',
  },
  {
    name: 'import-topology',
    args: 'FILE.xml',
    positionals: 1,
    summary: 'turn a Lync topology export ((Get-CsTopology -AsXml).ToString()) into a config on stdout',
    flags: [{ name: 'ports', value: 'default|all', description: 'default: one port per certificate and server; all: every TLS port as its own target' }],
    exits: '2 unreadable input or bad usage',
  },
  {
    name: 'demo',
    summary: 'run a simulated Lync fleet on loopback with the daemon against it',
    flags: [
      { name: 'listen', value: 'HOST:PORT', description: "the daemon's listen address (default 127.0.0.1:9862, or a free port when that is taken)" },
      { name: 'ip-prefix', value: '127.X.Y', description: 'three octets in 127/8 for the fleet and its DNS server (default 127.0.0)' },
      { name: 'dir', value: 'DIR', description: 'keep the PKI, config and state in DIR instead of a temporary folder removed on exit' },
      { name: 'schedule', value: 'CRON', description: 'scan schedule of the demo daemon (default every minute)' },
    ],
    exits: '1 the demo could not start; 2 bad usage',
  },
  {
    name: 'help',
    args: '[COMMAND]',
    positionals: 1,
    summary: 'print this overview, or the help of one command',
    flags: [],
    exits: '2 unknown command',
  },
];

export function commandSpec(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

function flagText(f: FlagSpec): string {
  return `--${f.name}${f.value ? ` ${f.value}` : ''}`;
}

function synopsis(c: CommandSpec): string {
  const flags = c.flags.map((f) => {
    const t = flagText(f) + (f.multiple ? '...' : '');
    return f.required ? t : `[${t}]`;
  });
  return ['chainwatch', c.name, ...(c.args ? [c.args] : []), ...flags].join(' ');
}

/** `chainwatch help`: every command in one screen. */
export function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = [
    'chainwatch — watches the TLS certificate chains of a fleet',
    '',
    'Usage: chainwatch COMMAND [FLAGS]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "Run 'chainwatch COMMAND --help' for a command's flags; 'chainwatch --version' prints the version.",
    'Exit codes: 0 fine; 1 a scan found something; 2 bad config or usage; 3 an internal error (a bug: please report it).',
    '',
  ];
  return lines.join('\n');
}

/** `chainwatch COMMAND --help`. */
export function commandHelp(c: CommandSpec): string {
  const flags = [...c.flags, HELP_FLAG];
  const width = Math.max(...flags.map((f) => (f.short ? `-${f.short}, ` : '    ').length + flagText(f).length));
  const lines = [
    `Usage: ${synopsis(c)}`,
    '',
    `${c.summary[0]!.toUpperCase()}${c.summary.slice(1)}.`,
    '',
    'Flags:',
    ...flags.map((f) => `  ${`${f.short ? `-${f.short}, ` : '    '}${flagText(f)}`.padEnd(width)}  ${f.description}${f.multiple ? ' (repeatable)' : ''}`),
    '',
    `Exit codes: ${c.exits}.`,
    '',
  ];
  return lines.join('\n');
}

/** The command reference for the README: every command with every flag. */
export function usageMarkdown(): string {
  const out: string[] = [];
  for (const c of COMMANDS) {
    out.push(
      `### \`chainwatch ${c.name}${c.args ? ` ${c.args}` : ''}\``,
      '',
      `${c.summary[0]!.toUpperCase()}${c.summary.slice(1)}. Exit codes: ${c.exits}.`,
      '',
    );
    if (c.flags.length > 0) {
      out.push('| flag | what it does |', '|---|---|');
      for (const f of c.flags) {
        const name = `${f.short ? `\`-${f.short}\`, ` : ''}\`${flagText(f)}\``;
        const what = `${f.required ? 'required; ' : ''}${f.description}${f.multiple ? ' (repeatable)' : ''}`;
        out.push(`| ${name} | ${what.replace(/\|/g, '\\|')} |`);
      }
      out.push('');
    }
  }
  out.push('Every command also takes `-h`, `--help`.');
  return out.join('\n');
}
