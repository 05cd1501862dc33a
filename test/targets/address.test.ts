import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareAddresses, distinctAddresses } from '../../src/targets/address.js';

test('addresses sort IPv4 first, then numerically (not as text)', () => {
  const sorted = ['fd00::10', '10.0.0.10', '::1', '10.0.0.9', 'fd00::9', '9.255.0.1'].sort(compareAddresses);
  assert.deepEqual(sorted, ['9.255.0.1', '10.0.0.9', '10.0.0.10', '::1', 'fd00::9', 'fd00::10']);
});

test('distinctAddresses drops the same address spelled twice, keeping the first spelling', () => {
  assert.deepEqual(distinctAddresses(['2001:db8::1', '10.0.0.1', '2001:0DB8::0001', '10.0.0.1']), ['2001:db8::1', '10.0.0.1']);
});
