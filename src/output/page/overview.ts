// The status page at /: what is wrong first (policies, then failing endpoints), then the whole
// fleet by group, then recent changes. Server-rendered; filters travel in the query string.

import type { CaRef, CertChange, PolicyVerdict } from '../../fleet/types.js';
import type { EndpointReport } from '../report.js';
import type { StatusSnapshot } from '../status.js';
import { divergentEndpointKeys } from '../summary.js';
import { type Filters, inState, parseFilters, STATES } from './filters.js';
import { type Html, html } from './html.js';
import { layout, time } from './layout.js';
import { ca, expiryCell, type PageContext, statusBadge, targetLink, where } from './view.js';

export function renderOverview(snapshot: StatusSnapshot | null, ctx: PageContext, query: URLSearchParams): string {
  if (snapshot === null) {
    return layout('chainwatch', html`${header(ctx)}<p>The first scan is still running; this page fills in when it completes.</p>${footer(ctx)}`);
  }
  const filters = parseFilters(query);
  const r = snapshot.report;
  const divergent = divergentEndpointKeys(r.policies);
  const inGroup = (g: string) => filters.group === null || filters.group === g;
  const shown = r.targets.filter((t) => inGroup(t.group) && inState(t, filters.state, divergent, ctx));
  const s = r.summary;
  const body = html`${header(ctx)}
<p>Last scan <b>${time(r.finishedAt)}</b>, took ${((Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000).toFixed(1)} s.</p>
<div class="summary" id="summary">
<span><b data-count="endpoints">${s.endpoints}</b> endpoints</span>
<span class="${s.failed > 0 ? 'bad' : ''}"><b data-count="failed">${s.failed}</b> failing</span>
<span class="${s.withProblems > 0 ? 'warn' : ''}"><b data-count="withProblems">${s.withProblems}</b> with problems</span>
<span class="${s.divergent > 0 ? 'bad' : ''}"><b data-count="divergent">${s.divergent}</b> divergent</span>
<span><b data-count="inconsistentPolicies">${s.inconsistentPolicies}</b> of ${s.policies} policies inconsistent</span>
</div>
${filterForm(r.targets, filters)}
<h2 id="policies">Policies</h2>
${r.policies.length === 0 ? html`<p class="muted">No policies configured.</p>` : r.policies.map((p) => policyBlock(p, filters))}
${failing(r.targets.filter((t) => !t.ok && inGroup(t.group)))}
<h2 id="fleet">Fleet</h2>
<p class="muted" id="shown">${shown.length} of ${r.targets.length} endpoints shown${filters.group !== null || filters.state !== 'all' ? ' (filtered)' : ''}.</p>
${fleet(shown, snapshot, divergent, ctx)}
${changes(r.changes.filter((c) => inGroup(c.group)))}
${footer(ctx)}`;
  return layout('chainwatch status', body);
}

function header(ctx: PageContext): Html {
  return html`<h1>chainwatch</h1>
${!ctx.configReloadOk && html`<p class="banner">The last config reload failed; the previous config is still in use. The log says why.</p>`}`;
}

function footer(ctx: PageContext): Html {
  return html`<p><small>${ctx.configuredTargets} targets, schedule <code>${ctx.schedule}</code>.
Machine-readable: <a href="/api/v1/status">/api/v1/status</a> (the last scan as JSON), <a href="/metrics">/metrics</a>, <a href="/healthz">/healthz</a>, <a href="/readyz">/readyz</a>.
chainwatch ${ctx.version}.</small></p>`;
}

function filterForm(targets: readonly EndpointReport[], f: Filters): Html {
  const groups = [...new Set(targets.map((t) => t.group))].sort();
  return html`<form class="filter" method="get" action="/">
<label>Group <select name="group"><option value="">all groups</option>${groups.map((g) => html`<option value="${g}"${f.group === g ? html` selected` : ''}>${g}</option>`)}</select></label>
<label>State <select name="state">${STATES.map((st) => html`<option value="${st}"${f.state === st ? html` selected` : ''}>${st}</option>`)}</select></label>
<button type="submit">Filter</button> ${(f.group !== null || f.state !== 'all') && html`<a href="/">clear</a>`}
</form>`;
}

