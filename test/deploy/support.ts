// Shared by the deploy/ tests: where the files are, the metrics and labels they must respect,
// and the plumbing to run Debian's real Prometheus tools and servers on loopback.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DEPLOY = join(ROOT, 'deploy');
export const deployPath = (...parts: string[]): string => join(DEPLOY, ...parts);
export const readDeploy = (...parts: string[]): string => readFileSync(deployPath(...parts), 'utf8');

const ENDPOINT = ['target', 'group', 'address'];
const POSITION = [...ENDPOINT, 'position'];
const CERT = [...POSITION, 'subject', 'issuer', 'serial', 'sha256'];

/**
 * Every metric the daemon exports with its labels: the documented table (docs/metrics.md) plus the
 * daemon's additions (skipped scans, alert deliveries, reload time). A rule or panel that names
 * anything else is a typo that would silently match nothing.
 */
export const METRICS: Readonly<Record<string, readonly string[]>> = {
  chainwatch_probe_success: ENDPOINT,
  chainwatch_probe_duration_seconds: ENDPOINT,
  chainwatch_probe_error_info: [...ENDPOINT, 'kind'],
  chainwatch_cert_not_after_timestamp_seconds: CERT,
  chainwatch_cert_not_before_timestamp_seconds: POSITION,
  chainwatch_chain_info: [...ENDPOINT, 'leaf_sha256', 'issuer_dn', 'issuer_key_id', 'root_dn'],
  chainwatch_chain_trusted: ENDPOINT,
  chainwatch_chain_hostname_match: ENDPOINT,
  chainwatch_chain_problem: [...ENDPOINT, 'problem'],
  chainwatch_tls_info: [...ENDPOINT, 'version', 'cipher'],
  chainwatch_cert_changes_total: ENDPOINT,
  chainwatch_cert_last_change_timestamp_seconds: ENDPOINT,
  chainwatch_policy_consistent: ['policy'],
  chainwatch_policy_issuers: ['policy'],
  chainwatch_policy_divergent_endpoints: ['policy'],
  chainwatch_policy_member_divergent: ['policy', ...ENDPOINT],
  chainwatch_policy_judged_locally: ['policy'],
  chainwatch_scans_total: [],
  chainwatch_scans_skipped_total: [],
  chainwatch_scan_duration_seconds_bucket: ['le'],
  chainwatch_scan_duration_seconds_sum: [],
  chainwatch_scan_duration_seconds_count: [],
  chainwatch_scan_last_completed_timestamp_seconds: [],
  chainwatch_config_last_reload_successful: [],
  chainwatch_config_last_reload_success_timestamp_seconds: [],
  chainwatch_targets: [],
  chainwatch_build_info: ['version'],
  chainwatch_alert_deliveries_total: ['receiver', 'result'],
  chainwatch_cert_revoked: POSITION,
  chainwatch_crl_fetch_success: ['url'],
  chainwatch_crl_next_update_timestamp_seconds: ['url'],
  chainwatch_crl_fetch_duration_seconds: ['url'],
  chainwatch_ocsp_response_status: ['url', 'status'],
  chainwatch_expiry_warning_seconds: [],
  chainwatch_expiry_critical_seconds: [],
};

/**
 * Target labels (targets[].labels in the config) ride on these series; the dashboard selects on
 * `site`, the label the Lync topology import writes.
 */
export const TARGET_LABELS = ['site'];
const WITH_TARGET_LABELS = new Set(['chainwatch_chain_info', 'chainwatch_policy_member_divergent']);

/** Labels Prometheus adds at scrape time, and those of its own ALERTS/up series. */
const PROMETHEUS_LABELS = ['instance', 'job', 'alertname', 'alertstate', 'le'];
/** Labels the rules themselves attach, which Alertmanager and the dashboard select on. */
export const RULE_LABELS = ['severity', 'judged_by', 'policy'];

export const KNOWN_LABELS: ReadonlySet<string> = new Set([...Object.values(METRICS).flat(), ...PROMETHEUS_LABELS, ...RULE_LABELS, ...TARGET_LABELS]);

export interface NameProblem {
  where: string;
  problem: string;
}

/**
 * Checks a PromQL expression or alert template for metric names and label names outside the
 * metric table: every `chainwatch_*` name, every label matcher on such a metric, every label in
 * by/without/on/ignoring/group_left/group_right lists, and every `$labels.x` / `label "x"`.
 */
export function checkNames(text: string, where: string): NameProblem[] {
  const problems: NameProblem[] = [];
  for (const m of text.matchAll(/\bchainwatch_[a-z0-9_]+/g)) {
    if (!(m[0] in METRICS)) problems.push({ where, problem: `unknown metric ${m[0]}` });
  }
  for (const m of text.matchAll(/\b(chainwatch_[a-z0-9_]+)\s*\{([^}]*)\}/g)) {
    const known = METRICS[m[1]!];
    if (known === undefined) continue; // already reported as an unknown metric
    const allowed = new Set([...known, 'instance', 'job', ...(WITH_TARGET_LABELS.has(m[1]!) ? TARGET_LABELS : [])]);
    for (const l of m[2]!.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)/g)) {
      if (!allowed.has(l[1]!)) problems.push({ where, problem: `metric ${m[1]} has no label ${l[1]}` });
    }
  }
  const lists = /\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g;
  for (const m of text.matchAll(lists)) {
    for (const name of m[1]!
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      if (!KNOWN_LABELS.has(name)) problems.push({ where, problem: `unknown label ${name} in a grouping` });
    }
  }
  for (const m of text.matchAll(/\$labels\.([A-Za-z0-9_]+)|\blabel\s+"([A-Za-z0-9_]+)"|\.Labels\.([A-Za-z0-9_]+)/g)) {
    const name = m[1] ?? m[2] ?? m[3]!;
    if (!KNOWN_LABELS.has(name)) problems.push({ where, problem: `unknown label ${name} in a template` });
  }
  return problems;
}

export const PROMETHEUS = '/usr/bin/prometheus';
export const PROMTOOL = '/usr/bin/promtool';
export const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';
export const AMTOOL = '/usr/bin/amtool';

export interface ToolRun {
  status: number | null;
  output: string;
}

/** Runs a command-line tool to completion; output is stdout and stderr together for messages. */
export function runTool(bin: string, args: string[], cwd: string): ToolRun {
  const r = spawnSync(bin, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A server process started by a test; stop() always ends it, escalating to SIGKILL. */
export class ServerProcess {
  private readonly child: ChildProcess;
  private log = '';
  private exited = false;
  private readonly exit: Promise<void>;

  constructor(bin: string, args: string[], cwd: string) {
    this.child = spawn(bin, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (b: Buffer) => {
      this.log = (this.log + b.toString('utf8')).slice(-20_000);
    };
    // Should the test runner die before stop(), the server must not outlive it.
    const killOnExit = () => this.child.kill('SIGKILL');
    process.once('exit', killOnExit);
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.exit = new Promise((resolve) => {
      this.child.once('exit', () => {
        process.removeListener('exit', killOnExit);
        this.exited = true;
        resolve();
      });
      this.child.once('error', (e) => {
        this.log += `\nspawn error: ${e.message}`;
        this.exited = true;
        resolve();
      });
    });
  }

  get output(): string {
    return this.log;
  }

  get running(): boolean {
    return !this.exited;
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await this.exit;
    clearTimeout(timer);
  }
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, explain: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}\n${explain()}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function getJson(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body };
}
