// Shared by the benchmarks: the TLS server child, the concurrent loops, and robust statistics.
import { fork } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { type CertificateAuthority, createIntermediateCa, createRootCa, type IssuedCert, issueLeaf } from '../../src/demo/pki.js';

export const BENCH_HOST = 'bench.contoso.test';

/** The realistic chain the benchmark server presents: an RSA-2048 leaf and its issuing CA. */
export async function benchPki(): Promise<{ root: CertificateAuthority; intermediate: CertificateAuthority; leaf: IssuedCert }> {
  const root = await createRootCa({ commonName: 'Bench Root CA' });
  const intermediate = await createIntermediateCa(root, { commonName: 'Bench Issuing CA' });
  const leaf = await issueLeaf(intermediate, { commonName: BENCH_HOST, dnsNames: [BENCH_HOST], freshKey: true });
  return { root, intermediate, leaf };
}

export interface ServerSetup {
  key: string;
  cert: string;
  maxVersion: tls.SecureVersion;
}

export async function startBenchServer(setup: ServerSetup): Promise<{ port: number; stop: () => void }> {
  const script = fileURLToPath(new URL('./tls-server.ts', import.meta.url));
  const child = fork(script, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve(m as number));
    child.once('exit', (code) => reject(new Error(`benchmark server exited with ${code}`)));
    child.send(setup);
  });
  return { port, stop: () => child.kill() };
}

export type Once = (done: (err?: Error) => void) => void;

export interface LoopResult {
  /** Completed operations per second. */
  rate: number;
  /** Client CPU (user + system) per completed operation, µs. */
  cpuUs: number;
  errors: number;
  firstError: Error | null;
}

/** Runs `once` with `concurrency` in flight until `ms` have passed or `count` have started. */
export function loop(once: Once, concurrency: number, limit: { ms?: number; count?: number }): Promise<LoopResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    const cpu0 = process.cpuUsage();
    const end = started + (limit.ms ?? Infinity);
    const maxStarts = limit.count ?? Infinity;
    let starts = 0;
    let active = 0;
    let completed = 0;
    let errors = 0;
    let firstError: Error | null = null;
    const next = (): void => {
      while (active < concurrency && starts < maxStarts && performance.now() < end) {
        active++;
        starts++;
        once((err) => {
          active--;
          if (err) {
            errors++;
            firstError ??= err;
          } else completed++;
          next();
        });
      }
      if (active === 0) {
        const cpu = process.cpuUsage(cpu0);
        resolve({
          rate: completed / ((performance.now() - started) / 1000),
          cpuUs: (cpu.user + cpu.system) / Math.max(1, completed),
          errors,
          firstError,
        });
      }
    };
    next();
  });
}

export function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

export function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median of per-round ratios a[i] / b[i]: both variants of a round ran under the same load. */
export function pairedRatio(a: number[], b: number[]): number {
  return median(a.map((x, i) => x / b[i]!));
}

/** A process's resident memory from /proc, in MB: now (VmRSS) or its peak (VmHWM); 0 when it is gone. */
export async function procRssMb(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) / 1024;
}

/** Summed RSS of a process's children (the daemon's probe process during a scan), in MB. */
export async function childrenRssMb(pid: number): Promise<number> {
  const kids = (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '')).trim().split(/\s+/).filter(Boolean);
  let mb = 0;
  for (const kid of kids) mb += await procRssMb(Number(kid));
  return mb;
}
