import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PolicyConfig } from '../../src/config/types.js';
import { judgePolicy } from '../../src/fleet/policy.js';
import { CA01, CA01_TWIN, CA02, FABRIKAM, ROOT, result } from './results.js';

const policy = (p: Partial<PolicyConfig>): PolicyConfig => ({
  name: 'pchat-web-same-ca', reference: 'lync-internal', members: ['pchat-web'], match: 'issuer', allowedIssuers: [], ...p,
});

describe('policy judgement', () => {
  it('names the one pool address whose CA differs from the reference group', () => {
    const results = [
      result({ target: 'fe', group: 'lync-internal', issuer: CA01 }),
      result({ target: 'pool', group: 'pchat-web', address: '127.0.0.11', issuer: CA01 }),
      result({ target: 'pool', group: 'pchat-web', address: '127.0.0.12', issuer: FABRIKAM }),
      result({ target: 'pool', group: 'pchat-web', address: '127.0.0.13', issuer: CA01 }),
    ];
    const v = judgePolicy(policy({}), results);
    assert.equal(v.consistent, false);
    assert.deepEqual(v.divergent, [{ key: 'pool@127.0.0.12', target: 'pool', group: 'pchat-web', address: '127.0.0.12', issuer: FABRIKAM }]);
    assert.deepEqual(v.expected, [{ ...CA01, endpoints: 1 }]);
    assert.deepEqual(v.issuers, [{ ...CA01, endpoints: 2 }, { ...FABRIKAM, endpoints: 1 }]);
    assert.equal(v.matching.length, 2);
  });

  it('treats a same-name CA with another key as divergent: the name alone never matches', () => {
    const v = judgePolicy(policy({}), [
      result({ target: 'fe', group: 'lync-internal', issuer: CA01 }),
      result({ target: 'web1', group: 'pchat-web', issuer: CA01_TWIN }),
      result({ target: 'web2', group: 'pchat-web', issuer: CA01 }),
    ]);
    assert.deepEqual(v.divergent.map((d) => d.target), ['web1']);
  });

  it('match: root accepts another issuing CA under the same root, match: issuer does not', () => {
    const results = [
      result({ target: 'fe', group: 'lync-internal', issuer: CA01, root: ROOT }),
      result({ target: 'web', group: 'pchat-web', issuer: CA02, root: ROOT }),
    ];
    assert.equal(judgePolicy(policy({ match: 'root' }), results).consistent, true);
    assert.equal(judgePolicy(policy({ match: 'issuer' }), results).consistent, false);
  });

  it('counts failed probes as unknown, neither consistent nor divergent', () => {
    const v = judgePolicy(policy({}), [
      result({ target: 'fe', group: 'lync-internal', issuer: CA01 }),
      result({ target: 'web1', group: 'pchat-web', issuer: CA01 }),
      result({ target: 'web2', group: 'pchat-web', error: true }),
    ]);
    assert.equal(v.consistent, true);
    assert.deepEqual(v.divergent, []);
    assert.deepEqual(v.unknown.map((u) => u.target), ['web2']);
    assert.match(v.unknown[0]!.reason, /probe failed \(refused\)/);
  });

  it('reports a reference group that itself holds several CAs and allows all of them', () => {
    const v = judgePolicy(policy({}), [
      result({ target: 'fe1', group: 'lync-internal', issuer: CA01 }),
      result({ target: 'fe2', group: 'lync-internal', issuer: CA02 }),
      result({ target: 'web', group: 'pchat-web', issuer: CA02 }),
    ]);
    assert.equal(v.consistent, true);
    assert.equal(v.expected.length, 2);
    assert.match(v.notes[0]!, /reference group lync-internal itself holds 2 different issuing CAs/);
  });

  it('makes every member unknown when the reference group has no readable chain', () => {
    const v = judgePolicy(policy({}), [result({ target: 'fe', group: 'lync-internal', error: true }), result({ target: 'web', group: 'pchat-web', issuer: CA01 })]);
    assert.deepEqual(v.unknown.map((u) => u.target), ['web']);
    assert.equal(v.divergent.length, 0);
  });

  it('without a reference, the most common CA is the baseline and the others diverge', () => {
    const v = judgePolicy(policy({ reference: null, members: ['lync-internal'] }), [
      result({ target: 'a', group: 'lync-internal', issuer: CA01 }),
      result({ target: 'b', group: 'lync-internal', issuer: CA01 }),
      result({ target: 'c', group: 'lync-internal', issuer: FABRIKAM }),
    ]);
    assert.deepEqual(v.expected, [{ ...CA01, endpoints: 2 }]);
    assert.deepEqual(v.divergent.map((d) => d.target), ['c']);
  });

  it('without a reference, a tie makes every member divergent', () => {
    const v = judgePolicy(policy({ reference: null, members: ['lync-internal'] }), [
      result({ target: 'a', group: 'lync-internal', issuer: CA01 }),
      result({ target: 'b', group: 'lync-internal', issuer: FABRIKAM }),
    ]);
    assert.equal(v.consistent, false);
    assert.deepEqual(v.divergent.map((d) => d.target), ['a', 'b']);
    assert.deepEqual(v.expected, []);
    assert.match(v.notes[0]!, /no majority/);
  });

  it('pins: members must chain to a pinned key id or SPKI hash', () => {
    const results = [
      result({ target: 'a', group: 'pchat-web', issuer: { ...CA01, spki: 'cafe01' } }),
      result({ target: 'b', group: 'pchat-web', issuer: { ...FABRIKAM, spki: 'cafe02' } }),
    ];
    const byKey = judgePolicy(policy({ reference: null, allowedIssuers: [CA01.keyId] }), results);
    assert.deepEqual(byKey.divergent.map((d) => d.target), ['b']);
    const bySpki = judgePolicy(policy({ reference: null, allowedIssuers: ['cafe02'] }), results);
    assert.deepEqual(bySpki.divergent.map((d) => d.target), ['a']);
    assert.deepEqual(bySpki.expected, [{ ...FABRIKAM, endpoints: 1 }]);
  });
});
