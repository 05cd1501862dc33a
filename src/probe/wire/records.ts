import { MAX_RECORD_FRAGMENT, WireError } from './limits.js';

export const CONTENT_CHANGE_CIPHER_SPEC = 20;
export const CONTENT_ALERT = 21;
export const CONTENT_HANDSHAKE = 22;
export const CONTENT_APPLICATION_DATA = 23;

export interface TlsRecord {
  type: number;
  /** The 5-byte record header; TLS 1.3 uses it as the AEAD additional data. */
  header: Buffer;
  fragment: Buffer;
}

/**
 * True when `bytes` can be the start of a TLS record stream sent by a server: a known content
 * type and protocol major version 3. Used to tell a TLS peer from a plain-text or binary service.
 */
export function looksLikeTls(bytes: Buffer): boolean {
  if (bytes.length === 0) return true;
  const type = bytes[0]!;
  if (type < CONTENT_CHANGE_CIPHER_SPEC || type > CONTENT_APPLICATION_DATA) return false;
  if (bytes.length >= 2 && bytes[1] !== 3) return false;
  if (bytes.length >= 3 && bytes[2]! > 4) return false;
  if (bytes.length >= 5 && bytes.readUInt16BE(3) > MAX_RECORD_FRAGMENT) return false;
  return true;
}

/**
 * Splits a captured byte stream into whole records, in order. A trailing partial record is
 * left out (the capture simply ended there); a malformed header is an error.
 */
export function* readRecords(bytes: Buffer): Generator<TlsRecord> {
  let offset = 0;
  while (bytes.length - offset >= 5) {
    const type = bytes[offset]!;
    const length = bytes.readUInt16BE(offset + 3);
    if (type < CONTENT_CHANGE_CIPHER_SPEC || type > CONTENT_APPLICATION_DATA || bytes[offset + 1] !== 3) {
      throw new WireError(`malformed TLS record header at byte ${offset}`);
    }
    if (length > MAX_RECORD_FRAGMENT) throw new WireError(`TLS record of ${length} bytes exceeds the protocol limit`);
    if (bytes.length - offset - 5 < length) return;
    yield {
      type,
      header: bytes.subarray(offset, offset + 5),
      fragment: bytes.subarray(offset + 5, offset + 5 + length),
    };
    offset += 5 + length;
  }
}
