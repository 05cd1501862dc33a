// IP literals are told apart without node:net for names and IPv4 (so checking a config loads
// none of it); the answers must be node's own.
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { test } from 'node:test';
import fc from 'fast-check';
import { ipLiteral, splitHostPort } from '../../src/config/net.js';
import { FUZZ } from '../support/fuzz.js';

const SPELLINGS = [
  '127.0.0.1',
  '0.0.0.0',
  '255.255.255.255',
  '256.1.1.1',
  '01.2.3.4',
  '1.2.3',
  '1.2.3.4.5',
  '1.2.3.4 ',
  '1..2.3',
  '::',
  '::1',
  '2001:db8::1',
  'fe80::1%eth0',
  '::ffff:10.1.2.3',
  '1:2:3:4:5:6:7:8',
  '1:2:3:4:5:6:7:8:9',
  'a:b',
  ':::',
  'fleet.contoso.test',
  '',
];

test('ipLiteral says what node:net says, bracketed or not', () => {
  for (const text of SPELLINGS) {
    const want = isIP(text) === 0 ? null : text;
    assert.equal(ipLiteral(text), want, text);
    assert.equal(ipLiteral(`[${text}]`), want, `[${text}]`);
  }
  fc.assert(
    fc.property(fc.stringMatching(/^[0-9a-fA-F.:%g]{0,24}$/), (text) => {
      assert.equal(ipLiteral(text), isIP(text) === 0 ? null : text);
    }),
    FUZZ,
  );
});

test('splitHostPort keeps a bare IPv6 address whole and splits host:port', () => {
  assert.deepEqual(splitHostPort('2001:db8::1'), { host: '2001:db8::1', port: null });
  assert.deepEqual(splitHostPort('[2001:db8::1]:53'), { host: '2001:db8::1', port: 53 });
  assert.deepEqual(splitHostPort('0.0.0.0:9862'), { host: '0.0.0.0', port: 9862 });
  assert.equal(splitHostPort('[fleet.contoso.test]:53'), null);
});
