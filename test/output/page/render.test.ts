// The status page's HTML without a browser: escaping, thresholds, filters and the answers for a
// missing target or a daemon that has not scanned yet. (test/output/page/browser.test.ts drives
// the same pages in Chromium against a real daemon.)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { targetFromPath, targetPageLink, targetPath } from '../../../src/output/links.js';
import { parseFilters } from '../../../src/output/page/filters.js';
import { html } from '../../../src/output/page/html.js';
import { time } from '../../../src/output/page/layout.js';
import { renderOverview } from '../../../src/output/page/overview.js';
import { renderTarget } from '../../../src/output/page/target.js';
import { expirySeverity, type PageContext } from '../../../src/output/page/view.js';
import { buildStatus } from '../../../src/output/status.js';
import { CONTOSO, change, DAY, endpoint, FABRIKAM, okResult, scanOf, verdict } from '../alerts/scans.js';

const NOW = new Date('2026-06-01T12:00:00Z');
const ctx = (o: Partial<PageContext> = {}): PageContext => ({
  now: NOW,
  expiryWarningMs: 30 * DAY,
  expiryCriticalMs: 7 * DAY,
  schedule: '*/5 * * * *',
  configuredTargets: 2,
  configReloadOk: true,
  version: '0.0.0',
  ...o,
});

function fleet(name = 'web1', changes: ReturnType<typeof change>[] = []) {
  const a = endpoint(name, 'web<b>', '10.0.0.1');
  const b = endpoint('web2', 'web<b>', '10.0.0.2');
  const scan = scanOf(
    NOW,
    [okResult(a, CONTOSO, new Date(NOW.getTime() + 20 * DAY), NOW), okResult(b, FABRIKAM, new Date(NOW.getTime() + 3 * DAY), NOW)],
    [
      verdict('same-ca "policy"', CONTOSO, [
        { ep: a, ca: CONTOSO },
        { ep: b, ca: FABRIKAM },
      ]),
    ],
  );
  return buildStatus(scan, {
    entries: [
      {
        key: 'web2',
        target: 'web2',
        group: 'web<b>',
        address: '10.0.0.2',
        current: changes[0]?.to ?? { leafSha256: 'aa', chain: [], issuer: null, leafNotAfter: null, leafSubject: null },
        firstSeen: '2026-01-01T00:00:00.000Z',
        lastChange: changes[0]?.at ?? null,
        lastSeen: NOW.toISOString(),
        changes: changes.length,
      },
    ],
    recentChanges: changes,
  });
}

describe('html', () => {
  test('escapes every interpolated value once and keeps markup built with html', () => {
    const inner = html`<b>${'<i>'}</b>`;
    assert.equal(
      html`<p title="${'"x" & \'y\''}">${inner}${['<a>', 1, null, false, undefined]}</p>`.text,
      '<p title="&quot;x&quot; &amp; &#39;y&#39;"><b>&lt;i&gt;</b>&lt;a&gt;1</p>',
    );
  });
  test('a time is UTC in the text and the tooltip until the script localises it', () => {
    assert.equal(
      time('2026-06-01T12:00:00.000Z').text,
      '<time datetime="2026-06-01T12:00:00.000Z" title="2026-06-01 12:00:00 UTC">2026-06-01 12:00:00 UTC</time>',
    );
    assert.match(time(null).text, /never/);
  });
});

describe('links', () => {
  test('target pages are /targets/<name>, percent-encoded both ways', () => {
    assert.equal(targetPath('web 1/a'), '/targets/web%201%2Fa');
    assert.equal(targetPageLink('https://cw.example/', 'web2'), 'https://cw.example/targets/web2');
    assert.equal(targetFromPath('/targets/web%201%2Fa'), 'web 1/a');
    assert.equal(targetFromPath('/targets/%E0%A4%A'), null, 'bad encoding is no target');
    assert.equal(targetFromPath('/targets/a/b'), null);
  });
});

describe('thresholds', () => {
  test('expiry is critical below expiry_critical or once expired, a warning below expiry_warning', () => {
    const at = (days: number) => new Date(NOW.getTime() + days * DAY).toISOString();
    assert.equal(expirySeverity(at(40), ctx()), 'ok');
    assert.equal(expirySeverity(at(20), ctx()), 'warn');
    assert.equal(expirySeverity(at(3), ctx()), 'crit');
    assert.equal(expirySeverity(at(3), ctx({ expiryCriticalMs: 0 })), 'warn');
    assert.equal(expirySeverity(at(-1), ctx({ expiryCriticalMs: 0 })), 'crit');
  });
});

describe('filters', () => {
  test('unknown states mean all; an empty group means every group', () => {
    assert.deepEqual(parseFilters(new URLSearchParams('group=&state=nonsense')), { group: null, state: 'all' });
    assert.deepEqual(parseFilters(new URLSearchParams('group=web&state=failing')), { group: 'web', state: 'failing' });
  });
  test('the overview lists only what the filter selects', () => {
    const page = renderOverview(fleet(), ctx(), new URLSearchParams('state=divergent'));
    assert.match(page, /<tr data-target="web2">/);
    assert.doesNotMatch(page, /<tr data-target="web1">/);
    assert.match(page, /1 of 2 endpoints shown \(filtered\)/);
  });
});

