import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CertificateInfo, ChainAnalysis } from '../../src/chain/types.js';
import type { BaselineEntry, PolicyVerdict } from '../../src/fleet/types.js';
import { createMetrics } from '../../src/output/metrics.js';
import type { EndpointResult, ScanResult } from '../../src/pipeline/types.js';
import type { Endpoint } from '../../src/targets/types.js';

function endpoint(target: string, group: string, address: string | null, key = address ? `${target}@${address}` : target): Endpoint {
  return {
    key,
    target,
    group,
    role: null,
    labels: {},
    host: `${target}.contoso.test`,
    port: 5061,
    address,
    sni: `${target}.contoso.test`,
    url: null,
    clientCert: null,
    starttls: null,
    resolveError: null,
  };
}

function cert(subject: string, issuer: string, sha: string, notAfter: string): CertificateInfo {
  return {
    subject,
    issuer,
    serialNumber: '0a1b',
    notBefore: '2025-01-01T00:00:00.000Z',
    notAfter,
    sha256: sha,
    spkiSha256: sha.replace(/./, 'f'),
    subjectKeyId: null,
    authorityKeyId: null,
    signatureAlgorithm: 'sha256WithRSAEncryption',
    publicKey: { algorithm: 'RSA', bits: 2048 },
    dnsNames: [],
    ipAddresses: [],
    isCA: false,
  };
}

function ok(ep: Endpoint, issuerDn: string, keyId: string, leafSha: string, problems: ChainAnalysis['problems'] = []): EndpointResult {
  return {
    probe: {
      endpoint: ep,
      startedAt: new Date(0),
      durationMs: 250,
      presented: [],
      tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', completed: true, alert: null },
      stapledOcsp: null,
      error: null,
    },
    analysis: {
      chain: [cert(`CN=${ep.host}`, issuerDn, leafSha, '2026-01-01T00:00:00.000Z'), cert(issuerDn, 'CN=Contoso Root', 'bb', '2030-01-01T00:00:00.000Z')],
      issuer: { dn: issuerDn, keyId, spkiSha256: null },
      root: { dn: 'CN=Contoso Root', sha256: 'cc', spkiSha256: 'cd', keyId: null },
      trusted: problems.length === 0,
      hostnameMatch: true,
      problems,
      path: [],
    },
  };
}

function failed(ep: Endpoint): EndpointResult {
  return {
    probe: {
      endpoint: ep,
      startedAt: new Date(0),
      durationMs: 1500,
      presented: [],
      tls: null,
      stapledOcsp: null,
      error: { kind: 'timeout', message: 'no answer' },
    },
    analysis: null,
  };
}

const fe1 = endpoint('pool01', 'lync-internal', '127.0.0.11');
const fe2 = endpoint('pool01', 'lync-internal', '127.0.0.12');
const web = endpoint('pchat-web', 'pchat-web', null, 'pchat-web');
const edge = endpoint('edge', 'edge', null, 'edge');

const policy: PolicyVerdict = {
  name: 'pchat-same-ca',
  match: 'issuer',
  reference: 'lync-internal',
  scope: null,
  consistent: false,
  issuers: [{ dn: 'CN=Fabrikam CA', keyId: 'f00d', endpoints: 1 }],
  expected: [{ dn: 'CN=Contoso Issuing', keyId: '42d1', endpoints: 2 }],
  divergent: [
    {
      key: 'pchat-web',
      target: 'pchat-web',
      group: 'pchat-web',
      address: null,
      scope: null,
      asReference: false,
      issuer: { dn: 'CN=Fabrikam CA', keyId: 'f00d' },
      expected: [{ dn: 'CN=Contoso Issuing', keyId: '42d1' }],
    },
  ],
  unknown: [],
  matching: [],
  notes: [],
  scopes: [],
};

function scan(endpoints: EndpointResult[], policies: PolicyVerdict[] = []): ScanResult {
  return { startedAt: new Date('2025-06-01T00:00:00Z'), finishedAt: new Date('2025-06-01T00:00:02.5Z'), endpoints, policies, changes: [] };
}

