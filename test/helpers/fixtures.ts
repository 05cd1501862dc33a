// The standard test PKI: the Contoso internal hierarchy (with same-name twins that differ only by
// key) and an unrelated Fabrikam "public" CA. Built once per test process; leaves are memoised.

import { isIP } from 'node:net';
import {
  type CertificateAuthority,
  createIntermediateCa,
  createRootCa,
  type IssuedCert,
  issueClientCert,
  issueLeaf,
  type LeafOptions,
} from '../../src/demo/pki.js';

export interface StandardPki {
  contosoRoot: CertificateAuthority;
  /** Both under contosoRoot. */
  contosoIssuing01: CertificateAuthority;
  contosoIssuing02: CertificateAuthority;
  /** Same DN as contosoIssuing01, different key, also signed by contosoRoot. */
  contosoIssuing01Twin: CertificateAuthority;
  /** Same DN as contosoRoot, different key. */
  contosoRootTwin: CertificateAuthority;
  /** Same DN as contosoIssuing01, under contosoRootTwin. */
  contosoIssuing01UnderTwinRoot: CertificateAuthority;
  fabrikamRoot: CertificateAuthority;
  /** An unrelated "public" CA under fabrikamRoot. */
  fabrikamTlsCa: CertificateAuthority;
  /**
   * A server certificate for `host` (CN and SAN; an IP host goes into the IP SANs), memoised by
   * arguments so tests that ask for the same leaf share it.
   */
  leaf(issuer: CertificateAuthority, host: string, o?: Partial<LeafOptions>): Promise<IssuedCert>;
  /** A clientAuth certificate for MTLS, memoised like leaf(). */
  clientCert(issuer: CertificateAuthority, name: string): Promise<IssuedCert>;
}

const CONTOSO = 'Contoso';
const FABRIKAM = 'Fabrikam';

let pki: Promise<StandardPki> | null = null;

/** The standard hierarchy, built on first use and shared by every test in the process. */
export function standardPki(): Promise<StandardPki> {
  pki ??= build();
  return pki;
}

/** PEMs in the given order, ready for serveChain({ chain }). */
export function chainPems(...certs: IssuedCert[]): string[] {
  return certs.map((c) => c.pem);
}

async function build(): Promise<StandardPki> {
  const [contosoRoot, contosoRootTwin, fabrikamRoot] = await Promise.all([
    createRootCa({ commonName: 'Contoso Root CA', organization: CONTOSO, notAfter: years(20) }),
    createRootCa({ commonName: 'Contoso Root CA', organization: CONTOSO, notAfter: years(20) }),
    createRootCa({ commonName: 'Fabrikam Root CA', organization: FABRIKAM, notAfter: years(20) }),
  ]);
  const issuing01 = { commonName: 'Contoso Issuing CA 01', organization: CONTOSO, notAfter: years(10) };
  const [contosoIssuing01, contosoIssuing02, contosoIssuing01Twin, contosoIssuing01UnderTwinRoot, fabrikamTlsCa] = await Promise.all([
    createIntermediateCa(contosoRoot, issuing01),
    createIntermediateCa(contosoRoot, { commonName: 'Contoso Issuing CA 02', organization: CONTOSO, notAfter: years(10) }),
    createIntermediateCa(contosoRoot, issuing01),
    createIntermediateCa(contosoRootTwin, issuing01),
    createIntermediateCa(fabrikamRoot, { commonName: 'Fabrikam TLS CA', organization: FABRIKAM, notAfter: years(10) }),
  ]);

  const leaves = new Map<string, Promise<IssuedCert>>();
  const clients = new Map<string, Promise<IssuedCert>>();
  return {
    contosoRoot,
    contosoIssuing01,
    contosoIssuing02,
    contosoIssuing01Twin,
    contosoRootTwin,
    contosoIssuing01UnderTwinRoot,
    fabrikamRoot,
    fabrikamTlsCa,
    leaf(issuer, host, o = {}) {
      const key = `${issuer.sha256}|${host}|${JSON.stringify(o)}`;
      let leaf = leaves.get(key);
      if (!leaf) {
        const byIp = isIP(host) !== 0;
        leaf = issueLeaf(issuer, {
          commonName: host,
          ...(byIp ? { ipAddresses: [host] } : { dnsNames: [host] }),
          ...o,
        });
        leaves.set(key, leaf);
      }
      return leaf;
    },
    clientCert(issuer, name) {
      const key = `${issuer.sha256}|${name}`;
      let cert = clients.get(key);
      if (!cert) {
        cert = issueClientCert(issuer, { commonName: name, organization: CONTOSO });
        clients.set(key, cert);
      }
      return cert;
    },
  };
}

function years(n: number): Date {
  return new Date(Date.now() + n * 365 * 24 * 60 * 60 * 1000);
}
