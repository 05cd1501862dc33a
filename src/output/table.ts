import { caLabel } from '../chain/ca-label.js';
import { type EndpointReport, endpointStatus, type Report } from './report.js';

const DAY_MS = 86_400_000;

/**
 * The human report of `chainwatch scan`: one line per endpoint, then each policy with, for a
 * divergent member, its CA beside the expected one, then changes. Aligned for 120 columns.
 */
export function formatTable(report: Report, now: Date = new Date(report.finishedAt)): string {
  const rows = report.targets.map((t) => [
    t.target,
    t.address ? `${t.address}:${t.port}` : `${t.host}:${t.port}`,
    endpointStatus(t),
    t.issuer ? caLabel(t.issuer) : '-',
    daysLeft(t, now),
    t.ok ? t.problems.join(',') || '-' : `${t.error?.kind}: ${t.error?.message ?? ''}`,
  ]);
  const lines = [...align(['TARGET', 'ENDPOINT', 'STATUS', 'ISSUER (KEY)', 'DAYS', 'PROBLEMS'], rows, [22, 24, 8, 38, 5])];
  if (report.policies.length > 0) {
    lines.push('', 'POLICIES');
    for (const p of report.policies) {
      const state = p.consistent ? 'consistent' : `DIVERGENT (${p.divergent.length})`;
      const unknown = p.unknown.length > 0 ? `, ${p.unknown.length} unknown` : '';
      const expected = p.expected.length > 0 ? p.expected.map(caLabel).join(' | ') : 'no common CA';
      const how = [`match ${p.match}`, ...(p.reference ? [`reference ${p.reference}`] : []), ...(p.scope ? [`per ${p.scope}`] : [])].join(', ');
      lines.push(`  ${p.name} [${how}]: ${state}${unknown}`);
      if (!p.scope) lines.push(`    expected: ${expected}`);
      else {
        for (const s of p.scopes) {
          const exp = s.expected.length > 0 ? s.expected.map(caLabel).join(' | ') : 'no common CA';
          const counts = `${s.matching} matching, ${s.divergent} divergent${s.unknown > 0 ? `, ${s.unknown} unknown` : ''}`;
          lines.push(`    ${p.scope}=${s.value || '(none)'}: expected ${exp} (${counts})`);
        }
      }
      for (const d of p.divergent) {
        const exp = d.expected.length > 0 ? d.expected.map(caLabel).join(' | ') : 'no common CA';
        const where = d.scope !== null ? ` [${p.scope}=${d.scope || '(none)'}]` : '';
        lines.push(`    ✗ ${memberLabel(d)}${d.asReference ? ' (reference)' : ''}${where} has ${caLabel(d.issuer)}, expected ${exp}`);
      }
      for (const u of p.unknown) lines.push(`    ? ${memberLabel(u)}: ${u.reason}`);
      for (const n of p.notes) lines.push(`    note: ${n}`);
    }
  }
  if (report.changes.length > 0) {
    lines.push('', 'CHANGES SINCE THE BASELINE');
    for (const c of report.changes) {
      const to = c.to.issuer ? caLabel(c.to.issuer) : '?';
      const from = c.from.issuer ? caLabel(c.from.issuer) : '?';
      const what =
        c.kind === 'renewal'
          ? `renewed under ${to}`
          : c.kind === 'issuer_change'
            ? `issuer changed from ${from} to ${to}`
            : 'same leaf, different CA certificates sent';
      lines.push(`  ${memberLabel(c)}: ${c.kind}: ${what}`);
    }
  }
  lines.push(...revocationLines(report));
  const s = report.summary;
  if (report.targets.some((t) => endpointStatus(t) === 'MTLS')) {
    lines.push('', 'MTLS: the chain was read; the server then ended the handshake for want of a client certificate (normal on MTLS ports).');
  }
  lines.push(
    '',
    `${s.endpoints} endpoints, ${s.failed} failed, ${s.withProblems} with problems, ${s.divergent} divergent in ${s.inconsistentPolicies}/${s.policies} policies, ${s.changes} changes`,
  );
  return `${lines.join('\n')}\n`;
}

/**
 * Revoked certificates, then CRL / OCSP locations that are not healthy, with who depends on them.
 * Certificates whose status is unknown show in PROBLEMS; the JSON report has each one's error.
 */
function revocationLines(report: Report): string[] {
  const lines: string[] = [];
  for (const t of report.targets) {
    t.chain.forEach((c, i) => {
      const r = c.revocation;
      if (r?.status === 'revoked')
        lines.push(`  ✗ ${memberLabel(t)} #${i} ${c.subject}: revoked ${r.revokedAt ?? ''}${r.reason ? ` (${r.reason})` : ''} per ${r.source}`);
    });
  }
  for (const u of report.revocation?.urls ?? []) {
    const state = !u.checked ? 'not checked' : u.stale ? 'STALE' : u.reachable === false ? 'UNREACHABLE' : u.error ? 'INVALID' : u.expiring ? 'expiring' : null;
    if (!state) continue;
    lines.push(`  ${state} ${u.kind} ${u.url}${u.nextUpdate ? ` (nextUpdate ${u.nextUpdate})` : ''}`);
    if (u.error) lines.push(`      ${u.error}`);
    lines.push(`      used by ${u.endpoints.join(', ') || '-'}`);
  }
  return lines.length > 0 ? ['', 'REVOCATION', ...lines.map((l) => fit(l, 120))] : [];
}

function daysLeft(t: EndpointReport, now: Date): string {
  const leaf = t.chain[0];
  if (!leaf?.notAfter) return '-';
  return String(Math.floor((Date.parse(leaf.notAfter) - now.getTime()) / DAY_MS));
}

function memberLabel(m: { target: string; address: string | null; key: string }): string {
  return m.key !== m.target && m.address ? `${m.target} ${m.address}` : m.target;
}

function align(header: string[], rows: string[][], widths: number[]): string[] {
  const cols = header.length;
  const w = header.map((h, i) => Math.min(widths[i] ?? Infinity, Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length))));
  const fmt = (r: string[]): string =>
    r
      .map((cell, i) => (i === cols - 1 ? cell : fit(cell, w[i]!).padEnd(w[i]!)))
      .join('  ')
      .trimEnd();
  return [fmt(header), ...rows.map(fmt)];
}

function fit(s: string, width: number): string {
  return s.length <= width ? s : `${s.slice(0, width - 1)}…`;
}
