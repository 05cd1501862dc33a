// Alert state across scans: what fires, what stays, what resolves, and what survives a restart.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createLogger } from '../../../src/log/logger.js';
import { AlertDispatcher, type AlertDispatcherOptions } from '../../../src/output/alerts/dispatcher.js';
import type { ScanTransitions } from '../../../src/output/alerts/types.js';
import { DAY, pchatScan } from './scans.js';

const T0 = new Date('2025-06-01T12:00:00.000Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'chainwatch-alerts-'));
  dirs.push(d);
  return d;
}

function dispatcher(extra: Partial<AlertDispatcherOptions> = {}) {
  return new AlertDispatcher({
    alerting: { alertmanagerUrls: [], webhooks: [], resendIntervalMs: 60_000 },
    externalUrl: 'http://127.0.0.1:9862',
    expiryWarningMs: 30 * DAY,
    now: () => T0,
    ...extra,
  });
}

function names(t: ScanTransitions) {
  const n = (xs: { labels: Record<string, string> }[]) => xs.map((a) => `${a.labels.alertname}/${a.labels.target}`).sort();
  return { firing: n(t.firing), unchanged: n(t.unchanged), resolved: n(t.resolved) };
}

describe('AlertDispatcher transitions', () => {
  it('fires once, stays unchanged while the condition lasts, resolves when it ends', async () => {
    const d = dispatcher();
    assert.deepEqual(names(d.onScan(pchatScan(at(0)))), { firing: ['ChainwatchIssuerDivergence/web2'], unchanged: [], resolved: [] });
    assert.deepEqual(names(d.onScan(pchatScan(at(5)))), { firing: [], unchanged: ['ChainwatchIssuerDivergence/web2'], resolved: [] });
    assert.equal(d.activeAlerts()[0]!.startsAt.getTime(), at(0).getTime(), 'startsAt stays the first sighting');
    assert.deepEqual(names(d.onScan(pchatScan(at(10), { fixed: true }))), { firing: [], unchanged: [], resolved: ['ChainwatchIssuerDivergence/web2'] });
    assert.deepEqual(d.activeAlerts(), []);
    await d.close();
  });

  it('a divergent member that stops answering keeps its divergence alert (undetermined, not fixed); ProbeFailing needs two scans', async () => {
    const d = dispatcher();
    d.onScan(pchatScan(at(0)));
    assert.deepEqual(names(d.onScan(pchatScan(at(5), { web2Down: true }))), {
      firing: [],
      unchanged: ['ChainwatchIssuerDivergence/web2'],
      resolved: [],
    });
    assert.deepEqual(names(d.onScan(pchatScan(at(10), { web2Down: true }))), {
      firing: ['ChainwatchProbeFailing/web2'],
      unchanged: ['ChainwatchIssuerDivergence/web2'],
      resolved: [],
    });
    // Back, with the right certificate: both end.
    assert.deepEqual(names(d.onScan(pchatScan(at(15), { fixed: true }))), {
      firing: [],
      unchanged: [],
      resolved: ['ChainwatchIssuerDivergence/web2', 'ChainwatchProbeFailing/web2'],
    });
    await d.close();
  });

  it('a single failed probe between good scans raises nothing', async () => {
    const d = dispatcher();
    d.onScan(pchatScan(at(0), { fixed: true }));
    assert.deepEqual(names(d.onScan(pchatScan(at(5), { fixed: true, web2Down: true }))), { firing: [], unchanged: [], resolved: [] });
    assert.deepEqual(names(d.onScan(pchatScan(at(10), { fixed: true }))), { firing: [], unchanged: [], resolved: [] });
    // The count restarts: one more failure is again only the first.
    assert.deepEqual(names(d.onScan(pchatScan(at(15), { fixed: true, web2Down: true }))), { firing: [], unchanged: [], resolved: [] });
    await d.close();
  });

  it('a restart continues from the state file: no second firing, and a resolution for what ended while down', async () => {
    const statePath = join(tempDir(), 'alerts.json');
    const first = dispatcher({ statePath });
    first.onScan(pchatScan(at(0)));
    await first.close();
    assert.ok(existsSync(statePath));

    const second = dispatcher({ statePath });
    assert.equal(second.activeAlerts().length, 1);
    assert.deepEqual(names(second.onScan(pchatScan(at(5)))), { firing: [], unchanged: ['ChainwatchIssuerDivergence/web2'], resolved: [] });
    assert.equal(second.activeAlerts()[0]!.startsAt.getTime(), at(0).getTime());
    await second.close();

    const third = dispatcher({ statePath });
    assert.deepEqual(names(third.onScan(pchatScan(at(10), { fixed: true }))), { firing: [], unchanged: [], resolved: ['ChainwatchIssuerDivergence/web2'] });
    await third.close();
    assert.deepEqual(dispatcher({ statePath }).activeAlerts(), []);
  });

  it('a corrupt state file is set aside with a clear log line, and alerting starts fresh', async () => {
    const dir = tempDir();
    const statePath = join(dir, 'alerts.json');
    writeFileSync(statePath, '{"version":1,"active":[{"labels":');
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', format: 'json', sink: { write: (s: string) => lines.push(s) } });
    const d = dispatcher({ statePath, logger });
    assert.deepEqual(d.activeAlerts(), []);
    assert.match(lines.join(''), /alert state file is unreadable; set it aside/);
    assert.ok(readdirSync(dir).some((f) => f.startsWith('alerts.json.corrupt-')));
    assert.deepEqual(names(d.onScan(pchatScan(at(0)))).firing, ['ChainwatchIssuerDivergence/web2']);
    await d.close();
  });

  it('a broken scan result is logged, not thrown into the scheduler', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', format: 'json', sink: { write: (s: string) => lines.push(s) } });
    const d = dispatcher({ logger });
    const broken = { ...pchatScan(at(0)), policies: null } as unknown as ReturnType<typeof pchatScan>;
    assert.deepEqual(d.onScan(broken), { firing: [], resolved: [], unchanged: [] });
    assert.match(lines.join(''), /alerting failed for this scan/);
    await d.close();
  });
});