describe('pages', () => {
  test('config names and certificate fields are escaped; expiry cells carry their severity', () => {
    const page = renderOverview(fleet(), ctx(), new URLSearchParams());
    assert.ok(!page.includes('web<b>') && page.includes('web&lt;b&gt;'));
    assert.ok(page.includes('same-ca &quot;policy&quot;'));
    assert.match(page, /class="num warn" data-label="expires"[^>]*>20 d</);
    assert.match(page, /class="num crit" data-label="expires"[^>]*>3 d</);
  });
  test('before the first scan the overview says so and a target page answers 503', () => {
    assert.match(renderOverview(null, ctx(), new URLSearchParams()), /first scan is still running/);
    assert.equal(renderTarget(null, ctx(), 'web1').status, 503);
  });
  test('an unknown target is a 404 page that names it, escaped', () => {
    const t = renderTarget(fleet(), ctx(), '<img src=x>');
    assert.equal(t.status, 404);
    assert.match(t.html, /no target named <b>&lt;img src=x&gt;<\/b>/);
  });
  test('a target page shows each certificate and the policy verdict', () => {
    const t = renderTarget(fleet(), ctx(), 'web2');
    assert.equal(t.status, 200);
    assert.match(t.html, /<tr class="divergent"><td>same-ca &quot;policy&quot;<\/td><td class="bad">divergent<\/td>/);
    assert.match(t.html, /<dd class="subject">CN=web2\.contoso\.local<\/dd>/);
    assert.match(t.html, /Fabrikam TLS CA \(key 3f2a8877…\)/);
  });
  test("a change shows in recent changes, as the endpoint's last change, and in the target's history", () => {
    const web2 = endpoint('web2', 'web<b>', '10.0.0.2');
    const status = fleet('web1', [change(web2, 'issuer_change', CONTOSO, FABRIKAM, new Date('2026-05-30T08:00:00Z'))]);
    const page = renderOverview(status, ctx(), new URLSearchParams());
    assert.match(page, /<table class="changes">[\s\S]*2026-05-30 08:00:00 UTC[\s\S]*issuer change<\/td><td>[\s\S]*Contoso Issuing CA 01[\s\S]*Fabrikam TLS CA/);
    assert.match(page, /<tr data-target="web2">[\s\S]*?2026-05-30 08:00:00 UTC<\/time><\/td><\/tr>/, 'last change in the fleet row');
    const target = renderTarget(status, ctx(), 'web2').html;
    assert.match(target, /<table class="history">[\s\S]*issuer change/);
    assert.match(target, /first seen<\/dt><dd><time datetime="2026-01-01T00:00:00.000Z"/);
    assert.doesNotMatch(renderTarget(status, ctx(), 'web1').html, /<table class="history">/);
  });
  test('a revoked certificate says so, with when and why', () => {
    const status = fleet();
    const leaf = status.report.targets.find((t) => t.target === 'web2')!.chain[0]!;
    leaf.revocation = {
      status: 'revoked',
      source: 'crl',
      crlUrl: 'http://crl.test/ca.crl',
      ocspUrl: null,
      thisUpdate: null,
      nextUpdate: null,
      revokedAt: '2026-05-01T00:00:00.000Z',
      reason: 'keyCompromise',
      error: null,
    };
    const page = renderTarget(status, ctx(), 'web2').html;
    assert.match(
      page,
      /<dt>revocation<\/dt><dd><span class="bad">revoked<\/span> by crl on <time datetime="2026-05-01T00:00:00.000Z"[^>]*>[^<]*<\/time> \(keyCompromise\)<\/dd>/,
    );
    assert.doesNotMatch(renderTarget(status, ctx(), 'web1').html, /<dt>revocation/, 'not checked: nothing shown');
  });
});

describe('scoped policies', () => {
  test('the page names each site with its own expected CA, and a divergent endpoint its own', async () => {
    const { judgePolicy } = await import('../../../src/fleet/policy.js');
    const at = (name: string, group: string, address: string, site: string) => ({ ...endpoint(name, group, address), labels: { site } });
    const eps = [
      at('dub-fe', 'lync-default', '10.0.1.1', 'Dublin'),
      at('dub-web', 'pchat-web', '10.0.1.2', 'Dublin'),
      at('lon-fe', 'lync-default', '10.0.2.1', 'London'),
      at('lon-web', 'pchat-web', '10.0.2.2', 'London'),
    ];
    const cas = [CONTOSO, FABRIKAM, FABRIKAM, FABRIKAM];
    const results = eps.map((ep, i) => okResult(ep, cas[i]!, new Date(NOW.getTime() + 90 * DAY), NOW));
    const v = judgePolicy(
      { name: 'pchat-web-same-ca', reference: 'lync-default', members: ['pchat-web'], match: 'issuer', scope: 'site', allowedIssuers: [] },
      results,
    );
    const status = buildStatus(scanOf(NOW, results, [v]), { entries: [], recentChanges: [] });
    const page = renderOverview(status, ctx(), new URLSearchParams());
    const text = (h: string) => h.replace(/<[^>]+>/g, '');
    assert.match(text(page), /Expected per site: Dublin Contoso Issuing CA 01 \(key [0-9a-f]+…\); London Fabrikam TLS CA \(key [0-9a-f]+…\)\./);
    const row = /<tr data-target="dub-web">.*?<\/tr>/s.exec(page)?.[0] ?? '';
    assert.match(row, /data-label="expected"><span class="ca"[^>]*>Contoso Issuing CA 01/);
    const target = renderTarget(status, ctx(), 'lon-web');
    assert.match(text(target.html), /pchat-web-same-caconsistentFabrikam TLS CA \(key [0-9a-f]+…\)Fabrikam TLS CA \(key/);
  });
});