function baseline(ep: Endpoint, changes: number, lastChange: string | null): BaselineEntry {
  const snap = { leafSha256: 'x', chain: [], issuer: null, leafNotAfter: null, leafSubject: null };
  return {
    key: ep.key,
    target: ep.target,
    group: ep.group,
    address: ep.address,
    current: snap,
    firstSeen: '2025-01-01T00:00:00Z',
    lastChange,
    lastSeen: '2025-06-01T00:00:00Z',
    changes,
  };
}

function lines(text: string, prefix: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${prefix}{`) || l.startsWith(`${prefix} `));
}

test('a scan becomes exactly the documented series', async () => {
  const m = createMetrics({ version: '9.9.9', processMetrics: false });
  m.configLoaded(true, {
    targets: [fe1, fe2, web].map(() => ({}) as never),
    scan: { expiryWarningMs: 90 * 86_400_000, expiryCriticalMs: 14 * 86_400_000 } as never,
  });
  await m.updateFromScan(
    scan(
      [
        ok(fe1, 'CN=Contoso Issuing', '42d1', 'a1'),
        ok(fe2, 'CN=Contoso Issuing', '42d1', 'a2', ['untrusted', 'expires_soon']),
        ok(web, 'CN=Fabrikam CA', 'f00d', 'a3'),
        failed(edge),
      ],
      [policy],
    ),
    [baseline(fe1, 2, '2025-05-01T00:00:00Z'), baseline(web, 0, null), baseline(endpoint('gone', 'g', null, 'gone'), 5, null)],
  );
  const text = await m.render();
  assert.deepEqual(lines(text, 'chainwatch_probe_success'), [
    'chainwatch_probe_success{target="pool01",group="lync-internal",address="127.0.0.11"} 1',
    'chainwatch_probe_success{target="pool01",group="lync-internal",address="127.0.0.12"} 1',
    'chainwatch_probe_success{target="pchat-web",group="pchat-web",address=""} 1',
    'chainwatch_probe_success{target="edge",group="edge",address=""} 0',
  ]);
  assert.deepEqual(lines(text, 'chainwatch_probe_error_info'), ['chainwatch_probe_error_info{target="edge",group="edge",address="",kind="timeout"} 1']);
  assert.ok(lines(text, 'chainwatch_probe_duration_seconds').includes('chainwatch_probe_duration_seconds{target="edge",group="edge",address=""} 1.5'));
  assert.deepEqual(lines(text, 'chainwatch_cert_not_after_timestamp_seconds').slice(0, 2), [
    'chainwatch_cert_not_after_timestamp_seconds{target="pool01",group="lync-internal",address="127.0.0.11",position="0",subject="CN=pool01.contoso.test",issuer="CN=Contoso Issuing",serial="0a1b",sha256="a1"} 1767225600',
    'chainwatch_cert_not_after_timestamp_seconds{target="pool01",group="lync-internal",address="127.0.0.11",position="1",subject="CN=Contoso Issuing",issuer="CN=Contoso Root",serial="0a1b",sha256="bb"} 1893456000',
  ]);
  assert.equal(lines(text, 'chainwatch_cert_not_before_timestamp_seconds').length, 6, 'two certs for each of three chains, none for the failed probe');
  // The certificate's identity is on not_after; not_before joins it on the endpoint and position.
  assert.deepEqual(lines(text, 'chainwatch_cert_not_before_timestamp_seconds').slice(0, 2), [
    'chainwatch_cert_not_before_timestamp_seconds{target="pool01",group="lync-internal",address="127.0.0.11",position="0"} 1735689600',
    'chainwatch_cert_not_before_timestamp_seconds{target="pool01",group="lync-internal",address="127.0.0.11",position="1"} 1735689600',
  ]);
  assert.deepEqual(lines(text, 'chainwatch_chain_info'), [
    'chainwatch_chain_info{target="pool01",group="lync-internal",address="127.0.0.11",leaf_sha256="a1",issuer_dn="CN=Contoso Issuing",issuer_key_id="42d1",root_dn="CN=Contoso Root"} 1',
    'chainwatch_chain_info{target="pool01",group="lync-internal",address="127.0.0.12",leaf_sha256="a2",issuer_dn="CN=Contoso Issuing",issuer_key_id="42d1",root_dn="CN=Contoso Root"} 1',
    'chainwatch_chain_info{target="pchat-web",group="pchat-web",address="",leaf_sha256="a3",issuer_dn="CN=Fabrikam CA",issuer_key_id="f00d",root_dn="CN=Contoso Root"} 1',
  ]);
  assert.deepEqual(
    lines(text, 'chainwatch_chain_trusted').map((l) => l.slice(-1)),
    ['1', '0', '1'],
  );
  assert.deepEqual(lines(text, 'chainwatch_chain_problem'), [
    'chainwatch_chain_problem{target="pool01",group="lync-internal",address="127.0.0.12",problem="untrusted"} 1',
    'chainwatch_chain_problem{target="pool01",group="lync-internal",address="127.0.0.12",problem="expires_soon"} 1',
  ]);
  assert.ok(
    lines(text, 'chainwatch_tls_info').includes(
      'chainwatch_tls_info{target="pchat-web",group="pchat-web",address="",version="TLSv1.3",cipher="TLS_AES_256_GCM_SHA384"} 1',
    ),
  );
  assert.deepEqual(lines(text, 'chainwatch_cert_changes_total'), [
    'chainwatch_cert_changes_total{target="pool01",group="lync-internal",address="127.0.0.11"} 2',
    'chainwatch_cert_changes_total{target="pchat-web",group="pchat-web",address=""} 0',
  ]);
  assert.deepEqual(lines(text, 'chainwatch_cert_last_change_timestamp_seconds'), [
    'chainwatch_cert_last_change_timestamp_seconds{target="pool01",group="lync-internal",address="127.0.0.11"} 1746057600',
    'chainwatch_cert_last_change_timestamp_seconds{target="pchat-web",group="pchat-web",address=""} 0',
  ]);
  assert.deepEqual(lines(text, 'chainwatch_policy_consistent'), ['chainwatch_policy_consistent{policy="pchat-same-ca"} 0']);
  assert.deepEqual(lines(text, 'chainwatch_policy_issuers'), ['chainwatch_policy_issuers{policy="pchat-same-ca"} 1']);
  assert.deepEqual(lines(text, 'chainwatch_policy_divergent_endpoints'), ['chainwatch_policy_divergent_endpoints{policy="pchat-same-ca"} 1']);
  assert.deepEqual(lines(text, 'chainwatch_policy_member_divergent'), [
    'chainwatch_policy_member_divergent{policy="pchat-same-ca",target="pchat-web",group="pchat-web",address=""} 1',
  ]);
  assert.deepEqual(lines(text, 'chainwatch_scans_total'), ['chainwatch_scans_total 1']);
  assert.deepEqual(lines(text, 'chainwatch_scans_skipped_total'), ['chainwatch_scans_skipped_total 0']);
  assert.deepEqual(lines(text, 'chainwatch_scan_duration_seconds_sum'), ['chainwatch_scan_duration_seconds_sum 2.5']);
  assert.deepEqual(lines(text, 'chainwatch_scan_last_completed_timestamp_seconds'), ['chainwatch_scan_last_completed_timestamp_seconds 1748736002.5']);
  assert.deepEqual(lines(text, 'chainwatch_config_last_reload_successful'), ['chainwatch_config_last_reload_successful 1']);
  assert.deepEqual(lines(text, 'chainwatch_targets'), ['chainwatch_targets 3']);
  // The thresholds in force, in seconds, for rules and dashboards to compare against.
  assert.deepEqual(lines(text, 'chainwatch_expiry_warning_seconds'), ['chainwatch_expiry_warning_seconds 7776000']);
  assert.deepEqual(lines(text, 'chainwatch_expiry_critical_seconds'), ['chainwatch_expiry_critical_seconds 1209600']);
  assert.deepEqual(lines(text, 'chainwatch_build_info'), ['chainwatch_build_info{version="9.9.9"} 1']);
  assert.match(text, /# TYPE chainwatch_cert_changes_total counter/);
  assert.match(text, /# TYPE chainwatch_scan_duration_seconds histogram/);
  assert.doesNotMatch(text, /target="gone"/, 'a baseline entry kept for its grace period is not exported');
});

test('durations are written as the shortest decimal of their 0.1 ms', async () => {
  const m = createMetrics({ version: 't', processMetrics: false });
  // Each of these divided by 1000 prints with float noise (0.004200000000000001).
  const durations = [4.2, 5.1, 1234.5, 3];
  const results = durations.map((ms, i) => {
    const r = failed(endpoint(`e${i}`, 'g', null));
    return { ...r, probe: { ...r.probe, durationMs: ms } };
  });
  await m.updateFromScan(scan(results), []);
  assert.deepEqual(
    lines(await m.render(), 'chainwatch_probe_duration_seconds').map((l) => l.split(' ')[1]),
    ['0.0042', '0.0051', '1.2345', '0.003'],
  );
});

test('series of an endpoint that left, or an address that stopped resolving, disappear at the next scan', async () => {
  const m = createMetrics({ version: '1', processMetrics: false });
  await m.updateFromScan(scan([ok(fe1, 'CN=A', '01', 'a1'), ok(fe2, 'CN=A', '01', 'a2'), ok(web, 'CN=B', '02', 'a3')], [policy]), [baseline(web, 1, null)]);
  assert.match(await m.render(), /address="127\.0\.0\.12"/);
  await m.updateFromScan(scan([ok(fe1, 'CN=A', '01', 'a1')]), [baseline(web, 1, null)]);
  const text = await m.render();
  assert.doesNotMatch(text, /address="127\.0\.0\.12"/);
  assert.doesNotMatch(text, /pchat/);
  assert.equal(lines(text, 'chainwatch_probe_success').length, 1);
  assert.deepEqual(lines(text, 'chainwatch_scans_total'), ['chainwatch_scans_total 2']);
});

test('a scrape racing an update sees one whole fleet', async () => {
  const m = createMetrics({ version: '1', processMetrics: false });
  const small = scan([ok(fe1, 'CN=A', '01', 'a1')]);
  const big = scan([ok(fe1, 'CN=A', '01', 'a1'), ok(fe2, 'CN=A', '01', 'a2'), ok(web, 'CN=B', '02', 'a3')]);
  await m.updateFromScan(small, []);
  for (let i = 0; i < 50; i++) {
    const pending = m.render();
    void m.updateFromScan(i % 2 === 0 ? big : small, []);
    const text = await pending;
    const n = lines(text, 'chainwatch_probe_success').length;
    assert.equal(lines(text, 'chainwatch_chain_info').length, n, 'every metric comes from the same scan');
    assert.ok(n === 1 || n === 3, `saw ${n} endpoints`);
  }
});

test('a scrape while a scan is being published gets the previous scan at once, counters included', async () => {
  const m = createMetrics({ version: '1', processMetrics: false });
  await m.updateFromScan(scan([ok(fe1, 'CN=A', '01', 'a1')]), []);
  const published = m.updateFromScan(scan([ok(fe1, 'CN=A', '01', 'a1'), ok(fe2, 'CN=A', '01', 'a2'), ok(web, 'CN=B', '02', 'a3')]), []);
  const during = await m.render();
  assert.equal(lines(during, 'chainwatch_probe_success').length, 1);
  assert.deepEqual(lines(during, 'chainwatch_scans_total'), ['chainwatch_scans_total 1']);
  await published;
  const after = await m.render();
  assert.equal(lines(after, 'chainwatch_probe_success').length, 3);
  assert.deepEqual(lines(after, 'chainwatch_scans_total'), ['chainwatch_scans_total 2']);
});

test('a scan that cannot be published does not hold back the next one', async () => {
  const m = createMetrics({ version: '1', processMetrics: false });
  // An invalid finishing time makes the duration histogram refuse the observation.
  await assert.rejects(m.updateFromScan({ ...scan([ok(fe1, 'CN=A', '01', 'a1')]), finishedAt: new Date(Number.NaN) }, []), /not a valid number/);
  await m.updateFromScan(scan([ok(fe1, 'CN=A', '01', 'a1'), ok(fe2, 'CN=A', '01', 'a2')]), []);
  assert.equal(lines(await m.render(), 'chainwatch_probe_success').length, 2);
});

test('label values are bounded and escaped; process metrics are present by default', async () => {
  const m = createMetrics({ version: '1' });
  const long = `CN=${'x'.repeat(1000)}"\\`;
  const r = ok(fe1, long, '01', 'a1');
  r.analysis!.chain = Array.from({ length: 40 }, (_, i) => cert(`CN=c${i}`, 'CN=i', `s${i}`, '2030-01-01T00:00:00Z'));
  await m.updateFromScan(scan([r]), []);
  const text = await m.render();
  assert.equal(lines(text, 'chainwatch_cert_not_after_timestamp_seconds').length, 16);
  const info = lines(text, 'chainwatch_chain_info')[0]!;
  assert.ok(info.length < 700, info);
  assert.match(text, /^process_cpu_user_seconds_total /m);
  assert.match(text, /^nodejs_eventloop_lag_seconds /m);
  m.alertDeliveries.inc({ receiver: 'teams-ops', result: 'success' });
  assert.match(await m.render(), /chainwatch_alert_deliveries_total\{receiver="teams-ops",result="success"\} 1/);
});

