// Where a scan's connections are made: a one-shot scan probes a small fleet itself and starts
// probe processes only when several would share the work; the daemon always starts them.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { runScan, type ScanOptions } from '../../src/pipeline/scan.js';
import { closedPort } from '../helpers/servers.js';

/** The processes this one has started and that still run. */
async function children(): Promise<number[]> {
  const text = await readFile(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8');
  return text.trim().split(/\s+/).filter(Boolean).map(Number);
}

async function fleet(size: number): Promise<string> {
  const { port } = await closedPort();
  const targets = Array.from({ length: size }, (_, i) => `  - {name: e${i}, group: g, host: e${i}.contoso.test, address: 127.0.0.1, port: ${port}}`);
  return `scan:\n  concurrency: 8\n  probe_processes: 2\n  timeout: 2s\ntargets:\n${targets.join('\n')}\n`;
}

/** Scans, looking at this process's children when the first result comes in. */
async function childrenDuringScan(size: number, probesIn: ScanOptions['probesIn']): Promise<number> {
  const config = await parseConfig(await fleet(size), join(process.cwd(), 'chainwatch.yaml'));
  let seen: Promise<number[]> | null = null;
  const result = await runScan(config, {
    probesIn,
    onProgress: () => {
      seen ??= children();
    },
  });
  assert.equal(result.endpoints.length, size);
  assert.ok(result.endpoints.every((r) => r.probe.error?.kind === 'refused'));
  return (await seen!).length;
}

describe('where a scan probes', () => {
  it("'auto' probes a fleet that one probe process would serve in this process", async () => {
    assert.equal(await childrenDuringScan(20, 'auto'), 0);
  });

  it("'auto' starts probe processes when several would share the fleet", async () => {
    assert.equal(await childrenDuringScan(300, 'auto'), 2);
  });

  it("'processes' starts one even for a small fleet", async () => {
    assert.equal(await childrenDuringScan(20, 'processes'), 1);
  });
});
