// The file descriptors HTTP may use. Node has no setrlimit, so the soft RLIMIT_NOFILE cannot be
// raised from here: the systemd unit sets LimitNOFILE, and the daemon caps concurrent HTTP
// connections below the limit it runs with, keeping room for probes, DNS, revocation fetches,
// alert pushes and state saves whatever the HTTP side does.
import { readFileSync } from 'node:fs';

export interface OpenFileLimit {
  soft: number;
  hard: number;
}

/** Reads "Max open files" from /proc/self/limits text; null when absent or unlimited. */
export function parseOpenFileLimit(limits: string): OpenFileLimit | null {
  const m = /^Max open files\s+(\d+)\s+(\d+|unlimited)/m.exec(limits);
  if (m === null) return null;
  return { soft: Number(m[1]), hard: m[2] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[2]) };
}

/** This process's limit; null where /proc is not there (not Linux). */
export function openFileLimit(): OpenFileLimit | null {
  try {
    return parseOpenFileLimit(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return null;
  }
}

// Node itself, the log, the state files, the config watcher and the listening socket.
const BASE_RESERVE = 128;
const FLOOR = 16;
const UNKNOWN_LIMIT_CAP = 1024;

/** Concurrent HTTP connections allowed: the soft limit minus two fds per probe in flight and a reserve. */
export function httpConnectionCap(limit: OpenFileLimit | null, scanConcurrency: number): number {
  if (limit === null) return UNKNOWN_LIMIT_CAP;
  return Math.max(FLOOR, limit.soft - 2 * scanConcurrency - BASE_RESERVE);
}
