import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deriveAlerts, undeterminedIn } from '../../../src/output/alerts/derive.js';
import { fingerprint } from '../../../src/output/alerts/fingerprint.js';
import type { Alert } from '../../../src/output/alerts/types.js';
import { CONTOSO, change, DAY, endpoint, FABRIKAM, failedResult, okResult, pchatScan, scanOf } from './scans.js';

const NOW = new Date('2025-06-01T12:00:00.000Z');
const OPTS = { externalUrl: 'https://chainwatch.contoso.local/', expiryWarningMs: 30 * DAY, now: NOW };

function byName(alerts: Alert[], name: string): Alert[] {
  return alerts.filter((a) => a.labels.alertname === name);
}

describe('deriveAlerts', () => {
  it('names the divergent member, its CA and the expected CA, by name and key', () => {
    const alerts = deriveAlerts(pchatScan(NOW), OPTS);
    const div = byName(alerts, 'ChainwatchIssuerDivergence');
    assert.equal(div.length, 1);
    const a = div[0]!;
    assert.deepEqual(a.labels, {
      alertname: 'ChainwatchIssuerDivergence',
      policy: 'pchat-web-same-ca',
      target: 'web2',
      address: '10.1.2.5',
      group: 'pchat-web',
      severity: 'critical',
    });
    assert.equal(
      a.annotations.summary,
      'web2 (10.1.2.5) presents a certificate from Fabrikam TLS CA (key 3f2a8877…); policy pchat-web-same-ca expects Contoso Issuing CA 01 (key 42d1a9c0…)',
    );
    assert.match(a.annotations.description, /issued by CN=Fabrikam TLS CA, O=Fabrikam \(key id 3f2a8877c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6\)/);
    assert.match(a.annotations.description, /reference group lync-internal: CN=Contoso Issuing CA 01, O=Contoso, C=US \(key id 42d1a9c0/);
    assert.match(a.annotations.description, /Bind a certificate issued by Contoso Issuing CA 01 on web2/);
    assert.equal(a.generatorURL, 'https://chainwatch.contoso.local/targets/web2');
    assert.equal(a.fingerprint, fingerprint(a.labels));
    assert.equal(a.holdUntil, null);
  });

  it('raises nothing for a consistent, healthy fleet', () => {
    assert.deepEqual(deriveAlerts(pchatScan(NOW, { fixed: true }), OPTS), []);
  });

  it('identity depends on labels only, not on label order or wording', () => {
    const a = deriveAlerts(pchatScan(NOW), OPTS)[0]!;
    const b = deriveAlerts(pchatScan(new Date(NOW.getTime() + DAY)), OPTS)[0]!;
    assert.equal(a.fingerprint, b.fingerprint);
    assert.equal(fingerprint({ b: '2', a: '1' }), fingerprint({ a: '1', b: '2' }));
    assert.notEqual(fingerprint({ a: '1', b: '2' }), fingerprint({ a: '12', b: '' }));
  });

  it('a failed probe makes the member undetermined, not fixed, and raises ProbeFailing with its kind', () => {
    const scan = pchatScan(NOW, { web2Down: true });
    const alerts = deriveAlerts(scan, OPTS);
    assert.equal(byName(alerts, 'ChainwatchIssuerDivergence').length, 0);
    const failing = byName(alerts, 'ChainwatchProbeFailing');
    assert.equal(failing.length, 1);
    assert.deepEqual(failing[0]!.labels, {
      alertname: 'ChainwatchProbeFailing',
      target: 'web2',
      address: '10.1.2.5',
      group: 'pchat-web',
      kind: 'timeout',
      severity: 'warning',
    });
    assert.equal(failing[0]!.annotations.summary, 'web2 (web2.contoso.local:443 at 10.1.2.5) cannot be probed: timeout');
    assert.match(failing[0]!.annotations.description, /^no TLS answer from 10\.1\.2\.5:443 within 10s; check the server is up/);
    assert.equal(failing[0]!.forScans, 2);

    const divergence = deriveAlerts(pchatScan(NOW), OPTS)[0]!;
    assert.equal(undeterminedIn(scan)(divergence), true);
    assert.equal(undeterminedIn(pchatScan(NOW, { fixed: true }))(divergence), false);
  });

  it('an expiring leaf whose endpoint stops answering is undetermined; another endpoint at the same address is not', () => {
    const sip1 = endpoint('sip1', 'lync-internal', '10.1.1.10', 5061);
    const [expiring] = deriveAlerts(scanOf(NOW, [okResult(sip1, CONTOSO, new Date(NOW.getTime() + 10 * DAY), NOW)]), OPTS);
    assert.equal(expiring!.labels.alertname, 'ChainwatchCertificateExpiringSoon');
    const sip2 = endpoint('sip2', 'lync-internal', '10.1.1.10', 5062);
    assert.equal(undeterminedIn(scanOf(NOW, [failedResult(sip1, 'timeout', 'no answer', NOW)]))(expiring!), true);
    assert.equal(undeterminedIn(scanOf(NOW, [okResult(sip1, CONTOSO, new Date(NOW.getTime() + 40 * DAY), NOW)]))(expiring!), false);
    assert.equal(undeterminedIn(scanOf(NOW, [failedResult(sip2, 'timeout', 'no answer', NOW)]))(expiring!), false);
  });

  it('expiring leaf: days left in the annotation, warning above the critical threshold, critical below, expired says so', () => {
    const ep = endpoint('sip1', 'lync-internal', '10.1.1.10', 5061);
    const mk = (left: number) => deriveAlerts(scanOf(NOW, [okResult(ep, CONTOSO, new Date(NOW.getTime() + left), NOW)]), OPTS);
    assert.deepEqual(mk(31 * DAY), []);
    const soon = mk(12 * DAY + 3600_000);
    assert.equal(soon.length, 1);
    assert.equal(soon[0]!.labels.severity, 'warning');
    assert.equal(soon[0]!.annotations.days_left, '12');
    assert.equal(soon[0]!.annotations.summary, 'sip1 (10.1.1.10): certificate sip1.contoso.local expires in 12 days (2025-06-13T13:00:00.000Z)');
    assert.match(soon[0]!.annotations.description, /bind the new certificate on sip1\.contoso\.local:5061 before then/);
    assert.equal(mk(3 * DAY)[0]!.labels.severity, 'critical');
    const expired = mk(-2 * DAY)[0]!;
    assert.equal(expired.labels.severity, 'critical');
    assert.match(expired.annotations.summary, /expired 2 days ago/);
    assert.match(expired.annotations.description, /Clients reject it now/);
  });

  it('a certificate change is an event held for the configured time, worded by kind', () => {
    const ep = endpoint('web1', 'pchat-web', '10.1.2.4');
    const at = new Date(NOW.getTime() - 60_000);
    const scan = scanOf(NOW, [okResult(ep, CONTOSO, new Date(NOW.getTime() + 300 * DAY), NOW)], [], [change(ep, 'renewal', CONTOSO, CONTOSO, at)]);
    const [renewal] = deriveAlerts(scan, { ...OPTS, changeHoldMs: 30 * 60_000 });
    assert.equal(renewal!.labels.alertname, 'ChainwatchCertificateChanged');
    assert.equal(renewal!.labels.change, 'renewal');
    assert.equal(renewal!.labels.severity, 'info');
    assert.equal(renewal!.labels.leaf_sha256, 'dd'.repeat(32));
    assert.equal(renewal!.annotations.summary, 'web1 (10.1.2.4): new certificate, renewed under the same CA Contoso Issuing CA 01 (key 42d1a9c0…)');
    assert.equal(renewal!.startsAt.getTime(), at.getTime());
    assert.equal(renewal!.holdUntil!.getTime(), at.getTime() + 30 * 60_000);

    const issuer = deriveAlerts({ ...scan, changes: [change(ep, 'issuer_change', CONTOSO, FABRIKAM, at)] }, OPTS)[0]!;
    assert.equal(issuer.labels.severity, 'warning');
    assert.equal(
      issuer.annotations.summary,
      'web1 (10.1.2.4): new certificate from a different CA: Fabrikam TLS CA (key 3f2a8877…), previously Contoso Issuing CA 01 (key 42d1a9c0…)',
    );
    assert.equal(issuer.holdUntil!.getTime(), at.getTime() + 3600_000, 'default hold is an hour');

    const chain = deriveAlerts({ ...scan, changes: [change(ep, 'chain_change', CONTOSO, CONTOSO, at)] }, OPTS)[0]!;
    assert.equal(chain.annotations.summary, 'web1 (10.1.2.4): same leaf certificate, different chain presented (2 → 1 certificates)');
  });

  it('a policy with no majority CA says so instead of naming one', () => {
    const scan = pchatScan(NOW);
    const v = scan.policies[0]!;
    const divergent = [...v.divergent, { ...v.divergent[0]!, target: 'web1', address: '10.1.2.4', issuer: CONTOSO }].map((d) => ({ ...d, expected: [] }));
    const tie = { ...v, reference: null, expected: [], divergent };
    const alerts = deriveAlerts({ ...scan, policies: [tie] }, OPTS);
    assert.equal(alerts.length, 2);
    assert.match(alerts[0]!.annotations.summary, /expects all members to share one CA, and none is held by most of them \(seen: /);
    assert.match(alerts[0]!.annotations.description, /Decide which CA is right/);
  });

  it('leaves empty labels out, as Alertmanager would, and links to the status page', () => {
    const ep = endpoint('edge', 'edge-internal', null);
    const [a] = deriveAlerts(scanOf(NOW, [failedResult(ep, 'dns', 'edge.contoso.local does not resolve', NOW)]), {
      ...OPTS,
      externalUrl: 'http://127.0.0.1:9862',
    });
    assert.equal('address' in a!.labels, false);
    assert.equal(a!.generatorURL, 'http://127.0.0.1:9862/targets/edge');
  });
});

describe('revocation alerts', () => {
  const revoked = {
    status: 'revoked' as const,
    source: 'crl' as const,
    crlUrl: 'http://pki.contoso.local/issuing.crl',
    ocspUrl: null,
    thisUpdate: null,
    nextUpdate: null,
    revokedAt: '2025-05-30T00:00:00.000Z',
    reason: 'keyCompromise',
    error: null,
  };
  const health = (over: Partial<import('../../../src/revocation/types.js').RevocationUrlHealth>) => ({
    url: 'http://pki.contoso.local/issuing.crl',
    kind: 'crl' as const,
    checked: true,
    reachable: true,
    stale: false,
    expiring: false,
    thisUpdate: null,
    nextUpdate: '2025-05-31T00:00:00.000Z',
    fetchedAt: null,
    durationMs: 12,
    ocspStatus: null,
    error: null,
    endpoints: ['web1 (10.1.2.4)', 'web2 (10.1.2.5)'],
    ...over,
  });

  it('a revoked certificate fires ChainwatchCertificateRevoked with endpoint labels and position', () => {
    const ep = endpoint('web1', 'pchat-web', '10.1.2.4');
    const r = { ...okResult(ep, CONTOSO, new Date(NOW.getTime() + 300 * DAY), NOW), revocation: [revoked] };
    const [a, ...rest] = byName(deriveAlerts(scanOf(NOW, [r]), OPTS), 'ChainwatchCertificateRevoked');
    assert.equal(rest.length, 0);
    assert.deepEqual(a!.labels, {
      alertname: 'ChainwatchCertificateRevoked',
      target: 'web1',
      address: '10.1.2.4',
      group: 'pchat-web',
      position: '0',
      severity: 'critical',
    });
    assert.equal(a!.annotations.summary, 'web1 (10.1.2.4): certificate web1.contoso.local was revoked on 2025-05-30T00:00:00.000Z (keyCompromise)');
    assert.match(a!.annotations.description, /revoked according to its CA's CRL/);
    // A good status raises nothing.
    const good = { ...r, revocation: [{ ...revoked, status: 'good' as const, revokedAt: null, reason: null }] };
    assert.equal(byName(deriveAlerts(scanOf(NOW, [good]), OPTS), 'ChainwatchCertificateRevoked').length, 0);
  });

  it('a stale CRL and an unreachable one fire per URL, naming the endpoints that depend on it', () => {
    const scan = {
      ...scanOf(NOW, []),
      revocationUrls: [
        health({ stale: true }),
        health({
          url: 'http://pki.contoso.local/root.crl',
          reachable: false,
          error: 'HTTP 404 from http://pki.contoso.local/root.crl',
          endpoints: ['web1 (10.1.2.4)'],
        }),
      ],
    };
    const alerts = deriveAlerts(scan, OPTS);
    const [stale] = byName(alerts, 'ChainwatchCrlStale');
    assert.deepEqual(stale!.labels, { alertname: 'ChainwatchCrlStale', url: 'http://pki.contoso.local/issuing.crl', severity: 'critical' });
    assert.match(stale!.annotations.description, /Endpoints depending on it: web1 \(10\.1\.2\.4\), web2 \(10\.1\.2\.5\)\./);
    const [down] = byName(alerts, 'ChainwatchCrlUnreachable');
    assert.deepEqual(down!.labels, { alertname: 'ChainwatchCrlUnreachable', url: 'http://pki.contoso.local/root.crl', severity: 'warning' });
    assert.equal(down!.annotations.summary, 'CRL http://pki.contoso.local/root.crl cannot be obtained: HTTP 404 from http://pki.contoso.local/root.crl');
    assert.equal(down!.annotations.endpoints, 'web1 (10.1.2.4)');
    // An expiring CRL warns; a healthy one and an LDAP location (not checked) raise nothing.
    const quiet = {
      ...scanOf(NOW, []),
      revocationUrls: [health({}), health({ url: 'ldap:///CN=CDP', checked: false, reachable: null, error: 'not fetched' })],
    };
    assert.deepEqual(deriveAlerts(quiet, OPTS), []);
    const [expiring] = deriveAlerts({ ...scanOf(NOW, []), revocationUrls: [health({ expiring: true })] }, OPTS);
    assert.deepEqual([expiring!.labels.alertname, expiring!.labels.severity], ['ChainwatchCrlStale', 'warning']);
  });
});
