import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { daemonRoutes } from '../../src/daemon/routes.js';
import { type BodyPart, readBody } from '../../src/output/body.js';
import { buildReport } from '../../src/output/report.js';
import { buildStatus, statusJson } from '../../src/output/status.js';
import { syntheticScan } from '../output/synthetic-fleet.js';

test('/api/v1/status is the report of the last scan, gzip-encoded for a client that accepts it and plain otherwise', async () => {
  // Enough endpoints for the document to reach the compressor in many pieces.
  const { scan, baseline } = syntheticScan(300);
  const status = buildStatus(scan, { entries: baseline, recentChanges: [] });
  const routes = daemonRoutes({
    status: () => status,
    pageContext: () => assert.fail('no page is asked for'),
    metrics: () => assert.fail('no scrape is asked for'),
  });
  const get = (headers: Record<string, string>) => routes.handle({ method: 'GET', path: '/api/v1/status', query: new URLSearchParams(), headers });
  const plain = await get({});
  const gzipped = await get({ 'accept-encoding': 'gzip, deflate' });
  assert.equal(plain.headers?.['Content-Encoding'], undefined);
  assert.equal(gzipped.headers?.['Content-Encoding'], 'gzip');
  assert.equal(plain.headers?.Vary, 'Accept-Encoding');
  const plainBytes = await readBody(plain.body as BodyPart[]);
  const text = plainBytes.toString('utf8');
  assert.ok(gunzipSync(await readBody(gzipped.body as BodyPart[])).equals(plainBytes), 'both forms are the same document');
  assert.equal(text, `${JSON.stringify(status.report)}\n`, 'the text is the report serialised whole');
  assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify({ ...buildReport(scan), changes: [] })));
  const empty = buildStatus(syntheticScan(0).scan, { entries: [], recentChanges: [] });
  assert.equal((await readBody(await statusJson(empty, false))).toString('utf8'), `${JSON.stringify(empty.report)}\n`);
});
