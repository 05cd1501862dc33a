import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import type { ServedEndpoint } from '../../src/demo/servers.js';
import { runScan } from '../../src/pipeline/scan.js';
import { SlowEndpoints } from '../../src/pipeline/slow-first.js';
import type { ProbeResult } from '../../src/probe/types.js';
import { serveAcceptLog } from '../helpers/servers.js';
import { endpointFor } from '../probe/endpoint.js';

const servers: ServedEndpoint[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

const endpoint = (key: string) => endpointFor({ host: '127.0.0.1', port: 1 }, { key, target: key });
const probed = (key: string, durationMs: number): ProbeResult => ({
  endpoint: endpoint(key),
  startedAt: new Date(0),
  durationMs,
  presented: [],
  tls: null,
  stapledOcsp: null,
  error: durationMs >= 1000 ? { kind: 'timeout', message: 'timed out' } : null,
});

describe('SlowEndpoints', () => {
  it('names the endpoints that took half the timeout or more in the scan that last probed them', () => {
    const slow = new SlowEndpoints(1000);
    const fleet = ['a', 'b', 'c', 'd'].map(endpoint);
    assert.deepEqual(slow.first(fleet, 64), [], 'nothing is known before a first scan');
    slow.record([probed('a', 20), probed('b', 1000), probed('c', 500), probed('d', 499)]);
    assert.deepEqual(slow.first(fleet, 64), [1, 2]);
    // A scan of some targets only leaves what is known of the others.
    slow.record([probed('b', 30)]);
    assert.deepEqual(slow.first(fleet, 64), [2]);
    assert.deepEqual(slow.first([endpoint('x'), ...fleet], 64), [3], 'indices into the list it is given');
  });

  it('starts none first when they would not all fit in one wave with an eighth of the connections left', () => {
    const slow = new SlowEndpoints(1000);
    const fleet = Array.from({ length: 100 }, (_, i) => endpoint(`e${i}`));
    slow.record(fleet.slice(0, 56).map((e) => probed(e.key, 1000)));
    assert.equal(slow.first(fleet, 64).length, 56, '64 connections: 56 may wait, 8 go on');
    assert.deepEqual(slow.first(fleet, 63), [], '63 connections leave only 7 when 56 wait');
    assert.deepEqual(slow.first(fleet, 1), [], 'one connection cannot both wait and go on');
  });
});

describe('a scan after one that met a black hole', () => {
  it('starts the black hole first', async () => {
    const log: string[] = [];
    const quick = await Promise.all(Array.from({ length: 8 }, (_, i) => serveAcceptLog(`q${i}`, log, { silent: false })));
    const hole = await serveAcceptLog('hole', log, { silent: true });
    servers.push(...quick, hole);
    const dir = await mkdtemp(join(tmpdir(), 'chainwatch-slow-'));
    try {
      const target = (name: string, port: number) => `  - {name: ${name}, group: fleet, host: ${name}.contoso.test, address: 127.0.0.1, port: ${port}}\n`;
      const config = await parseConfig(
        // Slow is half the timeout: 1 s, which a quick endpoint does not reach even on a busy machine.
        `scan:\n  timeout: 2s\n  concurrency: 2\ntargets:\n${quick.map((s, i) => target(`q${i}`, s.port)).join('')}${target('hole', hole.port)}`,
        join(dir, 'chainwatch.yaml'),
      );
      await runScan(config);
      // Two connections at a time: in config order the hole starts only once seven probes ended.
      assert.ok(log.indexOf('hole') >= 6, `the first scan goes in config order: ${log.join(', ')}`);
      log.length = 0;
      const second = await runScan(config);
      // It starts beside the first quick one; on a busy machine one or two of those may connect first.
      assert.ok(log.indexOf('hole') <= 2, `the second scan starts the hole at once: ${log.join(', ')}`);
      assert.deepEqual(
        second.endpoints.map((r) => r.probe.endpoint.target),
        [...quick.map((_, i) => `q${i}`), 'hole'],
        'the results keep config order',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
