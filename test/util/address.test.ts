import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatHostPort, ipBytes, sameIp } from '../../src/util/address.js';

test('ipBytes reads every IPv6 spelling to the same 16 bytes', () => {
  const want = '20010db8000000000000000000000001';
  for (const spelling of ['2001:db8::1', '2001:0db8:0:0:0:0:0:1', '2001:DB8::0:1', '2001:db8:0::0:1'])
    assert.equal(ipBytes(spelling)?.toString('hex'), want, spelling);
  assert.equal(ipBytes('::ffff:10.1.2.3')?.toString('hex'), '00000000000000000000ffff0a010203');
  assert.equal(ipBytes('::')?.toString('hex'), '0'.repeat(32));
  assert.equal(ipBytes('fe80::1%eth0')?.toString('hex'), 'fe800000000000000000000000000001');
  assert.equal(ipBytes('10.1.2.3')?.toString('hex'), '0a010203');
  assert.equal(ipBytes('pool01.test'), null);
  assert.equal(ipBytes('10.1.2.256'), null);
});

test('sameIp compares addresses, not spellings; names are never equal to addresses', () => {
  assert.equal(sameIp('2001:db8::1', '2001:0DB8:0:0::1'), true);
  assert.equal(sameIp('::ffff:10.1.2.3', '::ffff:a01:203'), true);
  assert.equal(sameIp(' 10.1.2.3', '10.1.2.3'), true);
  assert.equal(sameIp('10.1.2.3', '10.1.2.4'), false);
  assert.equal(sameIp('10.1.2.3', '::ffff:10.1.2.3'), false);
  assert.equal(sameIp('host.test', 'host.test'), false);
});

test('formatHostPort brackets IPv6 only', () => {
  assert.equal(formatHostPort('2001:db8::1', 443), '[2001:db8::1]:443');
  assert.equal(formatHostPort('10.1.2.3', 5061), '10.1.2.3:5061');
  assert.equal(formatHostPort('fe01.contoso.test', 443), 'fe01.contoso.test:443');
});
