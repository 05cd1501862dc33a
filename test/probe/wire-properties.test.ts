// Property-based fuzzing (fast-check) of the TLS record and handshake readers and the LDAP BER
// reader: whatever a server sends, they return or throw their own error type, never anything
// that would escape the probe.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { PreludeRefused } from '../../src/probe/starttls/conversation.js';
import { ldapMessageLength, parseExtendedResponse, START_TLS_REQUEST } from '../../src/probe/starttls/ldap.js';
import { HandshakeAssembler, parseCertificateMessage, parseServerHello } from '../../src/probe/wire/handshake.js';
import { MAX_CERTIFICATES, WireError } from '../../src/probe/wire/limits.js';
import { readRecords } from '../../src/probe/wire/records.js';
import { readServerFlight } from '../../src/probe/wire/server-flight.js';
import { FUZZ, mutated, randomBytes } from '../support/fuzz.js';
import { fakeCerts, handshake, tls12Flight, tls13Flight, u24 } from './wire-builders.js';

/** Runs `read`; an exception other than `allowed` fails the property. */
function onlyThrows(allowed: new (...args: never[]) => Error, read: () => unknown): boolean {
  try {
    read();
  } catch (err) {
    if (!(err instanceof allowed)) throw err;
  }
  return true;
}

const tls12 = [tls12Flight({ certs: fakeCerts(3, 600) }), tls12Flight({ certs: fakeCerts(2, 3000), recordSize: 700, requestCert: true, alert: 40 })];
const tls13 = tls13Flight({ suite: 0x1301, certs: fakeCerts(3, 500), requestCert: true, recordSize: 400 });
const flights = fc.oneof(randomBytes, ...tls12.map(mutated), mutated(tls13.bytes));

describe('TLS readers under arbitrary input (fast-check)', () => {
  it('readServerFlight never throws, and what it reads stays within the limits', () => {
    fc.assert(
      fc.property(flights, fc.boolean(), fc.boolean(), (bytes, withSecret, untilCertificate) => {
        const f = readServerFlight(bytes, { handshake: withSecret ? tls13.handshakeSecret : null }, untilCertificate);
        if (f.certificates) {
          assert.ok(f.certificates.length <= MAX_CERTIFICATES);
          assert.ok(f.certificates.reduce((n, c) => n + c.length, 0) <= bytes.length);
        }
        assert.ok(f.error === null || typeof f.error === 'string');
        assert.ok(!f.oversized || f.error !== null);
      }),
      FUZZ,
    );
  });

  it('the record splitter and the message parsers only throw WireError', () => {
    const hello = handshake(2, Buffer.alloc(70, 1)).subarray(4);
    const cert = handshake(11, Buffer.concat([u24(10), u24(7), Buffer.alloc(7, 2)])).subarray(4);
    fc.assert(
      fc.property(
        fc.oneof(randomBytes, mutated(hello), mutated(cert), ...tls12.map(mutated)),
        (bytes) =>
          onlyThrows(WireError, () => [...readRecords(bytes)]) &&
          onlyThrows(WireError, () => parseServerHello(bytes)) &&
          onlyThrows(WireError, () => parseCertificateMessage(bytes, false)) &&
          onlyThrows(WireError, () => parseCertificateMessage(bytes, true)) &&
          onlyThrows(WireError, () => new HandshakeAssembler(64 * 1024).push(bytes)),
      ),
      FUZZ,
    );
  });
});

describe('the LDAP BER reader under arbitrary input (fast-check)', () => {
  const success = Buffer.from('300c02010178070a010004000400', 'hex');
  it('only ever throws PreludeRefused', () => {
    fc.assert(
      fc.property(fc.oneof(randomBytes, mutated(success), mutated(START_TLS_REQUEST)), (bytes) =>
        onlyThrows(PreludeRefused, () => {
          const n = ldapMessageLength(bytes);
          if (n > 0) parseExtendedResponse(bytes.subarray(0, n));
        }),
      ),
      FUZZ,
    );
    assert.deepEqual(parseExtendedResponse(success), { resultCode: 0, diagnostic: '' });
  });
});
