import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeBytes, describeFailure, peerOf, seconds, tlsReason, type FailureFacts } from '../../src/probe/failures.js';
import { endpointFor } from './endpoint.js';

const base: FailureFacts = {
  peer: '10.1.2.3:5061',
  sni: 'pool01.contoso.local',
  timeoutMs: 10_000,
  ending: 'error',
  tcpConnected: false,
  bytesReceived: 0,
  firstBytes: Buffer.alloc(0),
  flight: null,
  errorCode: null,
  errorMessage: null,
  alert: null,
};

describe('failure messages', () => {
  it('maps connect-time errno codes to kinds', () => {
    const kind = (errorCode: string, ending: FailureFacts['ending'] = 'error'): string => describeFailure({ ...base, errorCode, ending }).kind;
    assert.deepEqual(
      ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'ECONNRESET', 'ETIMEDOUT'].map((c) => kind(c)),
      ['refused', 'unreachable', 'unreachable', 'unreachable', 'dns', 'reset', 'timeout'],
    );
    assert.equal(kind('', 'timeout'), 'timeout');
  });

  it('says what to check, naming the peer and the deadline', () => {
    assert.deepEqual(describeFailure({ ...base, errorCode: 'EHOSTUNREACH' }), {
      kind: 'unreachable',
      message: 'cannot reach 10.1.2.3:5061 (EHOSTUNREACH) — check routing, VPN and that the address is right',
    });
    assert.deepEqual(describeFailure({ ...base, ending: 'timeout' }), {
      kind: 'timeout',
      message: 'no TCP connection to 10.1.2.3:5061 within 10s — host down, or a firewall dropping packets?',
    });
    assert.deepEqual(describeFailure({ ...base, ending: 'timeout', tcpConnected: true }), {
      kind: 'timeout',
      message: 'no TLS handshake within 10s (TCP connected to 10.1.2.3:5061, server sent nothing) — a firewall, or a service that does not speak TLS?',
    });
    assert.match(describeFailure({ ...base, ending: 'timeout', tcpConnected: true, bytesReceived: 700 }).message, /stalled: the server sent 700 bytes but no complete certificate within 10s/);
    assert.match(describeFailure({ ...base, ending: 'timeout', tcpConnected: true, bytesReceived: null }).message, /never completed its part/);
    assert.match(describeFailure({ ...base, ending: 'cancelled' }).message, /cancelled/);
  });

  it('after the TCP connection: reset, silent close, TLS errors', () => {
    const connected = { ...base, tcpConnected: true };
    assert.equal(describeFailure({ ...connected, errorCode: 'ECONNRESET', bytesReceived: 90 }).kind, 'reset');
    assert.match(describeFailure({ ...connected, ending: 'closed' }).message, /without answering our TLS ClientHello .*SNI \(pool01\.contoso\.local\)/);
    const ssl = describeFailure({
      ...connected, bytesReceived: 100, errorCode: 'ERR_SSL_WRONG_VERSION_NUMBER',
      errorMessage: 'C0:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:354:',
    });
    assert.deepEqual(ssl, { kind: 'handshake', message: 'TLS handshake with 10.1.2.3:5061 failed before a certificate arrived: wrong version number' });
    assert.deepEqual(describeFailure({ ...connected, alert: 112 }), {
      kind: 'handshake',
      message: '10.1.2.3:5061 ended the TLS handshake with alert unrecognized_name before sending a certificate — the server does not know the name we sent as SNI — check host/sni for this target',
    });
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
    assert.equal(peerOf(endpointFor({ host: '2001:db8::1', port: 443 })), '[2001:db8::1]:443');
    assert.equal(peerOf(endpointFor({ host: '10.1.2.3', port: 5061 })), '10.1.2.3:5061');
  });
});
