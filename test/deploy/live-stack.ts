// The whole picture, all real, on loopback: TLS servers with certificates from the test PKI,
// `chainwatch run` scanning them and pushing to Debian's Alertmanager (with the shipped inhibit
// rules), and Debian's Prometheus loading what `chainwatch rules` generates for that config and
// sending its alerts to the same Alertmanager. The fleet shows every condition the rules and the
// dashboard are about: a divergence (once a test swaps one server's CA), a failing probe, a
// change, leaves in the warning and critical expiry bands, a revoked leaf whose CA publishes a
// CRL on loopback, and alert deliveries.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { issueCrl, type RevokedEntry } from '../../src/demo/pki.js';
import { type RevocationServer, startRevocationServer } from '../../src/demo/revocation-server.js';
import { type ServedEndpoint, serveChain } from '../../src/demo/servers.js';
import { chainwatch } from '../helpers/cli.js';
import { type ChainwatchProcess, killAll, REPO, spawnChainwatch } from '../helpers/daemon-process.js';
import { chainPems, type StandardPki, standardPki } from '../helpers/fixtures.js';
import { freePort } from '../helpers/ports.js';
import { type RunningAlertmanager, type RunningPrometheus, startAlertmanager, startPrometheus } from '../output/alerts/processes.js';

export const DAY_S = 86_400;
/** Deliberately not the defaults, so a constant anywhere would show. */
export const EXPIRY_WARNING_DAYS = 90;
export const EXPIRY_CRITICAL_DAYS = 20;
export const STATUS_PAGE = 'http://chainwatch.contoso.test:9862';

