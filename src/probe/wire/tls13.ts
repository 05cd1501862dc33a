import { createDecipheriv, createHmac } from 'node:crypto';
import { MAX_RECORD_FRAGMENT, WireError } from './limits.js';

// TLS 1.3 record protection (RFC 8446 §5.2) for reading the server's encrypted handshake with
// the traffic secret the TLS stack hands out through its key log.

interface SuiteParams {
  hash: 'sha256' | 'sha384';
  cipher: 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';
  keyLength: number;
}

const SUITES = new Map<number, SuiteParams>([
  [0x1301, { hash: 'sha256', cipher: 'aes-128-gcm', keyLength: 16 }],
  [0x1302, { hash: 'sha384', cipher: 'aes-256-gcm', keyLength: 32 }],
  [0x1303, { hash: 'sha256', cipher: 'chacha20-poly1305', keyLength: 32 }],
]);
const HASH_LENGTH = { sha256: 32, sha384: 48 } as const;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;

export function isSupportedTls13Suite(suite: number): boolean {
  return SUITES.has(suite);
}

/** HKDF-Expand (RFC 5869) with the TLS 1.3 HkdfLabel structure (RFC 8446 §7.1). */
export function hkdfExpandLabel(hash: 'sha256' | 'sha384', secret: Buffer, label: string, context: Buffer, length: number): Buffer {
  const fullLabel = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.alloc(2 + 1 + fullLabel.length + 1 + context.length);
  info.writeUInt16BE(length, 0);
  info[2] = fullLabel.length;
  fullLabel.copy(info, 3);
  info[3 + fullLabel.length] = context.length;
  context.copy(info, 4 + fullLabel.length);
  const blocks: Buffer[] = [];
  let previous = Buffer.alloc(0);
  for (let i = 1, have = 0; have < length; i++) {
    previous = createHmac(hash, secret).update(previous).update(info).update(Buffer.of(i)).digest();
    blocks.push(previous);
    have += previous.length;
  }
  return Buffer.concat(blocks).subarray(0, length);
}

export interface InnerPlaintext {
  /** The real content type hidden inside the encrypted record. */
  type: number;
  content: Buffer;
}

/** Decrypts the records of one direction under one traffic secret, counting sequence numbers. */
export class RecordDecrypter {
  private readonly params: SuiteParams;
  private readonly key: Buffer;
  private readonly iv: Buffer;
  private sequence = 0;

  constructor(suite: number, secret: Buffer) {
    const params = SUITES.get(suite);
    if (!params) throw new WireError(`cannot read TLS 1.3 records of cipher suite 0x${suite.toString(16).padStart(4, '0')}`);
    if (secret.length !== HASH_LENGTH[params.hash]) throw new WireError('traffic secret length does not match the cipher suite');
    this.params = params;
    this.key = hkdfExpandLabel(params.hash, secret, 'key', Buffer.alloc(0), params.keyLength);
    this.iv = hkdfExpandLabel(params.hash, secret, 'iv', Buffer.alloc(0), IV_LENGTH);
  }

  decrypt(header: Buffer, fragment: Buffer): InnerPlaintext {
    if (fragment.length < TAG_LENGTH + 1 || fragment.length > MAX_RECORD_FRAGMENT) {
      throw new WireError('encrypted record has an impossible length');
    }
    const nonce = Buffer.from(this.iv);
    // The per-record nonce is the IV XORed with the 64-bit sequence number (RFC 8446 §5.3).
    let seq = this.sequence++;
    for (let i = IV_LENGTH - 1; seq > 0; i--, seq = Math.floor(seq / 256)) nonce[i] = nonce[i]! ^ (seq & 0xff);
    const ciphertext = fragment.subarray(0, fragment.length - TAG_LENGTH);
    let plain: Buffer;
    try {
      const cipher = this.params.cipher;
      const decipher =
        cipher === 'chacha20-poly1305'
          ? createDecipheriv(cipher, this.key, nonce, { authTagLength: TAG_LENGTH })
          : createDecipheriv(cipher, this.key, nonce, { authTagLength: TAG_LENGTH });
      decipher.setAAD(header, { plaintextLength: ciphertext.length });
      decipher.setAuthTag(fragment.subarray(fragment.length - TAG_LENGTH));
      plain = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    } catch {
      throw new WireError('an encrypted handshake record failed authentication (wrong key or corrupted data)');
    }
    // TLSInnerPlaintext: content, the real type, then zero padding.
    let end = plain.length;
    while (end > 0 && plain[end - 1] === 0) end--;
    if (end === 0) throw new WireError('encrypted record carries no content type');
    return { type: plain[end - 1]!, content: plain.subarray(0, end - 1) };
  }
}

/**
 * The secret from a key-log line ("LABEL <client_random> <secret>"), or null when the line
 * carries another label or is malformed.
 */
export function secretFromKeylogLine(line: Buffer, label: string): Buffer | null {
  const text = line.toString('latin1').trim();
  const parts = text.split(' ');
  if (parts.length !== 3 || parts[0] !== label || !/^[0-9a-fA-F]+$/.test(parts[2]!) || parts[2]!.length % 2 !== 0) return null;
  return Buffer.from(parts[2]!, 'hex');
}
