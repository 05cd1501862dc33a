// Chain verification refuses what OpenSSL refuses (checked against `openssl verify` on the same
// certificates), and path building stays within a fixed number of signature checks whatever a
// server presents.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ChainAnalyzer } from '../../src/chain/analyzer.js';
import { CertificateCache } from '../../src/chain/cache.js';
import { parseCertificate } from '../../src/chain/certificate.js';
import { buildPath, MAX_SIGNATURE_CHECKS } from '../../src/chain/path.js';
import { TrustStore } from '../../src/chain/trust-store.js';
import { type ChainAnalysis, isUnreadable } from '../../src/chain/types.js';
import { x509 } from '../../src/chain/x509.js';

const dir = mkdtempSync(join(tmpdir(), 'chainwatch-verify-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

/** root → issuing CA → leaf.test, made by openssl, each with extra extension lines for its config. */
function opensslChain(name: string, extra: { issuing?: string; leaf?: string }): { root: string; issuing: string; leaf: string } {
  const f = (s: string) => `${name}-${s}`;
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...newKey,
    '-keyout',
    f('root.key'),
    '-out',
    f('root.pem'),
    '-subj',
    '/CN=Verify Root',
    '-days',
    '30',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  writeFileSync(
    join(dir, f('issuing.cnf')),
    `[v3]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n${extra.issuing ?? ''}\n`,
  );
  openssl('req', '-new', ...newKey, '-keyout', f('issuing.key'), '-out', f('issuing.csr'), '-subj', '/CN=Verify Issuing CA');
  openssl(
    'x509',
    '-req',
    '-in',
    f('issuing.csr'),
    '-CA',
    f('root.pem'),
    '-CAkey',
    f('root.key'),
    '-set_serial',
    '2',
    '-days',
    '30',
    '-extfile',
    f('issuing.cnf'),
    '-extensions',
    'v3',
    '-out',
    f('issuing.pem'),
  );
  writeFileSync(
    join(dir, f('leaf.cnf')),
    `[v3]\nbasicConstraints=CA:FALSE\nsubjectAltName=DNS:leaf.test\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n${extra.leaf ?? ''}\n`,
  );
  openssl('req', '-new', ...newKey, '-keyout', f('leaf.key'), '-out', f('leaf.csr'), '-subj', '/CN=leaf.test');
  openssl(
    'x509',
    '-req',
    '-in',
    f('leaf.csr'),
    '-CA',
    f('issuing.pem'),
    '-CAkey',
    f('issuing.key'),
    '-set_serial',
    '3',
    '-days',
    '30',
    '-extfile',
    f('leaf.cnf'),
    '-extensions',
    'v3',
    '-out',
    f('leaf.pem'),
  );
  const read = (s: string) => readFileSync(join(dir, f(s)), 'utf8');
  return { root: read('root.pem'), issuing: read('issuing.pem'), leaf: read('leaf.pem') };
}

function opensslVerify(name: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      'openssl',
      ['verify', '-CAfile', `${name}-root.pem`, '-untrusted', `${name}-issuing.pem`, `${name}-leaf.pem`],
      { cwd: dir },
      (err, stdout, stderr) => {
        resolve({ code: err ? Number(err.code ?? 1) : 0, output: stdout + stderr });
      },
    );
  });
}

const der = (pem: string) => Buffer.from(pem.replace(/-----[^-]+-----|\s+/g, ''), 'base64');

async function analyze(chain: { root: string; issuing: string; leaf: string }): Promise<ChainAnalysis> {
  const a = new ChainAnalyzer({ anchorsPem: [chain.root], systemRoots: false, expiryWarningMs: 0 });
  const r = await a.analyze([der(chain.leaf), der(chain.issuing)], 'leaf.test', new Date());
  if (isUnreadable(r)) assert.fail(r.unreadable);
  return r;
}

