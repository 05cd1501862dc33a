// A synthetic scan of N endpoints with realistic label lengths (Lync-like names, 2-certificate
// chains sharing one issuing CA, 5 % failing), for checks of /metrics at fleet scale.
import { createHash } from 'node:crypto';
import type { CertificateInfo } from '../../src/chain/types.js';
import type { BaselineEntry } from '../../src/fleet/types.js';
import type { EndpointResult, ScanResult } from '../../src/pipeline/types.js';

const ISSUER = 'CN=Contoso Issuing CA 01,DC=contoso,DC=local';
const ROOT = 'CN=Contoso Root CA,DC=contoso,DC=local';

function hex(seed: string, bytes = 32): string {
  return createHash('sha256')
    .update(seed)
    .digest('hex')
    .slice(0, bytes * 2);
}

function cert(subject: string, issuer: string, seed: string): CertificateInfo {
  return {
    subject,
    issuer,
    serialNumber: hex(`serial${seed}`, 16),
    notBefore: '2025-01-01T00:00:00.000Z',
    notAfter: '2027-01-01T00:00:00.000Z',
    sha256: hex(seed),
    spkiSha256: hex(`spki${seed}`),
    subjectKeyId: hex(`ski${seed}`, 20),
    authorityKeyId: hex('ca', 20),
    signatureAlgorithm: 'sha256WithRSAEncryption',
    publicKey: { algorithm: 'RSA', bits: 2048 },
    dnsNames: [],
    ipAddresses: [],
    isCA: false,
  };
}

export function syntheticScan(n: number): { scan: ScanResult; baseline: BaselineEntry[] } {
  const intermediate = cert(ISSUER, ROOT, 'ca');
  const endpoints: EndpointResult[] = [];
  const baseline: BaselineEntry[] = [];
  for (let i = 0; i < n; i++) {
    const target = `pool${String(i >> 6).padStart(3, '0')}-fe${String(i & 63).padStart(2, '0')}`;
    const address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    const endpoint = {
      key: `${target}@${address}`,
      target,
      group: 'lync-internal',
      role: null,
      labels: {},
      host: `${target}.contoso.local`,
      port: 5061,
      address,
      sni: `${target}.contoso.local`,
      url: null,
      clientCert: null,
      resolveError: null,
      starttls: null,
    };
    const tls = { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', completed: true, alert: null };
    const probe = { endpoint, startedAt: new Date(0), durationMs: 12.5, presented: [], tls, stapledOcsp: null, error: null };
    if (i % 20 === 19) {
      endpoints.push({ probe: { ...probe, tls: null, error: { kind: 'timeout', message: 'no answer within 5s' } }, analysis: null });
      continue;
    }
    const leaf = cert(`CN=${target}.contoso.local`, ISSUER, target);
    endpoints.push({
      probe,
      analysis: {
        chain: [leaf, intermediate],
        issuer: { dn: ISSUER, keyId: intermediate.subjectKeyId!, spkiSha256: intermediate.spkiSha256 },
        root: { dn: ROOT, sha256: hex('root'), spkiSha256: hex('rootspki'), keyId: hex('rootski', 20) },
        trusted: true,
        hostnameMatch: true,
        problems: [],
        path: [],
      },
    });
    const snapshot = {
      leafSha256: leaf.sha256,
      chain: [leaf.sha256, intermediate.sha256],
      issuer: { dn: ISSUER, keyId: intermediate.subjectKeyId! },
      leafNotAfter: leaf.notAfter,
      leafSubject: leaf.subject,
    };
    baseline.push({
      key: endpoint.key,
      target,
      group: 'lync-internal',
      address,
      current: snapshot,
      firstSeen: '2025-01-01T00:00:00Z',
      lastChange: null,
      lastSeen: '2025-06-01T00:00:00Z',
      changes: 0,
    });
  }
  const scan: ScanResult = { startedAt: new Date('2025-06-01T00:00:00Z'), finishedAt: new Date('2025-06-01T00:01:00Z'), endpoints, policies: [], changes: [] };
  return { scan, baseline };
}
