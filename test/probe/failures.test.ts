import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ConnectFacts, describeBytes, describeConnectFailure, describeTlsFailure, seconds, type TlsFacts, tlsReason } from '../../src/probe/failures.js';

const connect: ConnectFacts = { peer: '10.1.2.3:5061', timeoutMs: 10_000, interruption: null, errorCode: null, errorMessage: null };

const tls: TlsFacts = {
  peer: '10.1.2.3:5061',
  sni: 'pool01.contoso.local',
  timeoutMs: 10_000,
  ending: 'error',
  bytesReceived: 0,
  firstBytes: Buffer.alloc(0),
  flight: null,
  errorCode: null,
  errorMessage: null,
  alert: null,
};

describe('failure messages', () => {
  it('maps connect-time errno codes to kinds', () => {
    const kind = (errorCode: string): string => describeConnectFailure({ ...connect, errorCode }).kind;
    assert.deepEqual(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ECONNRESET', 'ETIMEDOUT', 'ERR_SOCKET_BAD_PORT'].map(kind), [
      'refused',
      'unreachable',
      'unreachable',
      'unreachable',
      'reset',
      'timeout',
      'unreachable',
    ]);
    assert.equal(describeConnectFailure({ ...connect, interruption: 'timeout' }).kind, 'timeout');
    assert.equal(describeConnectFailure({ ...connect, interruption: 'cancelled' }).kind, 'cancelled');
  });

  it('says what to check, naming the peer and the deadline', () => {
    assert.deepEqual(describeConnectFailure({ ...connect, errorCode: 'EHOSTUNREACH' }), {
      kind: 'unreachable',
      message: 'cannot reach 10.1.2.3:5061 (EHOSTUNREACH) — check routing, VPN and that the address is right',
    });
    assert.deepEqual(describeConnectFailure({ ...connect, interruption: 'timeout' }), {
      kind: 'timeout',
      message: 'no TCP connection to 10.1.2.3:5061 within 10s — host down, or a firewall dropping packets?',
    });
    assert.deepEqual(describeTlsFailure({ ...tls, ending: 'timeout' }), {
      kind: 'timeout',
      message: 'no TLS handshake within 10s (TCP connected to 10.1.2.3:5061, server sent nothing) — a firewall, or a service that does not speak TLS?',
    });
    assert.match(
      describeTlsFailure({ ...tls, ending: 'timeout', bytesReceived: 700 }).message,
      /stalled: the server sent 700 bytes but no complete certificate within 10s/,
    );
    assert.match(describeTlsFailure({ ...tls, ending: 'timeout', bytesReceived: null }).message, /never completed its part/);
    assert.deepEqual(describeTlsFailure({ ...tls, ending: 'cancelled' }).kind, 'cancelled');
  });

  it('after the TCP connection: reset, silent close, TLS errors, a flood', () => {
    assert.equal(describeTlsFailure({ ...tls, errorCode: 'ECONNRESET', bytesReceived: 90 }).kind, 'reset');
    assert.match(describeTlsFailure({ ...tls, ending: 'closed' }).message, /without answering our TLS ClientHello .*SNI \(pool01\.contoso\.local\)/);
    const ssl = describeTlsFailure({
      ...tls,
      bytesReceived: 100,
      errorCode: 'ERR_SSL_WRONG_VERSION_NUMBER',
      errorMessage: 'C0:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:354:',
    });
    assert.deepEqual(ssl, { kind: 'handshake', message: 'TLS handshake with 10.1.2.3:5061 failed before a certificate arrived: wrong version number' });
    assert.deepEqual(describeTlsFailure({ ...tls, alert: 112 }), {
      kind: 'handshake',
      message:
        '10.1.2.3:5061 ended the TLS handshake with alert unrecognized_name before sending a certificate — the server does not know the name we sent as SNI — check host/sni for this target',
    });
    assert.match(
      describeTlsFailure({ ...tls, ending: 'overflow', bytesReceived: 400_000 }).message,
      /kept sending handshake data without a certificate \(400000 bytes\)/,
    );
  });

  it('renders what a non-TLS peer said, text or binary, bounded', () => {
    assert.equal(describeBytes(Buffer.from('220 mail.contoso.local ESMTP\r\n')), '"220 mail.contoso.local ESMTP"');
    assert.equal(describeBytes(Buffer.from('x'.repeat(100))), `"${'x'.repeat(48)}…"`);
    assert.equal(describeBytes(Buffer.from('00ff00ff', 'hex')), 'binary data (00ff00ff)');
    assert.match(describeBytes(Buffer.alloc(40, 1)), /^binary data \((01){16}…\)$/);
  });

  it('small helpers', () => {
    assert.deepEqual([seconds(10_000), seconds(1500), seconds(800)], ['10s', '1.5s', '0.8s']);
    assert.equal(tlsReason('no colons here'), 'no colons here');
  });
});
