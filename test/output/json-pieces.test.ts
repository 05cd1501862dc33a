import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonPieces } from '../../src/output/json-pieces.js';

describe('jsonPieces', () => {
  const report = (n: number) => ({
    version: 1,
    scannedAt: new Date(Date.UTC(2026, 11, 1)),
    note: 'a line\nand "quotes" \u0000 too — ünïcode ✓',
    targets: Array.from({ length: n }, (_, i) => ({
      target: `web-${i}`,
      chain: [{ subject: i % 7 === 3 ? `CN=wéb-${i} — 证书` : `CN=web-${i}.contoso.test`, sans: ['a', 'b'], empty: [], nothing: null }],
      skipped: undefined,
    })),
    summary: { endpoints: n, groups: {} },
  });

  for (const indent of [0, 2]) {
    it(`writes exactly what JSON.stringify writes (indent ${indent})`, () => {
      for (const n of [0, 1, 3, 5000]) {
        const value = report(n);
        const pieces = [...jsonPieces(value, 'targets', indent)];
        assert.equal(Buffer.concat(pieces).toString('utf8'), `${JSON.stringify(value, null, indent)}\n`, `${n} targets`);
      }
    });
  }

  it('never holds a large list as one string', () => {
    const pieces = [...jsonPieces(report(5000), 'targets', 2)];
    assert.ok(pieces.length > 5, `${pieces.length} pieces`);
    assert.ok(Math.max(...pieces.map((p) => p.length)) < 70 * 1024);
  });
});
