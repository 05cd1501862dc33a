// Config problems are collected, not thrown one by one: an operator fixing a file wants every
// mistake in one run, each pointing at the exact spot in their YAML.

export interface ConfigIssue {
  /** The config file as the operator named it. */
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** Path of the key at fault, e.g. `targets[2] (pool01-sip).port`; empty for YAML syntax errors. */
  key: string;
  message: string;
}

export function formatIssue(issue: ConfigIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.column}`;
  return issue.key ? `${where}: ${issue.key}: ${issue.message}` : `${where}: ${issue.message}`;
}

export class ConfigError extends Error {
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}
