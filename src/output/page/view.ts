// Pieces the overview and the target pages share: how an endpoint, a CA, an expiry and a status
// look, and how an endpoint is classified for the state filter.

import { type CaName, caLabel } from '../../chain/ca-label.js';
import { targetPath } from '../links.js';
import { type EndpointReport, endpointStatus } from '../report.js';
import { type Html, html } from './html.js';

export interface PageContext {
  now: Date;
  /** scan.expiry_warning: a leaf closer than this to notAfter shows as a warning. */
  expiryWarningMs: number;
  /** scan.expiry_critical: closer than this, or expired, shows as critical. */
  expiryCriticalMs: number;
  schedule: string;
  /** Targets in the config in force (the last scan may predate a reload). */
  configuredTargets: number;
  configReloadOk: boolean;
  version: string;
}

const DAY_MS = 86_400_000;

export type Severity = 'ok' | 'warn' | 'crit';

export function expirySeverity(notAfter: string, ctx: PageContext): Severity {
  const left = Date.parse(notAfter) - ctx.now.getTime();
  if (left <= 0 || left < ctx.expiryCriticalMs) return 'crit';
  return left < ctx.expiryWarningMs ? 'warn' : 'ok';
}

/** Days to the leaf's notAfter, coloured by the configured thresholds. */
export function expiryCell(t: EndpointReport, ctx: PageContext): Html {
  const leaf = t.chain[0];
  if (!leaf?.notAfter || Number.isNaN(Date.parse(leaf.notAfter))) return html`<td class="num muted" data-label="expires">–</td>`;
  const days = Math.floor((Date.parse(leaf.notAfter) - ctx.now.getTime()) / DAY_MS);
  const sev = expirySeverity(leaf.notAfter, ctx);
  return html`<td class="num ${sev}" data-label="expires" title="notAfter ${leaf.notAfter}">${days < 0 ? `expired ${-days} d ago` : `${days} d`}</td>`;
}

/** A CA as people tell them apart: its common name and key-id prefix, the full DN and key on hover. */
export function ca(c: CaName | null | undefined): Html {
  if (!c) return html`<span class="muted">unknown</span>`;
  return html`<span class="ca" title="${c.dn} — key id ${c.keyId}">${caLabel(c)}</span>`;
}

export function statusBadge(t: EndpointReport): Html {
  const s = endpointStatus(t);
  const cls = s === 'FAIL' || s === 'ABORTED' ? 'bad' : s === 'WARN' ? 'warn' : 'ok';
  return html`<span class="badge ${cls}">${s}</span>`;
}

export function targetLink(target: string): Html {
  return html`<a href="${targetPath(target)}">${target}</a>`;
}

export function where(t: { host: string; port: number; address: string | null }): string {
  const addr = t.address ?? t.host;
  return `${addr.includes(':') ? `[${addr}]` : addr}:${t.port}`;
}