function policyBlock(p: PolicyVerdict, f: Filters): Html {
  const inGroup = (g: string) => f.group === null || f.group === g;
  const divergent = p.divergent.filter((d) => inGroup(d.group));
  const unknown = p.unknown.filter((u) => inGroup(u.group));
  const cas = (list: readonly CaRef[]) =>
    list.length > 0 ? list.map((e, i) => html`${i > 0 && ' or '}${ca(e)}`) : html`<span class="bad">no expected CA</span>`;
  // A scoped policy expects its own CA in each scope (each site): say which, scope by scope.
  const expected =
    p.scope === null ? cas(p.expected) : html`per ${p.scope}: ${p.scopes.map((s, i) => html`${i > 0 && '; '}${s.value || '(none)'} ${cas(s.expected)}`)}`;
  return html`<section class="policy ${p.consistent ? 'consistent' : 'divergent'}" data-policy="${p.name}">
<h3>${p.name} <span class="badge ${p.consistent ? 'ok' : 'bad'}">${p.consistent ? 'consistent' : `${p.divergent.length} divergent`}</span></h3>
<p class="muted">match ${p.match}${p.reference ? `, reference group ${p.reference}` : ''}; ${p.matching.length} matching${p.unknown.length > 0 ? `, ${p.unknown.length} not judged` : ''}. Expected ${expected}.</p>
${
  divergent.length > 0 &&
  html`<div class="scroll"><table class="divergent cards"><thead><tr><th>divergent endpoint</th><th>group</th><th>presents</th><th>expected</th></tr></thead><tbody>
${divergent.map((d) => html`<tr data-target="${d.target}"><td>${targetLink(d.target)}${d.address && html` <span class="muted">${d.address}</span>`}</td><td data-label="group">${d.group}</td><td class="bad" data-label="presents">${ca(d.issuer)}</td><td data-label="expected">${cas(d.expected)}</td></tr>`)}
</tbody></table></div>`
}
${unknown.length > 0 && html`<ul>${unknown.map((u) => html`<li>${targetLink(u.target)} not judged: ${u.reason}</li>`)}</ul>`}
${p.notes.length > 0 && html`<ul class="muted">${p.notes.map((n) => html`<li>${n}</li>`)}</ul>`}
</section>`;
}

function failing(targets: EndpointReport[]): Html {
  if (targets.length === 0) return html``;
  return html`<h2 id="failing">Failing endpoints</h2>
<div class="scroll"><table class="failing cards"><thead><tr><th>target</th><th>endpoint</th><th>error</th><th>what happened</th></tr></thead><tbody>
${targets.map((t) => html`<tr data-target="${t.target}"><td>${targetLink(t.target)}</td><td class="mono" data-label="endpoint">${where(t)}</td><td class="bad" data-label="error">${t.error?.kind ?? 'no chain'}</td><td>${t.error?.message ?? 'the probe obtained no certificate chain'}</td></tr>`)}
</tbody></table></div>`;
}

function fleet(shown: EndpointReport[], snapshot: StatusSnapshot, divergent: ReadonlySet<string>, ctx: PageContext): Html {
  if (shown.length === 0) return html`<p>No endpoint matches the filter.</p>`;
  const groups = new Map<string, EndpointReport[]>();
  for (const t of shown) groups.set(t.group, [...(groups.get(t.group) ?? []), t]);
  return html`${[...groups.keys()].sort().map(
    (g) => html`<h3 class="group">${g}</h3>
<div class="scroll"><table class="fleet cards"><thead><tr><th>target</th><th>state</th><th class="hide-narrow">endpoint</th><th>issuer</th><th>expires</th><th>problems</th><th class="hide-narrow">last change</th></tr></thead><tbody>
${groups.get(g)!.map((t) => html`<tr data-target="${t.target}"><td>${targetLink(t.target)}</td><td>${statusBadge(t)}${divergent.has(t.key) && html` <span class="badge bad">DIVERGENT</span>`}</td><td class="mono hide-narrow">${where(t)}</td><td data-label="issuer">${t.ok ? ca(t.issuer) : html`<span class="bad">${t.error?.kind ?? ''}</span>`}</td>${expiryCell(t, ctx)}<td${t.problems.length > 0 && html` data-label="problems"`}>${t.problems.join(', ')}</td><td class="hide-narrow">${time(snapshot.history.get(t.key)?.lastChange)}</td></tr>`)}
</tbody></table></div>`,
  )}`;
}

function changes(list: CertChange[]): Html {
  if (list.length === 0) return html`<h2 id="changes">Recent changes</h2><p class="muted">No certificate has changed since chainwatch first saw it.</p>`;
  return html`<h2 id="changes">Recent changes</h2>
<div class="scroll"><table class="changes"><thead><tr><th>when</th><th>target</th><th>change</th><th>from</th><th>to</th></tr></thead><tbody>
${list.map((c) => html`<tr><td>${time(c.at)}</td><td>${targetLink(c.target)}</td><td class="${c.kind === 'issuer_change' ? 'warn' : ''}">${c.kind.replace('_', ' ')}</td><td>${ca(c.from.issuer)}</td><td>${ca(c.to.issuer)}</td></tr>`)}
</tbody></table></div>`;
}
