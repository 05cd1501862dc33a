// One target's page, /targets/<name>: where alerts link. Each of its endpoints with the chain
// exactly as presented (every certificate's fields), its problems, how the policies judged it,
// and its history in the baseline.

import type { PolicyVerdict } from '../../fleet/types.js';
import type { CertificateRevocation } from '../../revocation/types.js';
import type { EndpointReport, ReportedCertificate } from '../report.js';
import type { StatusSnapshot } from '../status.js';
import { type Html, html } from './html.js';
import { layout, time } from './layout.js';
import { ca, expirySeverity, type PageContext, statusBadge, where } from './view.js';

export interface TargetPage {
  /** 404 when the last scan has no such target, 503 before the first scan. */
  status: 200 | 404 | 503;
  html: string;
}

export function renderTarget(snapshot: StatusSnapshot | null, ctx: PageContext, name: string): TargetPage {
  const back = html`<p><a href="/">← all targets</a></p>`;
  if (snapshot === null) {
    return { status: 503, html: layout(`${name} — chainwatch`, html`${back}<h1>${name}</h1><p>The first scan is still running; try again shortly.</p>`) };
  }
  const endpoints = snapshot.report.targets.filter((t) => t.target === name);
  if (endpoints.length === 0) {
    return {
      status: 404,
      html: layout(
        `${name} — chainwatch`,
        html`${back}<h1>${name}</h1><p>The last scan has no target named <b>${name}</b>. It may have been renamed or removed from the config.</p>`,
      ),
    };
  }
  const history = snapshot.report.changes.filter((c) => c.target === name);
  const body = html`${back}
<h1>${name}</h1>
<p class="muted">Group ${endpoints[0]!.group}${endpoints[0]!.role && `, role ${endpoints[0]!.role}`}. Scanned ${time(snapshot.report.finishedAt)}.</p>
${endpoints.map((t) => endpoint(t, snapshot, ctx))}
<h2 id="history">History</h2>
${
  history.length === 0
    ? html`<p class="muted">No change recorded among the recent changes.</p>`
    : html`<div class="scroll"><table class="history"><thead><tr><th>when</th><th>endpoint</th><th>change</th><th>from</th><th>to</th><th>new leaf</th></tr></thead><tbody>
${history.map((c) => html`<tr><td>${time(c.at)}</td><td class="mono">${c.address ?? ''}</td><td>${c.kind.replace('_', ' ')}</td><td>${ca(c.from.issuer)}</td><td>${ca(c.to.issuer)}</td><td>${c.to.leafSubject ?? ''} <span class="muted">valid until</span> ${time(c.to.leafNotAfter)}</td></tr>`)}
</tbody></table></div>`
}`;
  return { status: 200, html: layout(`${name} — chainwatch`, body) };
}

function endpoint(t: EndpointReport, snapshot: StatusSnapshot, ctx: PageContext): Html {
  const h = snapshot.history.get(t.key);
  return html`<section class="endpoint" data-key="${t.key}">
<h2>${where(t)} ${statusBadge(t)}</h2>
<dl class="fields">
<dt>host</dt><dd>${t.host}</dd>
${t.sni !== null && html`<dt>SNI</dt><dd>${t.sni}</dd>`}
${t.url !== null && html`<dt>URL</dt><dd>${t.url}</dd>`}
<dt>TLS</dt><dd>${t.tls ? `${t.tls.version ?? '?'} ${t.tls.cipher ?? ''}${t.tls.completed ? '' : `, ended by the server${t.tls.alert ? ` (${t.tls.alert})` : ''}`}` : 'no TLS conversation'}</dd>
<dt>issuing CA</dt><dd>${ca(t.issuer)}</dd>
<dt>root</dt><dd>${t.root ? html`${t.root.dn}` : html`<span class="muted">unknown</span>`} ${t.ok && html`(${t.trusted ? html`<span class="ok">trusted</span>` : html`<span class="bad">not trusted</span>`})`}</dd>
${t.ok && html`<dt>hostname</dt><dd>${t.hostnameMatch ? html`<span class="ok">matches</span>` : html`<span class="bad">does not match</span>`}</dd>`}
<dt>probe</dt><dd>${t.durationMs} ms</dd>
${h && html`<dt>first seen</dt><dd>${time(h.firstSeen)}</dd><dt>last change</dt><dd>${time(h.lastChange)} (${h.changes} changes)</dd>`}
</dl>
${t.error && html`<p class="error"><span class="badge bad">${t.error.kind}</span> ${t.error.message}</p>`}
${t.problems.length > 0 && html`<p>Problems: ${t.problems.map((p) => html`<span class="badge warn">${p}</span> `)}</p>`}
${verdicts(t, snapshot.report.policies)}
<h3>Chain as presented (${t.chain.length} certificate${t.chain.length === 1 ? '' : 's'})</h3>
${t.chain.length === 0 ? html`<p class="muted">No certificate was obtained.</p>` : html`<ol class="chain" start="0">${t.chain.map((c) => html`<li>${certificate(c, ctx)}</li>`)}</ol>`}
</section>`;
}