test('target labels ride on chain_info and policy_member_divergent, empty where a target has none, and follow a reload', async () => {
  const m = createMetrics({ version: '9.9.9', processMetrics: false });
  const dub = { ...endpoint('dub-web', 'pchat-web', null, 'dub-web'), labels: { site: 'dublin', pool: 'pool01' } };
  const lon = { ...endpoint('lon-web', 'pchat-web', null, 'lon-web'), labels: { site: 'london' } };
  const member = (ep: Endpoint, scope: string) => ({ key: ep.key, target: ep.target, group: ep.group, address: ep.address, scope, asReference: false });
  const scoped: PolicyVerdict = {
    ...policy,
    name: 'pchat-web-same-ca',
    scope: 'site',
    divergent: [{ ...member(dub, 'dublin'), issuer: { dn: 'CN=London CA', keyId: '1d' }, expected: [{ dn: 'CN=Dublin CA', keyId: 'db' }] }],
    matching: [member(lon, 'london')],
  };
  await m.updateFromScan(
    scan([ok(dub, 'CN=London CA', '1d', 'a1'), ok(lon, 'CN=London CA', '1d', 'a2'), ok(edge, 'CN=Contoso Issuing', '42d1', 'a3')], [scoped]),
    [],
  );
  let text = await m.render();
  assert.deepEqual(lines(text, 'chainwatch_chain_info'), [
    'chainwatch_chain_info{target="dub-web",group="pchat-web",address="",leaf_sha256="a1",issuer_dn="CN=London CA",issuer_key_id="1d",root_dn="CN=Contoso Root",pool="pool01",site="dublin"} 1',
    'chainwatch_chain_info{target="lon-web",group="pchat-web",address="",leaf_sha256="a2",issuer_dn="CN=London CA",issuer_key_id="1d",root_dn="CN=Contoso Root",pool="",site="london"} 1',
    'chainwatch_chain_info{target="edge",group="edge",address="",leaf_sha256="a3",issuer_dn="CN=Contoso Issuing",issuer_key_id="42d1",root_dn="CN=Contoso Root",pool="",site=""} 1',
  ]);
  assert.deepEqual(lines(text, 'chainwatch_policy_member_divergent'), [
    'chainwatch_policy_member_divergent{policy="pchat-web-same-ca",target="lon-web",group="pchat-web",address="",pool="",site="london"} 0',
    'chainwatch_policy_member_divergent{policy="pchat-web-same-ca",target="dub-web",group="pchat-web",address="",pool="pool01",site="dublin"} 1',
  ]);
  assert.deepEqual(
    lines(text, 'chainwatch_probe_success')[0],
    'chainwatch_probe_success{target="dub-web",group="pchat-web",address=""} 1',
    'other series keep their labels',
  );

  // A reload that drops every label: the label names go with it.
  await m.updateFromScan(scan([ok(edge, 'CN=Contoso Issuing', '42d1', 'a3')]), []);
  text = await m.render();
  assert.deepEqual(lines(text, 'chainwatch_chain_info'), [
    'chainwatch_chain_info{target="edge",group="edge",address="",leaf_sha256="a3",issuer_dn="CN=Contoso Issuing",issuer_key_id="42d1",root_dn="CN=Contoso Root"} 1',
  ]);
  assert.equal(text.match(/# HELP chainwatch_chain_info /g)?.length, 1);
});

test('chainwatch_policy_judged_locally follows the latest config: 1 whole here, 0 spread over shards, gone when dropped', async () => {
  const m = createMetrics({ version: 'test', processMetrics: false });
  m.policiesJudgedLocally(
    new Map([
      ['pchat-web-same-ca', false],
      ['edge-one-ca', true],
    ]),
  );
  let text = await m.render();
  assert.match(text, /^chainwatch_policy_judged_locally\{policy="pchat-web-same-ca"\} 0$/m);
  assert.match(text, /^chainwatch_policy_judged_locally\{policy="edge-one-ca"\} 1$/m);
  m.policiesJudgedLocally(new Map([['edge-one-ca', true]]));
  text = await m.render();
  assert.doesNotMatch(text, /pchat-web-same-ca/);
  assert.match(text, /^chainwatch_policy_judged_locally\{policy="edge-one-ca"\} 1$/m);
});

test('revocation: per certificate revoked 0/1, per CRL fetch success, nextUpdate and duration, per OCSP responder its status', async () => {
  const m = createMetrics({ version: '9.9.9', processMetrics: false });
  const r = ok(fe1, 'CN=Contoso Issuing', '42d1', 'a1');
  const status = (s: 'good' | 'revoked' | 'unknown') => ({
    status: s,
    source: null,
    crlUrl: null,
    ocspUrl: null,
    thisUpdate: null,
    nextUpdate: null,
    revokedAt: null,
    reason: null,
    error: null,
  });
  const url = (u: string, kind: 'crl' | 'ocsp', over: object = {}) => ({
    url: u,
    kind,
    checked: true,
    reachable: true,
    stale: false,
    expiring: false,
    thisUpdate: null,
    nextUpdate: '2025-06-02T00:00:00.000Z',
    fetchedAt: null,
    durationMs: 250,
    ocspStatus: kind === 'ocsp' ? 'successful' : null,
    error: null,
    endpoints: [],
    ...over,
  });
  await m.updateFromScan(
    {
      ...scan([
        { ...r, revocation: [status('revoked'), status('good')] },
        { ...ok(fe2, 'CN=Contoso Issuing', '42d1', 'a2'), revocation: [status('unknown'), null] },
      ]),
      revocationUrls: [
        url('http://pki.test/a.crl', 'crl'),
        url('http://pki.test/b.crl', 'crl', { reachable: false, nextUpdate: null, error: 'timeout' }),
        url('http://ocsp.test/', 'ocsp', { ocspStatus: 'tryLater' }),
        url('ldap:///CN=x', 'crl', { checked: false, reachable: null }),
      ],
    },
    [],
  );
  const text = await m.render();
  assert.deepEqual(lines(text, 'chainwatch_cert_revoked'), [
    'chainwatch_cert_revoked{target="pool01",group="lync-internal",address="127.0.0.11",position="0"} 1',
    'chainwatch_cert_revoked{target="pool01",group="lync-internal",address="127.0.0.11",position="1"} 0',
  ]);
  assert.deepEqual(lines(text, 'chainwatch_crl_fetch_success'), [
    'chainwatch_crl_fetch_success{url="http://pki.test/a.crl"} 1',
    'chainwatch_crl_fetch_success{url="http://pki.test/b.crl"} 0',
  ]);
  assert.deepEqual(lines(text, 'chainwatch_crl_next_update_timestamp_seconds'), [
    'chainwatch_crl_next_update_timestamp_seconds{url="http://pki.test/a.crl"} 1748822400',
  ]);
  assert.deepEqual(lines(text, 'chainwatch_crl_fetch_duration_seconds'), [
    'chainwatch_crl_fetch_duration_seconds{url="http://pki.test/a.crl"} 0.25',
    'chainwatch_crl_fetch_duration_seconds{url="http://pki.test/b.crl"} 0.25',
  ]);
  assert.deepEqual(lines(text, 'chainwatch_ocsp_response_status'), ['chainwatch_ocsp_response_status{url="http://ocsp.test/",status="tryLater"} 1']);
});
