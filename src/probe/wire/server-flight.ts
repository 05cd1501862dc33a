import {
  HandshakeAssembler,
  HS_CERTIFICATE,
  HS_CERTIFICATE_REQUEST,
  HS_FINISHED,
  HS_SERVER_HELLO,
  parseCertificateMessage,
  parseServerHello,
} from './handshake.js';
import { WireError } from './limits.js';
import { CONTENT_ALERT, CONTENT_APPLICATION_DATA, CONTENT_CHANGE_CIPHER_SPEC, CONTENT_HANDSHAKE, looksLikeTls, readRecords } from './records.js';
import { isSupportedTls13Suite, RecordDecrypter } from './tls13.js';

const TLS13 = 0x0304;

/** The server's handshake traffic secret from the key log; TLS 1.3 only. */
export interface FlightSecrets {
  handshake: Buffer | null;
}

/** What the server's side of a connection shows, read from the bytes it sent. */
export interface ServerFlight {
  /** The first bytes are not a TLS record: a plain-text or other protocol answered. */
  notTls: boolean;
  version: number | null;
  cipherSuite: number | null;
  /** DER certificates exactly as listed in the server's Certificate message; null if not seen. */
  certificates: Buffer[] | null;
  certificateRequested: boolean;
  /** Description code of the first alert the server sent. */
  alert: number | null;
  /** Why reading stopped early: malformed input, a limit crossed, undecryptable records. */
  error: string | null;
  /** The error is a limit on certificates crossed (too many, too many bytes). */
  oversized: boolean;
  /** A Certificate message has begun and more bytes are needed to read it. */
  certificatePending: boolean;
}

/**
 * Reads the server-to-client byte stream of one connection. With `untilCertificate` it stops
 * once the Certificate message is captured; otherwise it goes on to find an alert before the
 * server's Finished. Never throws.
 */
export function readServerFlight(bytes: Buffer, secrets: FlightSecrets, untilCertificate: boolean): ServerFlight {
  const flight: ServerFlight = {
    notTls: false,
    version: null,
    cipherSuite: null,
    certificates: null,
    certificateRequested: false,
    alert: null,
    error: null,
    oversized: false,
    certificatePending: false,
  };
  if (!looksLikeTls(bytes)) {
    flight.notTls = true;
    return flight;
  }
  try {
    walk(bytes, secrets, untilCertificate, flight);
  } catch (err) {
    flight.error = err instanceof WireError ? err.message : `unreadable server handshake (${String(err)})`;
    flight.oversized = err instanceof WireError && err.oversized;
  }
  return flight;
}

function walk(bytes: Buffer, secrets: FlightSecrets, untilCertificate: boolean, flight: ServerFlight): void {
  const assembler = new HandshakeAssembler();
  // Null while the server's records are in clear text; TLS 1.3 encrypts them after ServerHello.
  let decrypter: RecordDecrypter | null = null;
  let tls13 = false;

  for (const record of readRecords(bytes)) {
    let type = record.type;
    let content = record.fragment;
    if (type === CONTENT_CHANGE_CIPHER_SPEC) {
      if (tls13) continue; // middlebox-compatibility CCS, meaningless in TLS 1.3
      return; // TLS 1.2: everything after the server's CCS is encrypted
    }
    if (type === CONTENT_APPLICATION_DATA) {
      if (!tls13) return;
      if (decrypter === null) {
        if (secrets.handshake === null) {
          throw new WireError('the TLS 1.3 handshake keys were not available, so the encrypted certificate could not be read');
        }
        decrypter = new RecordDecrypter(flight.cipherSuite ?? 0, secrets.handshake);
      }
      ({ type, content } = decrypter.decrypt(record.header, content));
    }
    if (type === CONTENT_ALERT) {
      if (content.length >= 2) flight.alert = content[1]!;
      return;
    }
    if (type === CONTENT_APPLICATION_DATA) return;
    if (type !== CONTENT_HANDSHAKE) throw new WireError(`unexpected TLS content type ${type}`);

    for (const message of assembler.push(content)) {
      if (decrypter === null) {
        if (message.type === HS_SERVER_HELLO) {
          const hello = parseServerHello(message.body);
          flight.version = hello.version;
          flight.cipherSuite = hello.cipherSuite;
          tls13 = hello.version === TLS13;
          if (tls13 && !isSupportedTls13Suite(hello.cipherSuite)) {
            throw new WireError(`server chose TLS 1.3 cipher suite 0x${hello.cipherSuite.toString(16)}, which the probe cannot read`);
          }
        } else if (message.type === HS_CERTIFICATE && !tls13) {
          flight.certificates = parseCertificateMessage(message.body, false);
          if (untilCertificate) return;
        } else if (message.type === HS_CERTIFICATE_REQUEST && !tls13) {
          flight.certificateRequested = true;
        }
      } else {
        if (message.type === HS_CERTIFICATE_REQUEST) {
          flight.certificateRequested = true;
        } else if (message.type === HS_CERTIFICATE) {
          flight.certificates = parseCertificateMessage(message.body, true);
          if (untilCertificate) return;
        } else if (message.type === HS_FINISHED) {
          // What follows is under the application keys: the TLS stack itself reports it.
          return;
        }
      }
    }
  }
  flight.certificatePending = flight.certificates === null && assembler.certificatePending;
}