describe('chain verification refuses what OpenSSL refuses', () => {
  it('a clean chain: OpenSSL accepts it, and so do we', async () => {
    const chain = opensslChain('clean', {});
    assert.equal((await opensslVerify('clean')).code, 0);
    const r = await analyze(chain);
    assert.equal(r.trusted, true);
    assert.deepEqual(r.problems, []);
  });

  it('a non-critical unknown extension is ignored by both', async () => {
    const chain = opensslChain('noncritical', { leaf: '1.3.6.1.4.1.55555.9=DER:05:00' });
    assert.equal((await opensslVerify('noncritical')).code, 0);
    assert.equal((await analyze(chain)).trusted, true);
  });

  for (const [name, extra, openssSays] of [
    ['leaf-critical', { leaf: '1.3.6.1.4.1.55555.1=critical,DER:05:00' }, /error 34 at 0 depth lookup: unhandled critical extension/],
    ['issuing-critical', { issuing: '1.3.6.1.4.1.55555.2=critical,DER:05:00' }, /error 34 at 1 depth lookup: unhandled critical extension/],
    ['garbage-name-constraints', { issuing: '2.5.29.30=critical,DER:01:02:03' }, /invalid certificate|error \d+ at/],
  ] as const) {
    it(`${name}: OpenSSL refuses the chain, and it is not trusted here`, async () => {
      const chain = opensslChain(name, extra);
      const verdict = await opensslVerify(name);
      assert.notEqual(verdict.code, 0, verdict.output);
      assert.match(verdict.output, openssSays);
      const r = await analyze(chain);
      assert.equal(r.trusted, false);
      assert.ok(r.problems.includes('untrusted'), r.problems.join(', '));
      // The chain itself is still reported, for people to see what was presented.
      assert.equal(r.chain.length, 2);
    });
  }
});

describe('path building is bounded', () => {
  const NAME = 'CN=Same Name CA';
  const ECDSA = { name: 'ECDSA', namedCurve: 'P-256' } as const;
  const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

  async function sameNameFlood(count: number) {
    const keys = await Promise.all(Array.from({ length: count + 1 }, () => webcrypto.subtle.generateKey(ECDSA, true, ['sign', 'verify'])));
    const notBefore = new Date(Date.now() - 86_400_000);
    const notAfter = new Date(Date.now() + 30 * 86_400_000);
    const ca = (i: number, signer: webcrypto.CryptoKeyPair) =>
      x509.X509CertificateGenerator.create({
        serialNumber: (i + 16).toString(16).padStart(4, '0'),
        subject: NAME,
        issuer: NAME,
        notBefore,
        notAfter,
        signingAlgorithm: SIGN,
        publicKey: keys[i]!.publicKey,
        signingKey: signer.privateKey,
        extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
      });
    // No key ids anywhere; CA i is signed by CA i+1, the last by a self-signed root of the same name.
    const root = await ca(count, keys[count]!);
    const cas = await Promise.all(Array.from({ length: count }, (_, i) => ca(i, keys[i + 1]!)));
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: '01',
      subject: 'CN=flood.test',
      issuer: NAME,
      notBefore,
      notAfter,
      signingAlgorithm: SIGN,
      publicKey: (await webcrypto.subtle.generateKey(ECDSA, true, ['sign', 'verify'])).publicKey,
      signingKey: keys[0]!.privateKey,
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'flood.test' }])],
    });
    return { root, cas, leaf };
  }

  it('200 same-name CAs without key ids cost at most the signature budget, and another chain in the same analyzer is unaffected', async () => {
    const flood = await sameNameFlood(200);
    const presented = [flood.leaf, ...flood.cas.reverse()].map((c) => Buffer.from(c.rawData));
    assert.ok(presented.reduce((n, b) => n + b.length, 0) > 60_000, 'a flood of some 65 KB, as seen in the field');

    const cache = new CertificateCache();
    const store = new TrustStore([flood.root.toString('pem')], false, cache);
    const parsed = presented.map((d) => parseCertificate(d));
    const path = await buildPath(parsed[0]!, parsed.slice(1), store);
    assert.ok(path.signatureChecks <= MAX_SIGNATURE_CHECKS, `${path.signatureChecks} signature checks`);
    assert.equal(path.anchored, false);

    const good = opensslChain('beside-flood', {});
    const analyzer = new ChainAnalyzer({ anchorsPem: [flood.root.toString('pem'), good.root], systemRoots: false, expiryWarningMs: 0 });
    const [hostile, fine] = await Promise.all([
      analyzer.analyze(presented, 'flood.test', new Date()),
      analyzer.analyze([der(good.leaf), der(good.issuing)], 'leaf.test', new Date()),
    ]);
    if (isUnreadable(hostile) || isUnreadable(fine)) assert.fail('both chains are readable');
    assert.equal(hostile.trusted, false);
    assert.ok(hostile.problems.includes('untrusted'));
    assert.equal(hostile.chain.length, 201, 'every presented certificate is still reported');
    assert.equal(fine.trusted, true);
    assert.deepEqual(fine.problems, []);
  });

  it('a short same-name chain within the budget is still built through to its anchor', async () => {
    const flood = await sameNameFlood(3);
    const presented = [flood.leaf, ...flood.cas.reverse()].map((c) => parseCertificate(Buffer.from(c.rawData)));
    const store = new TrustStore([flood.root.toString('pem')], false, new CertificateCache());
    const path = await buildPath(presented[0]!, presented.slice(1), store);
    assert.equal(path.anchored, true);
    assert.equal(path.certs.length, 5, 'leaf, three same-name CAs, root');
  });
});
