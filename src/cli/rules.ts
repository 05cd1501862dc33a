import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/types.js';
import { packageRoot } from '../daemon/version.js';
import { generateRuleFile } from '../output/prometheus-rules.js';

/** Where the generic rules ship: the same file an operator copies from deploy/prometheus. */
export function genericRulesPath(): string {
  return join(packageRoot() ?? process.cwd(), 'deploy', 'prometheus', 'chainwatch.rules.yml');
}

/** `chainwatch rules`: the rule file for this config's policies on stdout. */
export async function rulesCommand(config: Config): Promise<number> {
  const path = genericRulesPath();
  let generic: string;
  try {
    generic = await readFile(path, 'utf8');
  } catch (err) {
    process.stderr.write(
      `chainwatch rules: cannot read the generic rules at ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); they ship in the chainwatch package under deploy/prometheus: reinstall it\n`,
    );
    return 2;
  }
  process.stdout.write(generateRuleFile(config, generic));
  return 0;
}
