// `npm run docs`: rewrites the documentation generated from the code (the options tables in
// README.md and docs/config.md, docs/config.schema.json). Tests fail when a committed file
// differs from what this would write, so the docs cannot drift from the code.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { usageMarkdown } from '../../src/cli/usage.js';
import { optionsMarkdown } from '../../src/config/options.js';
import { configSchema } from '../../src/config/schema.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const BEGIN = '<!-- options table: generated from src/config/options.ts by `npm run docs` -->';
const END = '<!-- end of options table -->';

/** Replaces the marked block of a Markdown file with `block`. */
function between(current: string, block: string, file: string): string {
  const start = current.indexOf(BEGIN);
  const end = current.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${file} has no generated options table markers`);
  return `${current.slice(0, start + BEGIN.length)}\n${block}\n${current.slice(end)}`;
}

/** The README's command reference, rendered from the command line's usage table. */
function commands(current: string): string {
  const begin = '<!-- commands:start -->';
  const end = '<!-- commands:end -->';
  const start = current.indexOf(begin);
  const stop = current.indexOf(end);
  if (start < 0 || stop < start) throw new Error('README.md has no generated command reference markers');
  return `${current.slice(0, start + begin.length)}\n${usageMarkdown()}\n${current.slice(stop)}`;
}

export interface GeneratedDoc {
  /** Relative to the repository root. */
  path: string;
  render(current: string): string;
}

export const GENERATED_DOCS: readonly GeneratedDoc[] = [
  { path: 'README.md', render: (current) => commands(between(current, optionsMarkdown(), 'README.md')) },
  { path: 'docs/config.md', render: (current) => between(current, optionsMarkdown(), 'docs/config.md') },
  { path: 'docs/config.schema.json', render: () => `${JSON.stringify(configSchema(), null, 2)}\n` },
];

export function readDoc(path: string): string {
  try {
    return readFileSync(`${ROOT}/${path}`, 'utf8');
  } catch {
    return '';
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const doc of GENERATED_DOCS) {
    const current = readDoc(doc.path);
    const next = doc.render(current);
    if (next !== current) {
      writeFileSync(`${ROOT}/${doc.path}`, next);
      console.log(`wrote ${doc.path}`);
    }
  }
}
