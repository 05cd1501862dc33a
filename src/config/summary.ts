// What `chainwatch check-config` prints. Never prints secrets: webhook and Alertmanager URLs
// often carry tokens or credentials, so only their scheme and host are shown.

import { formatHostPort } from '../util/address.js';
import { pemCertificates } from '../util/pem.js';
import { formatDuration } from './duration.js';
import { formatSize } from './size.js';
import type { Config, TargetConfig } from './types.js';

/** scheme://host[:port] of a URL, nothing else. */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    return `${url.protocol}//${url.host}`;
  } catch {
    return '(invalid URL)';
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The first `max` targets of a group, and how many more there are. */
function listTargets(targets: TargetConfig[], max: number): string {
  const shown = targets.slice(0, max).map(targetLine).join(', ');
  return targets.length <= max ? shown : `${shown}, … (+${targets.length - max})`;
}

function targetLine(t: TargetConfig): string {
  const where = t.address ? ` via ${t.address}` : t.resolve === 'all' ? ' (every address)' : '';
  return `${t.name} ${formatHostPort(t.host, t.port)}${where}`;
}

export function summarizeConfig(c: Config): string {
  const out: string[] = [`config ${c.source}`];

  const groups = new Map<string, TargetConfig[]>();
  for (const t of c.targets) {
    const members = groups.get(t.group);
    if (members) members.push(t);
    else groups.set(t.group, [t]);
  }
  out.push(`targets: ${plural(c.targets.length, 'target')} in ${plural(groups.size, 'group')}`);
  const width = Math.max(...[...groups.keys()].map((g) => g.length));
  for (const [group, targets] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    out.push(`  ${group.padEnd(width)}  ${String(targets.length).padStart(3)}  ${listTargets(targets, 4)}`);
  }
  const mtls = c.targets.filter((t) => t.clientCert).length;
  if (mtls > 0) out.push(`  ${plural(mtls, 'target')} present a client certificate`);

  out.push(`policies: ${c.policies.length === 0 ? 'none' : c.policies.length}`);
  for (const p of c.policies) {
    const ca = p.match === 'root' ? 'root CA' : 'issuing CA';
    const against = p.reference ? `must use the most common ${ca} of ${p.reference}` : `must share one ${ca}`;
    const pins = p.allowedIssuers.length > 0 ? `; pinned to ${plural(p.allowedIssuers.length, 'issuer')}` : '';
    const scope = p.scope ? `, per ${p.scope}` : '';
    out.push(`  ${p.name}: ${p.members.join(', ')} ${against}${scope}${pins}`);
  }

  out.push(
    `schedule: ${c.scan.schedule} (timeout ${formatDuration(c.scan.timeoutMs)}, concurrency ${c.scan.concurrency}${c.scan.probeProcesses === null ? '' : ` in ${c.scan.probeProcesses} probe processes`}, expiry warning ${formatDuration(c.scan.expiryWarningMs)}, critical ${formatDuration(c.scan.expiryCriticalMs)})`,
  );
  out.push(`dns: ${c.dns.servers.length === 0 ? 'system resolver' : `servers ${c.dns.servers.join(', ')}`}`);
  const anchors = c.trust.caFiles.map((f, i) => `${f} (${plural(pemCertificates(c.trust.caPems[i] ?? '').length, 'certificate')})`);
  const trust = [...anchors, ...(c.trust.systemRoots ? ['system roots'] : [])];
  out.push(`trust: ${trust.length === 0 ? 'nothing (every chain will be untrusted)' : trust.join(' + ')}`);
  out.push(`state: ${c.state.path} (retention ${formatDuration(c.state.retentionMs)})`);
  const listen = formatHostPort(c.server.listen.host, c.server.listen.port);
  out.push(`listen: ${listen}${c.server.externalUrl ? ` (status page ${redactUrl(c.server.externalUrl)})` : ''}`);

  const r = c.revocation;
  out.push(
    `revocation: ${r.enabled ? `CRL${r.ocsp ? ' + OCSP' : ''} + stapled OCSP (refresh ${formatDuration(r.refreshMs)}, timeout ${formatDuration(r.timeoutMs)}, CRLs up to ${formatSize(r.maxCrlBytes)}, stale warning ${formatDuration(r.staleWarningMs)})` : 'off'}`,
  );

  const receivers = [
    ...c.alerting.alertmanagerUrls.map((u) => `alertmanager ${redactUrl(u)}`),
    ...c.alerting.webhooks.map((w) => `${w.format} webhook ${redactUrl(w.url)}`),
  ];
  out.push(
    `alerting: ${receivers.length === 0 ? 'none (metrics and status page only)' : `${receivers.join(', ')}; re-send every ${formatDuration(c.alerting.resendIntervalMs)}`}`,
  );
  return out.join('\n');
}
