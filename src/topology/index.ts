// `chainwatch import-topology`: a Lync topology export → the text of a chainwatch config.
import { readFile, stat } from 'node:fs/promises';
import { TopologyError } from './model.js';
import { MAX_TOPOLOGY_CHARS, parseTopology } from './parse.js';
import { type PortsMode, planTopology } from './plan.js';
import { renderConfig } from './render.js';

export { TopologyError } from './model.js';
export { MAX_TOPOLOGY_CHARS, parseTopology } from './parse.js';
export { type PortsMode, planTopology } from './plan.js';

export interface ImportOptions {
  /** Names the input in messages and in the generated header (e.g. the file path). */
  sourceName?: string;
  /** default: one port per certificate and server; all: every TLS port. */
  ports?: PortsMode;
}

/**
 * `(Get-CsTopology -AsXml).ToString()` → YAML text of a complete, commented config that
 * loads with the config loader. Throws TopologyError naming the input and what is wrong.
 */
export function importTopology(xml: string, opts: ImportOptions = {}): string {
  const source = opts.sourceName ?? 'the topology';
  const topology = parseTopology(xml, source);
  let plan: ReturnType<typeof planTopology>;
  try {
    plan = planTopology(topology, { ports: opts.ports ?? 'default' });
  } catch (err) {
    if (err instanceof TopologyError) throw new TopologyError(`${source}: ${err.message}`);
    throw err;
  }
  return renderConfig(plan, source);
}

/**
 * File bytes → text. Windows PowerShell's `>` and Out-File write UTF-16 with a byte order mark,
 * so that is the common case for a topology copied off a Lync server, next to UTF-8.
 */
export function decodeTopology(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  return new TextDecoder('utf-8').decode(bytes).replace(/^\uFEFF/, '');
}

/** Reads, decodes and imports a topology file; every failure is a TopologyError naming the file. */
export async function importTopologyFile(path: string, opts: Omit<ImportOptions, 'sourceName'> = {}): Promise<string> {
  let bytes: Uint8Array;
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw new TopologyError(`${path}: is a directory; give the path of the topology XML file`);
    // UTF-16 doubles the size of the same text.
    if (info.size > 2 * MAX_TOPOLOGY_CHARS)
      throw new TopologyError(`${path}: is ${info.size} bytes; a Lync topology export is a few megabytes at most. Is this the right file?`);
    bytes = await readFile(path);
  } catch (err) {
    if (err instanceof TopologyError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (err as Error).message;
    throw new TopologyError(`${path}: cannot read the topology file: ${why}`);
  }
  return importTopology(decodeTopology(bytes), { ...opts, sourceName: path });
}
