import { once } from 'node:events';
import type { Config } from '../config/types.js';
import { BaselineStore } from '../fleet/baseline-store.js';
import { StateLockedError } from '../fleet/state-lock.js';
import { createLogger } from '../log/logger.js';
import { jsonPieces } from '../output/json-pieces.js';
import { buildReport, hasFindings } from '../output/report.js';
import { formatTable } from '../output/table.js';
import { runScan } from '../pipeline/scan.js';
import { type Shard, shardConfig } from '../targets/shard.js';
import { pathExists } from '../util/fs.js';
import { UsageError } from './usage.js';

export interface ScanCommandOptions {
  format: 'table' | 'json';
  targets: string[];
  save: boolean;
  /** Scan exactly what this shard of `chainwatch run --shard` would. */
  shard?: Shard;
}

/** `chainwatch scan`: one pass of the pipeline, the report on stdout. Returns the exit code. */
export async function scanCommand(whole: Config, opts: ScanCommandOptions): Promise<number> {
  const known = new Set(whole.targets.map((t) => t.name));
  const unknown = opts.targets.filter((t) => !known.has(t));
  if (unknown.length > 0) {
    throw new UsageError(`no target named ${unknown.join(', ')} in ${whole.source} (known: ${[...known].join(', ')})`, 'scan');
  }
  const config = opts.shard ? shardConfig(whole, opts.shard).config : whole;
  const elsewhere = opts.targets.filter((t) => !config.targets.some((c) => c.name === t));
  if (elsewhere.length > 0)
    throw new UsageError(
      `not on shard ${opts.shard!.index}/${opts.shard!.count} (see check-config --shards ${opts.shard!.count}): ${elsewhere.join(', ')}`,
      'scan',
    );
  // Logs go to stderr so that stdout carries only the report.
  const log = createLogger({ sink: process.stderr, format: process.stderr.isTTY ? 'pretty' : 'json', level: 'warn' });
  // Without --save the baseline is only read, so a scan beside the running daemon neither waits
  // for its lock nor disturbs its files.
  let baseline: BaselineStore | undefined;
  try {
    baseline = opts.save
      ? await BaselineStore.open(config.state.path, log)
      : (await pathExists(config.state.path))
        ? await BaselineStore.open(config.state.path, log, { readOnly: true })
        : undefined;
  } catch (err) {
    if (!(err instanceof StateLockedError)) throw err;
    process.stderr.write(`chainwatch scan: cannot --save: ${err.message}\n`);
    return 2;
  }
  const showProgress = process.stderr.isTTY === true;
  const scan = await runScan(config, {
    baseline,
    targetNames: opts.targets,
    probesIn: 'auto',
    onInternalError: (endpoint, err) =>
      log.error('internal error while scanning an endpoint; please report this', {
        target: endpoint.target,
        address: endpoint.address,
        stack: err instanceof Error ? err.stack : String(err),
      }),
    onProgress: showProgress ? (done, total) => process.stderr.write(`\rscanning: ${done}/${total} endpoints`) : undefined,
  });
  if (showProgress) process.stderr.write('\r\x1b[K');
  if (opts.save && baseline) {
    await baseline.save();
    await baseline.close();
  }
  const report = buildReport(scan);
  if (opts.format === 'json') await writePieces(process.stdout, jsonPieces(report, 'targets', 2));
  else process.stdout.write(formatTable(report));
  return hasFindings(report) ? 1 : 0;
}

/** Writes piece by piece, waiting whenever a pipe on stdout is full. */
async function writePieces(out: NodeJS.WritableStream, pieces: Iterable<Buffer>): Promise<void> {
  for (const piece of pieces) if (!out.write(piece)) await once(out, 'drain');
}
