// The fleet benchmark at a few dozen endpoints, so it never rots: nginx serving the fleet, the
// bare loop, `chainwatch scan` and `chainwatch run` (and blackbox_exporter when installed) all
// reach every live endpoint and none of the black holes; /metrics comes plain and gzipped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { haveFleetTools, runFleet } from '../bench/fleet-run.js';

test('fleet benchmark smoke: 40 endpoints on nginx, 2 black holes', async () => {
  const tools = haveFleetTools();
  assert.ok(tools.nginx, 'nginx is installed by the test set-up (test/support/system-deps.mjs)');
  const r = await runFleet({
    endpoints: 40,
    holes: 0.05,
    concurrency: 8,
    rounds: 1,
    timeoutMs: 1500,
    daemonScans: 2,
    daemonIdleMs: 3000,
    blackbox: tools.blackbox,
    entry: ['--import', 'tsx', 'src/cli/main.ts'],
  });
  assert.equal(r.holes, 2);
  assert.equal(r.ok.bare, 38);
  assert.equal(r.ok.scan, 38);
  if (tools.blackbox) assert.equal(r.ok.blackbox, 38);
  assert.equal(r.daemon.chainsOk, 38);
  assert.equal(r.daemon.scanSeconds.length, 2);
  assert.ok(r.daemon.rssMb > 0 && r.scanMaxRssMb > 0);
  assert.ok(r.daemon.idleRssMb > 0, 'the daemon is sampled between its scans');
  assert.ok(r.daemon.probeProcessPeakRssMb > 0, 'the daemon probes from a child process during each scan');
  assert.ok(r.daemon.metricsWorstGzipMs > 0, "Prometheus-like scrapes ran through the daemon's scans");
  assert.ok(r.daemon.metricsGzipBytes < r.daemon.metricsBytes / 3, `gzip ${r.daemon.metricsGzipBytes} B vs plain ${r.daemon.metricsBytes} B`);
});