function verdicts(t: EndpointReport, policies: readonly PolicyVerdict[]): Html {
  const rows: Html[] = [];
  for (const p of policies) {
    const d = p.divergent.find((m) => m.key === t.key);
    const u = p.unknown.find((m) => m.key === t.key);
    const m = p.matching.find((x) => x.key === t.key);
    // The endpoint's own scope (its site) decides what it is expected to chain to.
    const own = d ? d.expected : m ? (p.scopes.find((s) => s.value === m.scope)?.expected ?? p.expected) : p.expected;
    const expected = own.length > 0 ? own.map((e, i) => html`${i > 0 && ' or '}${ca(e)}`) : html`no expected CA`;
    if (d) rows.push(html`<tr class="divergent"><td>${p.name}</td><td class="bad">divergent</td><td class="bad">${ca(d.issuer)}</td><td>${expected}</td></tr>`);
    else if (u) rows.push(html`<tr><td>${p.name}</td><td class="warn">not judged</td><td colspan="2">${u.reason}</td></tr>`);
    else if (m) rows.push(html`<tr><td>${p.name}</td><td class="ok">consistent</td><td>${ca(t.issuer)}</td><td>${expected}</td></tr>`);
  }
  if (rows.length === 0) return html``;
  return html`<h3>Policies</h3><div class="scroll"><table class="verdicts"><thead><tr><th>policy</th><th>verdict</th><th>presents</th><th>expected</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

function certificate(c: ReportedCertificate, ctx: PageContext): Html {
  const sev = c.notAfter ? expirySeverity(c.notAfter, ctx) : 'ok';
  const key = `${c.publicKey.algorithm}${c.publicKey.bits ? ` ${c.publicKey.bits}` : ''}${c.publicKey.curve ? ` ${c.publicKey.curve}` : ''}`;
  return html`<dl class="fields cert">
<dt>subject</dt><dd class="subject">${c.subject}</dd>
<dt>issuer</dt><dd>${c.issuer}</dd>
<dt>valid</dt><dd>${time(c.notBefore)} → <span class="${sev}">${time(c.notAfter)}</span></dd>
<dt>serial</dt><dd class="mono">${c.serialNumber}</dd>
${c.dnsNames.length > 0 && html`<dt>DNS names</dt><dd>${c.dnsNames.join(', ')}</dd>`}
${c.ipAddresses.length > 0 && html`<dt>IP addresses</dt><dd>${c.ipAddresses.join(', ')}</dd>`}
<dt>key</dt><dd>${key}${c.isCA ? ', CA' : ''}</dd>
<dt>signature</dt><dd>${c.signatureAlgorithm}</dd>
<dt>subject key id</dt><dd class="mono">${c.subjectKeyId ?? '–'}</dd>
<dt>authority key id</dt><dd class="mono">${c.authorityKeyId ?? '–'}</dd>
<dt>SHA-256</dt><dd class="mono">${c.sha256}</dd>
<dt>SPKI SHA-256</dt><dd class="mono">${c.spkiSha256}</dd>
${c.revocation && html`<dt>revocation</dt><dd>${revocation(c.revocation)}</dd>`}
</dl>`;
}

function revocation(r: CertificateRevocation): Html {
  const cls = r.status === 'good' ? 'ok' : r.status === 'revoked' ? 'bad' : 'warn';
  return html`<span class="${cls}">${r.status}</span>${r.source && ` by ${r.source}`}${r.revokedAt && html` on ${time(r.revokedAt)}`}${r.reason && ` (${r.reason})`}${r.nextUpdate && html`, answer valid until ${time(r.nextUpdate)}`}${r.error && html` <span class="muted">— ${r.error}</span>`}`;
}
