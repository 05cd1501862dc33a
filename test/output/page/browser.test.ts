// The status page as a person sees it: real headless Chromium against `chainwatch run` scanning a
// loopback fleet, with the alert links taken from what the daemon actually sent to a webhook.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { CertificateAuthority } from '../../../src/demo/pki.js';
import { type ServedEndpoint, serveChain } from '../../../src/demo/servers.js';
import { artifactPath, type LaunchedBrowser, launchChromium } from '../../helpers/browser.js';
import { type ChainwatchProcess, eventually, killAll, spawnChainwatch } from '../../helpers/daemon-process.js';
import { chainPems, type StandardPki, standardPki } from '../../helpers/fixtures.js';
import { freePort } from '../../helpers/ports.js';
import { closedPort } from '../../helpers/servers.js';

const EVIL_CN = '<script>window.__pwned=1</script>';

interface Hook {
  status: string;
  alert: { name: string; labels: Record<string, string>; generatorURL: string };
}

const servers: ServedEndpoint[] = [];
let hookServer: Server;
const hooks: Hook[] = [];
let pki: StandardPki;
let dir: string;
let cw: ChainwatchProcess;
let url: string;
let browser: LaunchedBrowser;
let page: Page;
const scriptErrors: string[] = [];

async function tls(host: string, ca: CertificateAuthority, commonName = host): Promise<ServedEndpoint> {
  const leaf = await pki.leaf(ca, host, { commonName });
  const s = await serveChain({ host: '127.0.0.1', key: leaf.keyPem, chain: chainPems(leaf, ca) });
  servers.push(s);
  return s;
}

before(async () => {
  pki = await standardPki();
  dir = mkdtempSync(join(tmpdir(), 'chainwatch-page-test-'));
  writeFileSync(join(dir, 'root.pem'), pki.contosoRoot.pem);
  hookServer = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      hooks.push(JSON.parse(body) as Hook);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', r));
  const hookPort = (hookServer.address() as { port: number }).port;

  const [a, b, web1, web2, evil] = await Promise.all([
    tls('a.contoso.test', pki.contosoIssuing01),
    tls('b.contoso.test', pki.contosoIssuing01),
    tls('web1.contoso.test', pki.contosoIssuing01),
    tls('web2.contoso.test', pki.fabrikamTlsCa),
    tls('odd.contoso.test', pki.contosoIssuing01, EVIL_CN),
  ]);
  const dead = await closedPort();
  const port = await freePort();
  const targets = [
    ['fe-a', 'core', 'a.contoso.test', a.port],
    ['fe-b', 'core', 'b.contoso.test', b.port],
    ['web1', 'web', 'web1.contoso.test', web1.port],
    ['web2', 'web', 'web2.contoso.test', web2.port],
    ['odd', 'misc', 'odd.contoso.test', evil.port],
    ['gone-host', 'misc', 'dead.contoso.test', dead.port],
  ] as const;
  writeFileSync(
    join(dir, 'chainwatch.yaml'),
    `scan:
  schedule: "0 0 1 1 *"
  timeout: 5s
  expiry_warning: 400d
trust:
  ca_files: [root.pem]
  system_roots: false
state:
  path: ./state
server:
  listen: 127.0.0.1:${port}
  external_url: http://127.0.0.1:${port}
alerting:
  webhooks:
    - url: http://127.0.0.1:${hookPort}/hook
      format: generic
targets:
${targets.map(([name, group, host, p]) => `  - name: ${name}\n    group: ${group}\n    host: ${host}\n    port: ${p}\n    address: 127.0.0.1\n`).join('')}
policies:
  - name: web-same-ca
    reference: core
    members: [web]
  - name: all-internal-one-ca
    members: [core, web]
`,
  );
  cw = spawnChainwatch(['run', '--config', join(dir, 'chainwatch.yaml')]);
  const started = await cw.waitForLog((r) => r.msg === 'chainwatch started', 'the start line');
  url = String(started.listen);
  await cw.waitForLog((r) => r.msg === 'scan finished', 'the first scan', 60_000);
  browser = await launchChromium();
});

// A fresh page per test: a page left open would reload itself on its refresh timer mid-test.
beforeEach(async () => {
  page = await browser.context.newPage();
  page.on('pageerror', (err) => scriptErrors.push(err.message));
  page.on('console', (m) => {
    if (m.type() === 'error') scriptErrors.push(m.text());
  });
});

afterEach(async () => {
  await page?.close();
});

