// A synthetic scan of N endpoints with realistic label lengths (2-certificate chains sharing one
// issuing CA, 5 % failing), for checks of /metrics at fleet scale. Two shapes: 'lync' (pool
// front ends on 10.x addresses, a leaf each) and 'loopback' (the fleet benchmark's e0, e1, … in
// group fleet on 127.0.0.1, all presenting one leaf).
import { createHash } from 'node:crypto';
import type { CertificateInfo } from '../../src/chain/types.js';
import type { BaselineEntry } from '../../src/fleet/types.js';
import type { EndpointResult, ScanResult } from '../../src/pipeline/types.js';

export type FleetShape = 'lync' | 'loopback';

const NAMES = {
  lync: {
    issuer: 'CN=Contoso Issuing CA 01,DC=contoso,DC=local',
    root: 'CN=Contoso Root CA,DC=contoso,DC=local',
    group: 'lync-internal',
    target: (i: number) => `pool${String(i >> 6).padStart(3, '0')}-fe${String(i & 63).padStart(2, '0')}`,
    address: (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    leafSeed: (target: string) => target,
  },
  loopback: {
    issuer: 'CN=Fleet Issuing CA',
    root: 'CN=Fleet Root CA',
    group: 'fleet',
    target: (i: number) => `e${i}`,
    address: () => '127.0.0.1',
    leafSeed: () => 'fleet',
  },
} as const;

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

export function syntheticScan(n: number, shape: FleetShape = 'lync'): { scan: ScanResult; baseline: BaselineEntry[] } {
  const names = NAMES[shape];
  const intermediate = cert(names.issuer, names.root, 'ca');
  const endpoints: EndpointResult[] = [];
  const baseline: BaselineEntry[] = [];
  for (let i = 0; i < n; i++) {
    const target = names.target(i);
    const address = names.address(i);
    const group = names.group;
    const endpoint = {
      key: `${target}@${address}`,
      target,
      group,
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
    const leafSeed = names.leafSeed(target);
    const leaf = cert(`CN=${leafSeed}.contoso.local`, names.issuer, leafSeed);
    endpoints.push({
      probe,
      analysis: {
        chain: [leaf, intermediate],
        issuer: { dn: names.issuer, keyId: intermediate.subjectKeyId!, spkiSha256: intermediate.spkiSha256 },
        root: { dn: names.root, sha256: hex('root'), spkiSha256: hex('rootspki'), keyId: hex('rootski', 20) },
        trusted: true,
        hostnameMatch: true,
        problems: [],
        path: [],
      },
    });
    const snapshot = {
      leafSha256: leaf.sha256,
      chain: [leaf.sha256, intermediate.sha256],
      issuer: { dn: names.issuer, keyId: intermediate.subjectKeyId! },
      leafNotAfter: leaf.notAfter,
      leafSubject: leaf.subject,
    };
    baseline.push({
      key: endpoint.key,
      target,
      group,
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
