// What the daemon serves, registered in one route table: the status page and one page per
// target for people, /api/v1/status and /metrics for machines, /healthz and /readyz for
// orchestrators. Every handler reads what the last completed scan published; none waits on a scan.

import { targetFromPath } from '../output/links.js';
import type { Scrape } from '../output/metrics.js';
import { PAGE_HEADERS } from '../output/page/layout.js';
import { renderOverview } from '../output/page/overview.js';
import { renderTarget } from '../output/page/target.js';
import type { PageContext } from '../output/page/view.js';
import { type StatusSnapshot, statusJson } from '../output/status.js';
import { type HttpReply, RouteTable } from './http/routes.js';

/** What the routes read from the daemon; each call is cheap and never waits on a scan. */
export interface DaemonView {
  /** What the last completed scan published; null before the first. */
  status(): StatusSnapshot | null;
  pageContext(): PageContext;
  /** Prometheus exposition for one scrape, gzip-encoded when `gzip`. */
  metrics(gzip: boolean): Promise<Scrape>;
}

const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';
const HTML = 'text/html; charset=utf-8';

export function daemonRoutes(view: DaemonView): RouteTable {
  const page = (status: number, body: string): HttpReply => ({ status, type: HTML, body, headers: { ...PAGE_HEADERS } });
  const overview = (req: { query: URLSearchParams }) => page(200, renderOverview(view.status(), view.pageContext(), req.query));
  return new RouteTable()
    .get('/', overview)
    .get('/index.html', overview, { listed: false })
    .prefix('/targets/', (req) => {
      const name = targetFromPath(req.path);
      if (name === null) return { status: 404, type: TEXT, body: 'not found; target pages are /targets/<name>\n' };
      const t = renderTarget(view.status(), view.pageContext(), name);
      return page(t.status, t.html);
    })
    .get('/api/v1/status', async (req) => {
      const s = view.status();
      if (s === null) return { status: 503, type: JSON_TYPE, body: `${JSON.stringify({ error: 'no scan has completed yet; try again shortly' })}\n` };
      const gzipped = acceptsGzip(req.headers['accept-encoding']);
      const headers: Record<string, string> = { Vary: 'Accept-Encoding', ...(gzipped ? { 'Content-Encoding': 'gzip' } : {}) };
      return { status: 200, type: JSON_TYPE, body: await statusJson(s, gzipped), headers };
    })
    .get('/metrics', async (req) => {
      const m = await view.metrics(acceptsGzip(req.headers['accept-encoding']));
      const headers: Record<string, string> = { Vary: 'Accept-Encoding' };
      if (m.encoding !== null) headers['Content-Encoding'] = m.encoding;
      return { status: 200, type: m.contentType, body: m.body, headers };
    })
    .get('/healthz', () => ({ status: 200, type: TEXT, body: 'ok\n' }))
    .get('/readyz', () =>
      view.status() !== null
        ? { status: 200, type: TEXT, body: 'ready\n' }
        : { status: 503, type: TEXT, body: 'not ready: the first scan has not completed yet\n' },
    );
}

/** True when the Accept-Encoding header lists gzip (or *) without q=0. */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  return value.split(',').some((item) => {
    const [coding, ...params] = item.trim().toLowerCase().split(';');
    if (coding !== 'gzip' && coding !== '*') return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}
