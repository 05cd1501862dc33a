// The version comes from package.json, found by walking up from this module: the same code runs
// from src/ (tsx) and from dist/src/ (built), at different depths.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: { root: string; version: string } | null | undefined;

function findPackage(): { root: string; version: string } | null {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'chainwatch' && typeof pkg.version === 'string') {
        cached = { root: dir, version: pkg.version };
        return cached;
      }
    } catch {
      // not here; keep walking up
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  cached = null;
  return cached;
}

export function chainwatchVersion(): string {
  return findPackage()?.version ?? 'unknown';
}

/** The folder chainwatch is installed in (holding package.json and deploy/), or null if unknown. */
export function packageRoot(): string | null {
  return findPackage()?.root ?? null;
}
