import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { endpointFromUrl, parseRetryAfter } from '../../../src/output/alerts/http.js';
import { receiverName, retryDelay } from '../../../src/output/alerts/receivers.js';

const OUTCOME = { ok: false, retryable: true, status: 503, body: '', error: 'HTTP 503' };
const RETRY = { attempts: 5, baseMs: 1000, maxMs: 8000, maxRetryAfterMs: 60_000 };

describe('delivery helpers', () => {
  it('reads Retry-After as seconds or an HTTP date, and ignores nonsense', () => {
    const now = Date.parse('2025-06-01T12:00:00Z');
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter(['7', '9'], now), 7000);
    assert.equal(parseRetryAfter('Sun, 01 Jun 2025 12:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Sun, 01 Jun 2025 11:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon', now), null);
    assert.equal(parseRetryAfter('-5', now), null);
    assert.equal(parseRetryAfter(undefined, now), null);
  });

  it('backs off exponentially with jitter, capped; Retry-After wins within its bound', () => {
    for (let i = 0; i < 50; i++) {
      const d1 = retryDelay(1, { ...OUTCOME, retryAfterMs: null }, RETRY);
      const d3 = retryDelay(3, { ...OUTCOME, retryAfterMs: null }, RETRY);
      const d9 = retryDelay(9, { ...OUTCOME, retryAfterMs: null }, RETRY);
      assert.ok(d1 >= 800 && d1 <= 1200, `first retry ~1 s (${d1})`);
      assert.ok(d3 >= 3200 && d3 <= 4800, `third retry ~4 s (${d3})`);
      assert.ok(d9 >= 6400 && d9 <= 9600, `capped at ~8 s (${d9})`);
    }
    assert.equal(retryDelay(1, { ...OUTCOME, retryAfterMs: 30_000 }, RETRY), 30_000);
    assert.equal(retryDelay(1, { ...OUTCOME, retryAfterMs: 3_600_000 }, RETRY), 60_000);
    assert.equal(retryDelay(1, { ...OUTCOME, retryAfterMs: 0 }, RETRY), 1000, 'never hammers with 0');
  });

  it('moves URL credentials into a Basic header and names receivers by host only', () => {
    const ep = endpointFromUrl('https://bot:p%40ss@hooks.example.invalid:8443/services/T0/B0/SECRET?x=1');
    assert.equal(ep.url, 'https://hooks.example.invalid:8443/services/T0/B0/SECRET?x=1');
    assert.equal(ep.headers.authorization, `Basic ${Buffer.from('bot:p@ss').toString('base64')}`);
    assert.equal(endpointFromUrl('http://am:9093/api/v2/alerts').headers.authorization, undefined);
    assert.equal(receiverName('webhook:slack', 'https://bot:pw@hooks.example.invalid/services/T0/B0/SECRET'), 'webhook:slack:hooks.example.invalid');
    assert.equal(receiverName('alertmanager', 'http://[::1]:9093/'), 'alertmanager:[::1]:9093');
  });
});
