// Helpers for config tests: a scratch folder per test and real PEM files made by openssl.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigError } from '../../src/config/errors.js';
import { parseConfig } from '../../src/config/load.js';

export interface Scratch {
  dir: string;
  write(rel: string, text: string): string;
  /** A self-signed certificate and its key at the given paths (relative to dir). */
  certAndKey(certRel: string, keyRel: string, cn?: string): void;
  cleanup(): void;
}

export function scratch(): Scratch {
  const dir = mkdtempSync(join(tmpdir(), 'chainwatch-config-'));
  const write = (rel: string, text: string): string => {
    const path = join(dir, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    return path;
  };
  return {
    dir,
    write,
    certAndKey(certRel, keyRel, cn = 'chainwatch-test') {
      for (const rel of [certRel, keyRel]) mkdirSync(dirname(join(dir, rel)), { recursive: true });
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-nodes',
          '-subj',
          `/CN=${cn}`,
          '-days',
          '2',
          '-keyout',
          join(dir, keyRel),
          '-out',
          join(dir, certRel),
        ],
        { stdio: 'ignore' },
      );
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The ConfigError a config text produces; fails the test when it is accepted. */
export async function configError(text: string, file = 'cfg.yaml'): Promise<ConfigError> {
  try {
    await parseConfig(text, file);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('config was accepted but should have been refused');
}

/** Minimal valid target list, to append to configs that test other sections. */
export const ONE_TARGET = 'targets:\n  - name: t1\n    group: g\n    host: h.example.test\n';
