// TLS alert descriptions (RFC 8446 §6 and the older ones a TLS 1.0–1.2 server may still send).
const ALERT_NAMES: Record<number, string> = {
  0: 'close_notify',
  10: 'unexpected_message',
  20: 'bad_record_mac',
  21: 'decryption_failed',
  22: 'record_overflow',
  30: 'decompression_failure',
  40: 'handshake_failure',
  41: 'no_certificate',
  42: 'bad_certificate',
  43: 'unsupported_certificate',
  44: 'certificate_revoked',
  45: 'certificate_expired',
  46: 'certificate_unknown',
  47: 'illegal_parameter',
  48: 'unknown_ca',
  49: 'access_denied',
  50: 'decode_error',
  51: 'decrypt_error',
  60: 'export_restriction',
  70: 'protocol_version',
  71: 'insufficient_security',
  80: 'internal_error',
  86: 'inappropriate_fallback',
  90: 'user_canceled',
  100: 'no_renegotiation',
  109: 'missing_extension',
  110: 'unsupported_extension',
  111: 'certificate_unobtainable',
  112: 'unrecognized_name',
  113: 'bad_certificate_status_response',
  114: 'bad_certificate_hash_value',
  115: 'unknown_psk_identity',
  116: 'certificate_required',
  120: 'no_application_protocol',
};

export function alertName(code: number): string {
  return ALERT_NAMES[code] ?? `alert_${code}`;
}

/** The alert the peer sent, from an OpenSSL error ("... SSL alert number 116"), or null. */
export function alertFromTlsError(err: unknown): number | null {
  const message = err instanceof Error ? err.message : '';
  const m = /SSL alert number (\d{1,3})\b/.exec(message);
  return m ? Number(m[1]) : null;
}

/** What an operator should check when a server ends the handshake with this alert. */
export function alertHint(name: string): string {
  switch (name) {
    case 'handshake_failure':
      return 'no protocol version or cipher suite in common, or the server wants something we did not offer (a client certificate?)';
    case 'protocol_version':
      return 'the server accepts none of TLS 1.0–1.3 as we offered them';
    case 'unrecognized_name':
      return 'the server does not know the name we sent as SNI — check host/sni for this target';
    case 'insufficient_security':
      return 'the server requires stronger cipher suites than we offered';
    case 'certificate_required':
    case 'bad_certificate':
    case 'unknown_ca':
    case 'certificate_unknown':
    case 'access_denied':
      return 'the server wants a client certificate it trusts — set client_cert for this target';
    case 'internal_error':
      return 'the server failed internally — check its certificate binding and logs';
    default:
      return 'check the server’s TLS configuration and logs';
  }
}
