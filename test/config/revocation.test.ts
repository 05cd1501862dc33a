// The revocation section: defaults, sizes written as operators write them, and errors that point
// at the key at fault.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { formatSize, parseSize } from '../../src/config/size.js';
import { configError, ONE_TARGET } from './support.js';

test('defaults: on, 1h refresh, 10s timeout, 20MB CRLs, 24h stale warning, OCSP', async () => {
  const c = await parseConfig(ONE_TARGET, '/srv/chainwatch/c.yaml');
  assert.deepEqual(c.revocation, {
    enabled: true,
    refreshMs: 3_600_000,
    timeoutMs: 10_000,
    maxCrlBytes: 20 * 1024 * 1024,
    staleWarningMs: 86_400_000,
    ocsp: true,
  });
});

test('every key is read', async () => {
  const c = await parseConfig(
    `revocation:\n  enabled: false\n  refresh: 15m\n  timeout: 2.5s\n  max_crl_size: 512KiB\n  stale_warning: 3d\n  ocsp: false\n${ONE_TARGET}`,
    '/srv/c.yaml',
  );
  assert.deepEqual(c.revocation, { enabled: false, refreshMs: 900_000, timeoutMs: 2500, maxCrlBytes: 512 * 1024, staleWarningMs: 3 * 86_400_000, ocsp: false });
});

test('sizes: units B, KB, MB, GB (1024-based), KiB alike; anything else is not a size', () => {
  assert.equal(parseSize('20MB'), 20 * 1024 * 1024);
  assert.equal(parseSize('1.5 kb'), 1536);
  assert.equal(parseSize('100B'), 100);
  assert.equal(parseSize('1GiB'), 1024 ** 3);
  for (const bad of ['20', 'MB', '20 TB', '-1MB', '20MBs']) assert.equal(parseSize(bad), null, bad);
  assert.equal(formatSize(20 * 1024 * 1024), '20MB');
  assert.equal(formatSize(1000), '1000B');
});

test('a size without a unit, out of range or misspelt, and an unknown key, each name file:line:column and key', async () => {
  const err = await configError(`revocation:\n  max_crl_size: 20\n  timeout: 0s\n  stale_warnin: 1h\n${ONE_TARGET}`);
  const text = err.message;
  assert.match(text, /cfg\.yaml:2:17: revocation\.max_crl_size: 20 has no unit — write a size such as '20MB'/);
  assert.match(text, /cfg\.yaml:3:12: revocation\.timeout: must be greater than zero/);
  assert.match(text, /cfg\.yaml:4:3: revocation\.stale_warnin: .*stale_warning/);
  const big = await configError(`revocation:\n  max_crl_size: 2GB\n${ONE_TARGET}`);
  assert.match(big.message, /revocation\.max_crl_size: '2GB' is out of range: give more than 0 and at most 1GB/);
});
