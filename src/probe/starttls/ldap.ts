// LDAP StartTLS (RFC 4511 §4.14): an ExtendedRequest with OID 1.3.6.1.4.1.1466.20037, answered
// by an ExtendedResponse whose resultCode 0 means the TLS handshake may begin.
import { type Conversation, PreludeRefused } from './conversation.js';

const START_TLS_OID = Buffer.from('1.3.6.1.4.1.1466.20037', 'latin1');
const TAG_SEQUENCE = 0x30;
const TAG_INTEGER = 0x02;
const TAG_ENUMERATED = 0x0a;
const TAG_OCTET_STRING = 0x04;
const TAG_EXTENDED_RESPONSE = 0x78; // [APPLICATION 24], constructed

/** LDAPMessage { messageID 1, ExtendedRequest { requestName [0] StartTLS OID } }. */
export const START_TLS_REQUEST = Buffer.concat([
  Buffer.from([TAG_SEQUENCE, 5 + 2 + START_TLS_OID.length, TAG_INTEGER, 1, 1, 0x77, 2 + START_TLS_OID.length, 0x80, START_TLS_OID.length]),
  START_TLS_OID,
]);

const RESULT_NAMES: Record<number, string> = {
  1: 'operationsError',
  2: 'protocolError',
  7: 'authMethodNotSupported',
  8: 'strongerAuthRequired',
  11: 'adminLimitExceeded',
  12: 'unavailableCriticalExtension',
  51: 'busy',
  52: 'unavailable',
  53: 'unwillingToPerform',
  80: 'other',
};

interface Tlv {
  tag: number;
  /** Offset of the contents. */
  start: number;
  /** Offset just past the contents. */
  end: number;
}

/** One BER element at `offset` (definite lengths only); null while incomplete. Throws on nonsense. */
function readTlv(buf: Buffer, offset: number, limit = buf.length): Tlv | null {
  if (limit - offset < 2) return null;
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new PreludeRefused('answered with a BER tag form LDAP never uses');
  let length = buf[offset + 1]!;
  let start = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 3) throw new PreludeRefused('answered with an LDAP message of impossible length');
    if (limit - start < count) return null;
    length = buf.readUIntBE(start, count);
    start += count;
  }
  if (limit - start < length) return null;
  return { tag, start, end: start + length };
}

/** Bytes of the first complete LDAPMessage in `received`; 0 while it is incomplete. */
export function ldapMessageLength(received: Buffer): number {
  if (received[0] !== TAG_SEQUENCE) throw new PreludeRefused('answered with something that is not an LDAP message');
  return readTlv(received, 0)?.end ?? 0;
}

/** The resultCode and diagnosticMessage of an ExtendedResponse message. */
export function parseExtendedResponse(message: Buffer): { resultCode: number; diagnostic: string } {
  const outer = readTlv(message, 0)!;
  const id = readTlv(message, outer.start, outer.end);
  if (id?.tag !== TAG_INTEGER) throw new PreludeRefused('answered with an LDAP message without a message id');
  const op = readTlv(message, id.end, outer.end);
  if (op?.tag !== TAG_EXTENDED_RESPONSE) {
    throw new PreludeRefused(`answered with LDAP operation tag 0x${(op?.tag ?? 0).toString(16)} instead of an ExtendedResponse`);
  }
  const code = readTlv(message, op.start, op.end);
  if (code?.tag !== TAG_ENUMERATED || code.end - code.start < 1 || code.end - code.start > 4) {
    throw new PreludeRefused('answered with an ExtendedResponse without a resultCode');
  }
  const matched = readTlv(message, code.end, op.end);
  const diagnostic = matched?.tag === TAG_OCTET_STRING ? readTlv(message, matched.end, op.end) : null;
  return {
    resultCode: message.readUIntBE(code.start, code.end - code.start),
    diagnostic: diagnostic?.tag === TAG_OCTET_STRING ? message.toString('utf8', diagnostic.start, diagnostic.end) : '',
  };
}

export async function ldap(c: Conversation): Promise<void> {
  c.send(START_TLS_REQUEST);
  const { resultCode, diagnostic } = parseExtendedResponse(await c.take(ldapMessageLength));
  if (resultCode === 0) return;
  const name = RESULT_NAMES[resultCode] ?? `result ${resultCode}`;
  throw new PreludeRefused(`answered StartTLS with ${name} (${resultCode})${diagnostic ? `: "${diagnostic.slice(0, 200)}"` : ''}`);
}