after(async () => {
  await browser?.close();
  killAll();
  await Promise.all(servers.map((s) => s.close()));
  await new Promise((r) => hookServer?.close(r));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the status page in Chromium', () => {
  test('a divergent policy shows the divergent endpoint with the CA it presents beside the expected one', async () => {
    await page.goto(`${url}/`);
    const policy = page.locator('section.policy[data-policy="web-same-ca"]');
    await policy.waitFor();
    const row = policy.locator('table.divergent tr[data-target="web2"]');
    const cells = await row.locator('td').allInnerTexts();
    assert.equal(cells[0]?.split(/\s/)[0], 'web2');
    assert.equal(cells[2], `Fabrikam TLS CA (key ${pki.fabrikamTlsCa.keyId.slice(0, 8)}…)`);
    assert.equal(cells[3], `Contoso Issuing CA 01 (key ${pki.contosoIssuing01.keyId.slice(0, 8)}…)`);
    assert.equal(await policy.locator('table.divergent tbody tr').count(), 1, 'only web2 is divergent');
    const consistentCount = await page.locator('section.policy.consistent').count();
    assert.equal(consistentCount, 0, 'both policies find web2 divergent');
  });

  test('the page and /api/v1/status give the same counts for an endpoint divergent in two policies', async () => {
    const api = (await (await fetch(`${url}/api/v1/status`)).json()) as { summary: Record<string, number>; policies: { divergent: unknown[] }[] };
    assert.deepEqual(
      api.policies.map((p) => p.divergent.length),
      [1, 1],
    );
    await page.goto(`${url}/`);
    const counts: Record<string, number> = {};
    for (const el of await page.locator('#summary [data-count]').all()) {
      counts[(await el.getAttribute('data-count'))!] = Number(await el.innerText());
    }
    assert.equal(counts.divergent, 1, 'web2 is one endpoint to fix');
    for (const [k, v] of Object.entries(counts)) assert.equal(v, api.summary[k], `page and API agree on ${k}`);
    assert.deepEqual([counts.endpoints, counts.failed, counts.inconsistentPolicies], [6, 1, 2]);
  });

  test('a failing endpoint shows its error kind and message', async () => {
    await page.goto(`${url}/`);
    const row = page.locator('table.failing tr[data-target="gone-host"]');
    const cells = await row.locator('td').allInnerTexts();
    assert.equal(cells[2], 'refused');
    assert.match(cells[3] ?? '', /refused/i);
  });

  test("following an alert's link lands on that target's chain", async () => {
    const fired = await eventually(async () => {
      const h = hooks.find((x) => x.status === 'firing' && x.alert.name === 'ChainwatchIssuerDivergence' && x.alert.labels.target === 'web2');
      assert.ok(h, 'the divergence alert reached the webhook');
      return h;
    }, 'the webhook delivery');
    assert.equal(fired.alert.generatorURL, `${url}/targets/web2`);
    const res = await page.goto(fired.alert.generatorURL);
    assert.equal(res?.status(), 200);
    assert.equal(await page.locator('h1').innerText(), 'web2');
    const chain = page.locator('ol.chain > li');
    assert.equal(await chain.count(), 2);
    assert.equal(await chain.nth(0).locator('dd.subject').innerText(), 'CN=web2.contoso.test');
    assert.match(await chain.nth(1).locator('dd.subject').innerText(), /^CN=Fabrikam TLS CA, O=Fabrikam$/);
    assert.match(await chain.nth(1).innerText(), new RegExp(pki.fabrikamTlsCa.sha256));
    const verdict = page.locator('table.verdicts tr.divergent');
    assert.equal(await verdict.count(), 2, 'both policies say divergent');
    assert.match(await page.locator('.endpoint').innerText(), /untrusted/);
  });

  test('a filter narrows the list', async () => {
    await page.goto(`${url}/`);
    const all = await page.locator('table.fleet tbody tr').count();
    assert.equal(all, 6);
    await page.selectOption('select[name="group"]', 'web');
    await page.click('form.filter button[type="submit"]');
    await page.waitForURL(/group=web/);
    assert.deepEqual(await page.locator('table.fleet tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-target'))), ['web1', 'web2']);
  });

  test('without JavaScript the filter form still filters and times are shown in UTC', async () => {
    const plain = await launchChromium({ javaScript: false });
    try {
      const p = await plain.context.newPage();
      await p.goto(`${url}/`);
      assert.match(await p.locator('time').first().innerText(), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
      await p.selectOption('select[name="state"]', 'failing');
      await p.click('form.filter button[type="submit"]');
      await p.waitForURL(/state=failing/);
      assert.deepEqual(await p.locator('table.fleet tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-target'))), ['gone-host']);
    } finally {
      await plain.close();
    }
  });

  test('a certificate subject containing <script> is shown as text and nothing runs', async () => {
    await page.goto(`${url}/targets/odd`);
    const subject = await page.locator('ol.chain > li').nth(0).locator('dd.subject').innerText();
    // RFC 4514 escapes < and > in a DN with a backslash; the markup itself must survive as text.
    assert.equal(subject, 'CN=\\<script\\>window.__pwned=1\\</script\\>');
    assert.equal(await page.evaluate('typeof window.__pwned'), 'undefined');
    assert.equal(await page.locator('script').count(), 1, 'only the page script');
    // The page script ran under the CSP: times are shown in the local zone, UTC on hover.
    const t = page.locator('time').first();
    assert.doesNotMatch(await t.innerText(), /UTC$/);
    assert.match((await t.getAttribute('title')) ?? '', /UTC$/);
    assert.deepEqual(scriptErrors, [], 'no script error and no CSP violation');
  });

  test('a reload keeps the scroll position the refresh saved', async () => {
    await page.setViewportSize({ width: 800, height: 400 });
    await page.goto(`${url}/`);
    await page.evaluate('window.scrollTo(0, 600)');
    // What the page's refresh timer does when it fires, without waiting a minute for it.
    await page.evaluate("sessionStorage.setItem('chainwatch-scroll:' + location.pathname + location.search, String(window.scrollY))");
    await page.reload();
    assert.equal(await page.evaluate('window.scrollY'), 600);
    assert.equal(await page.evaluate("document.body.getAttribute('data-refresh')"), '60', 'the timer is armed');
  });

  test('security headers: only our script and style, never framed', async () => {
    const res = await fetch(`${url}/`);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'sha256-[A-Za-z0-9+/=]+'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  });

  test('a screenshot for people to look at', async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${url}/`);
    const wide = artifactPath('status-page.png');
    await page.screenshot({ path: wide, fullPage: true });
    await page.goto(`${url}/targets/web2`);
    const target = artifactPath('status-page-target.png');
    await page.screenshot({ path: target, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${url}/`);
    const phone = artifactPath('status-page-phone.png');
    await page.screenshot({ path: phone, fullPage: true });
    console.log(`screenshots: ${wide} ${target} ${phone}`);
  });
});
