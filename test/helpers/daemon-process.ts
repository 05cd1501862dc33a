// Runs chainwatch as a child process (as operators do) and lets a test wait on its log lines,
// scrape its HTTP endpoints and signal it. Every process started here is killed by killAll().
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));

export interface LogRecord {
  time?: string;
  level?: string;
  msg?: string;
  [field: string]: unknown;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ChainwatchProcess {
  proc: ChildProcess;
  records: LogRecord[];
  /** Lines on stdout that are not JSON log records (banners). */
  text: string[];
  stderr(): string;
  exited: Promise<Exit>;
  waitForLog(pred: (r: LogRecord) => boolean, what: string, timeoutMs?: number): Promise<LogRecord>;
  waitForText(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  count(pred: (r: LogRecord) => boolean): number;
}

const running = new Set<ChildProcess>();
const ENTRY = 'src/cli/main.ts';

export function spawnChainwatch(args: string[], env: Record<string, string> = {}): ChainwatchProcess {
  const proc = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'debug', ...env },
  });
  running.add(proc);
  const records: LogRecord[] = [];
  const text: string[] = [];
  let err = '';
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  let buf = '';
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (chunk: string) => {
    buf += chunk;
    for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        const rec = JSON.parse(line) as unknown;
        if (rec && typeof rec === 'object' && !Array.isArray(rec)) records.push(rec as LogRecord);
        else text.push(line);
      } catch {
        text.push(line);
      }
    }
    wake();
  });
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (c: string) => {
    err += c;
  });
  const exited = new Promise<Exit>((resolve) => {
    proc.on('exit', (code, signal) => {
      running.delete(proc);
      resolve({ code, signal });
      wake();
    });
  });
  let dead = false;
  void exited.then(() => (dead = true));

  function waitUntil<T>(check: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const attempt = () => {
        const v = check();
        if (v !== undefined) {
          done();
          resolve(v);
        } else if (dead) {
          done();
          reject(new Error(`chainwatch exited before: ${what}\nstderr:\n${err}\nlog:\n${tail()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for: ${what}\nstderr:\n${err}\nlog:\n${tail()}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(attempt);
      };
      waiters.add(attempt);
      attempt();
    });
  }
  const tail = () =>
    records
      .slice(-25)
      .map((r) => JSON.stringify(r))
      .concat(text.slice(-10))
      .join('\n');

  return {
    proc,
    records,
    text,
    stderr: () => err,
    exited,
    count: (pred) => records.filter(pred).length,
    waitForLog: (pred, what, timeoutMs = 30_000) => waitUntil(() => records.find(pred), what, timeoutMs),
    waitForText: (re, timeoutMs = 30_000) =>
      waitUntil(
        () => {
          for (const t of text) {
            const m = re.exec(t);
            if (m) return m;
          }
          return undefined;
        },
        String(re),
        timeoutMs,
      ),
  };
}

export function killAll(): void {
  for (const p of running) p.kill('SIGKILL');
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus text exposition (what the tests need of it: samples with labels). */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparseable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    const body = m[3] ?? '';
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g;
    for (const lm of body.matchAll(re)) labels[lm[1]!] = lm[2]!.replace(/\\n/g, '\n').replace(/\\(.)/g, '$1');
    out.push({ name: m[1]!, labels, value: Number(m[4]) });
  }
  return out;
}

export function select(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The single value of a series; fails when it is missing or ambiguous. */
export function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = select(samples, name, labels);
  if (found.length !== 1) throw new Error(`expected one ${name}${JSON.stringify(labels)}, found ${found.length}`);
  return found[0]!.value;
}

export async function scrape(baseUrl: string): Promise<Sample[]> {
  const res = await fetch(`${baseUrl}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return parseExposition(await res.text());
}

/** Retries `fn` until it stops throwing, for state that converges (a reload, the next scan). */
export async function eventually<T>(fn: () => Promise<T>, what: string, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}: ${(last as Error)?.message ?? last}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