export interface LiveStack {
  pki: StandardPki;
  dir: string;
  daemonUrl: string;
  daemon: ChainwatchProcess;
  prometheus: RunningPrometheus;
  alertmanager: RunningAlertmanager;
  /** The rule file `chainwatch rules` printed for the config. */
  rulesText: string;
  /** Re-serves pchat-web server web2 on its port with a leaf from `issuer`. */
  serveWeb2(issuer: 'contoso' | 'fabrikam'): Promise<void>;
  /** Instant query; the result vector. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  close(): Promise<void>;
}

export async function startLiveStack(): Promise<LiveStack> {
  // What has started so far: a stack that fails half-way stops it all, or its servers would hold
  // the test file open until its timeout.
  const stops: (() => unknown)[] = [];
  try {
    const pki = await standardPki();
    const dir = mkdtempSync(join(tmpdir(), 'chainwatch-live-'));
    stops.push(() => rmSync(dir, { recursive: true, force: true }));
    const servers = new Map<string, ServedEndpoint>();
    const now = Date.now();
    // The CRL's URL goes into a certificate, so its server listens first (on a port it binds
    // itself) and gets the CRL once the revoked certificate exists.
    const crls: Record<string, Buffer> = {};
    const revoked: RevokedEntry[] = [];
    const crlServer: RevocationServer = await startRevocationServer({ host: '127.0.0.1', port: 0, crls, ocsp: { ca: pki.contosoIssuing01, revoked } });
    stops.push(() => crlServer.close());
    const crlUrl = `${crlServer.url}/contoso-issuing-01.crl`;
    const leafOf = (ca: typeof pki.contosoIssuing01, host: string, days: number, crl = false) =>
      pki.leaf(ca, host, { notAfter: new Date(now + days * DAY_S * 1000), ...(crl ? { crlUrls: [crlUrl] } : {}) });
    const serve = async (name: string, host: string, issuer: 'contoso' | 'fabrikam', days = 365, port = 0, crl = false) => {
      const ca = issuer === 'contoso' ? pki.contosoIssuing01 : pki.fabrikamTlsCa;
      const leaf = await leafOf(ca, host, days, crl);
      const s = await serveChain({ host: '127.0.0.1', port, key: leaf.keyPem, chain: chainPems(leaf, ca) });
      servers.set(name, s);
      stops.push(() => s.close());
      return s;
    };
    writeFileSync(join(dir, 'root.pem'), `${pki.contosoRoot.pem}\n${pki.fabrikamRoot.pem}`);
    await Promise.all([
      serve('pool01-a', 'pool01a.contoso.test', 'contoso'),
      serve('pool01-b', 'pool01b.contoso.test', 'contoso'),
      serve('web1', 'web1.contoso.test', 'contoso'),
      serve('web2', 'web2.contoso.test', 'contoso'),
      // Inside the warning band, and inside the critical band.
      serve('edge-soon', 'edge1.contoso.test', 'contoso', 50),
      serve('edge-critical', 'edge2.contoso.test', 'contoso', 10),
      serve('edge-revoked', 'edge4.contoso.test', 'contoso', 365, 0, true),
    ]);
    revoked.push({ serialNumber: (await leafOf(pki.contosoIssuing01, 'edge4.contoso.test', 365, true)).serialNumber });
    crls['/contoso-issuing-01.crl'] = await issueCrl(pki.contosoIssuing01, { revoked });
    const deadPort = await freePort();

    const am = await startAlertmanager({
      inhibitRules: (parse(readFileSync(join(REPO, 'deploy/alertmanager/alertmanager.yml'), 'utf8')) as { inhibit_rules: unknown[] }).inhibit_rules,
    });
    stops.push(() => am.stop());
    // Two sites, as the dashboard's site variable expects: the Lync pool in Dublin, the Edge in London.
    const target = (name: string, group: string, host: string) =>
      `  - name: ${name}\n    group: ${group}\n    host: ${host}\n    port: ${servers.get(name)!.port}\n    address: 127.0.0.1\n    labels: {site: ${group === 'edge-internal' ? 'london' : 'dublin'}}\n`;
    const configFile = join(dir, 'chainwatch.yaml');
    writeFileSync(
      configFile,
      `scan:
  schedule: "*/2 * * * * *"
  timeout: 3s
  expiry_warning: ${EXPIRY_WARNING_DAYS}d
  expiry_critical: ${EXPIRY_CRITICAL_DAYS}d
trust:
  ca_files: [root.pem]
  system_roots: false
state:
  path: ./state
server:
  listen: 127.0.0.1:0
  external_url: ${STATUS_PAGE}
alerting:
  alertmanager_url: ${am.url}
  resend_interval: 2s
targets:
${target('pool01-a', 'lync-internal', 'pool01a.contoso.test')}${target('pool01-b', 'lync-internal', 'pool01b.contoso.test')}${target('web1', 'pchat-web', 'web1.contoso.test')}${target('web2', 'pchat-web', 'web2.contoso.test')}${target('edge-soon', 'edge-internal', 'edge1.contoso.test')}${target('edge-critical', 'edge-internal', 'edge2.contoso.test')}${target('edge-revoked', 'edge-internal', 'edge4.contoso.test')}  - name: edge-down
    group: edge-internal
    host: edge3.contoso.test
    port: ${deadPort}
    address: 127.0.0.1
    labels: {site: london}
policies:
  - name: pchat-web-same-ca
    reference: lync-internal
    members: [pchat-web]
    scope: site
`,
    );

    const rulesText = await writeGeneratedRules(configFile, join(dir, 'rules.yml'));

    const daemon = spawnChainwatch(['run', '--config', configFile]);
    const started = await daemon.waitForLog((r) => r.msg === 'chainwatch started', 'the daemon to start', 60_000);
    const daemonUrl = String(started.listen);
    const prometheus = await startRulesPrometheus(join(dir, 'rules.yml'), new URL(daemonUrl).host, new URL(am.url).host);
    stops.push(() => prometheus.stop());

    return {
      pki,
      dir,
      daemonUrl,
      daemon,
      prometheus,
      alertmanager: am,
      rulesText,
      async serveWeb2(issuer) {
        const old = servers.get('web2')!;
        await old.close();
        await serve('web2', 'web2.contoso.test', issuer, 365, old.port);
      },
      async query(expr) {
        const res = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
        const body = (await res.json()) as { status: string; error?: string; data: { resultType: string; result: unknown } };
        if (body.status !== 'success') throw new Error(`query failed: ${body.error} in ${expr}`);
        if (body.data.resultType === 'scalar') {
          const [t, v] = body.data.result as [number, string];
          return [{ metric: {}, value: [t, v] }];
        }
        return body.data.result as { metric: Record<string, string>; value: [number, string] }[];
      },
      async close() {
        killAll();
        await Promise.all([prometheus.stop(), am.stop(), crlServer.close(), ...[...servers.values()].map((s) => s.close())]);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    killAll();
    await Promise.allSettled(stops.map(async (stop) => stop()));
    throw err;
  }
}

/**
 * Writes what `chainwatch rules --config configFile` prints to `path`, with the PromQL form's
 * settling time cut to nothing (it waits 10 minutes for shards; a test cannot). Returns the text
 * as printed.
 */
export async function writeGeneratedRules(configFile: string, path: string): Promise<string> {
  const generated = await chainwatch('rules', '--config', configFile);
  if (generated.code !== 0) throw new Error(`chainwatch rules failed: ${generated.stderr}`);
  const rules = parse(generated.stdout) as { groups: { rules: { for?: string; labels?: Record<string, string> }[] }[] };
  for (const r of rules.groups.flatMap((g) => g.rules)) if (r.labels?.judged_by === 'prometheus') r.for = '0s';
  writeFileSync(path, stringify(rules));
  return generated.stdout;
}

/** Debian's Prometheus scraping the daemon at `daemonHost` every second and evaluating `rulesPath` as often. */
export function startRulesPrometheus(rulesPath: string, daemonHost: string, alertmanagerHost?: string): Promise<RunningPrometheus> {
  const alerting = alertmanagerHost ? `alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['${alertmanagerHost}']\n` : '';
  return startPrometheus(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - ${rulesPath}
${alerting}scrape_configs:
  - job_name: chainwatch
    static_configs:
      - targets: ['${daemonHost}']
`);
}
