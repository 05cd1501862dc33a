import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareAddresses, distinctAddresses, ipBytes } from '../../src/targets/address.js';

test('ipBytes reads every IPv6 spelling to the same 16 bytes', () => {
  const want = '20010db8000000000000000000000001';
  for (const spelling of ['2001:db8::1', '2001:0db8:0:0:0:0:0:1', '2001:DB8::0:1', '2001:db8:0::0:1']) assert.equal(ipBytes(spelling)?.toString('hex'), want, spelling);
  assert.equal(ipBytes('::ffff:10.1.2.3')?.toString('hex'), '00000000000000000000ffff0a010203');
  assert.equal(ipBytes('::')?.toString('hex'), '0'.repeat(32));
  assert.equal(ipBytes('fe80::1%eth0')?.toString('hex'), 'fe800000000000000000000000000001');
  assert.equal(ipBytes('10.1.2.3')?.toString('hex'), '0a010203');
  assert.equal(ipBytes('pool01.test'), null);
  assert.equal(ipBytes('10.1.2.256'), null);
});

test('addresses sort IPv4 first, then numerically (not as text)', () => {
  const sorted = ['fd00::10', '10.0.0.10', '::1', '10.0.0.9', 'fd00::9', '9.255.0.1'].sort(compareAddresses);
  assert.deepEqual(sorted, ['9.255.0.1', '10.0.0.9', '10.0.0.10', '::1', 'fd00::9', 'fd00::10']);
});

test('distinctAddresses drops the same address spelled twice, keeping the first spelling', () => {
  assert.deepEqual(distinctAddresses(['2001:db8::1', '10.0.0.1', '2001:0DB8::0001', '10.0.0.1']), ['2001:db8::1', '10.0.0.1']);
});
