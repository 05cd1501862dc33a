import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PolicyConfig } from '../../src/config/types.js';
import { judgePolicy } from '../../src/fleet/policy.js';
import { CA01, CA01_TWIN, CA02, FABRIKAM, ROOT, result } from './results.js';

const policy = (p: Partial<PolicyConfig>): PolicyConfig => ({
  name: 'pchat-web-same-ca',
  reference: 'lync-internal',
  members: ['pchat-web'],
  match: 'issuer',
  scope: null,
  allowedIssuers: [],
  ...p,
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
    assert.deepEqual(v.divergent, [
      {
        key: 'pool@127.0.0.12',
        target: 'pool',
        group: 'pchat-web',
        address: '127.0.0.12',
        scope: null,
        asReference: false,
        issuer: FABRIKAM,
        expected: [CA01],
      },
    ]);
    assert.deepEqual(v.expected, [{ ...CA01, endpoints: 1 }]);
    assert.deepEqual(v.issuers, [
      { ...CA01, endpoints: 2 },
      { ...FABRIKAM, endpoints: 1 },
    ]);
    assert.equal(v.matching.length, 3, 'the reference endpoint matches too');
  });

  it('treats a same-name CA with another key as divergent: the name alone never matches', () => {
    const v = judgePolicy(policy({}), [
      result({ target: 'fe', group: 'lync-internal', issuer: CA01 }),
      result({ target: 'web1', group: 'pchat-web', issuer: CA01_TWIN }),
      result({ target: 'web2', group: 'pchat-web', issuer: CA01 }),
    ]);
    assert.deepEqual(
      v.divergent.map((d) => d.target),
      ['web1'],
    );
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
    assert.deepEqual(
      v.unknown.map((u) => u.target),
      ['web2'],
    );
    assert.match(v.unknown[0]!.reason, /probe failed \(refused\)/);
  });

  it('a mixed reference: its most common CA is expected, and its minority endpoints are divergent too', () => {
    const v = judgePolicy(policy({}), [
      result({ target: 'fe1', group: 'lync-internal', issuer: CA01 }),
      result({ target: 'fe2', group: 'lync-internal', issuer: CA01 }),
      result({ target: 'fe3', group: 'lync-internal', issuer: CA02 }),
      result({ target: 'web1', group: 'pchat-web', issuer: CA01 }),
      result({ target: 'web2', group: 'pchat-web', issuer: CA02 }),
    ]);
    assert.equal(v.consistent, false);
    assert.deepEqual(v.expected, [{ ...CA01, endpoints: 2 }]);
    assert.deepEqual(
      v.divergent.map((d) => [d.target, d.asReference]),
      [
        ['web2', false],
        ['fe3', true],
      ],
    );
    assert.match(
      v.notes[0]!,
      /reference group lync-internal holds 2 different issuing CAs; Contoso Issuing CA 01 \(key aa01\) is the most common and expected/,
    );
  });

  it('a mixed reference never passes: members on the minority CA of the reference are divergent', () => {
    // The bug this guards against: a member whose own IIS is in the reference group brought its CA
    // into the allowed set, and the policy came out consistent.
    const v = judgePolicy(policy({}), [
      result({ target: 'fe1', group: 'lync-internal', issuer: CA01 }),
      result({ target: 'fe2', group: 'lync-internal', issuer: CA01 }),
      result({ target: 'fe3-web', group: 'lync-internal', issuer: FABRIKAM }),
      result({ target: 'fe3-pchat', group: 'pchat-web', issuer: FABRIKAM }),
    ]);
    assert.equal(v.consistent, false);
    assert.deepEqual(v.divergent.map((d) => d.target).sort(), ['fe3-pchat', 'fe3-web']);
  });

  it('a tie in the reference leaves no expected CA: every member and reference endpoint is divergent, with a note', () => {
    const v = judgePolicy(policy({}), [
      result({ target: 'fe1', group: 'lync-internal', issuer: CA01 }),
      result({ target: 'fe2', group: 'lync-internal', issuer: CA02 }),
      result({ target: 'web', group: 'pchat-web', issuer: CA01 }),
    ]);
    assert.equal(v.consistent, false);
    assert.deepEqual(v.expected, []);
    assert.deepEqual(v.divergent.map((d) => d.target).sort(), ['fe1', 'fe2', 'web']);
    assert.deepEqual(v.divergent.find((d) => d.target === 'web')!.expected, []);
    assert.match(
      v.notes[0]!,
      /no expected issuing CA: reference group lync-internal is split evenly between .*Contoso Issuing CA 01.* and .*Contoso Issuing CA 02/,
    );
  });

  it('a pinned policy with a reference: the reference majority must also be pinned', () => {
    const results = [result({ target: 'fe', group: 'lync-internal', issuer: CA01 }), result({ target: 'web', group: 'pchat-web', issuer: CA01 })];
    assert.equal(judgePolicy(policy({ allowedIssuers: [CA01.keyId] }), results).consistent, true);
    const unpinned = judgePolicy(policy({ allowedIssuers: [CA02.keyId] }), results);
    assert.deepEqual(unpinned.divergent.map((d) => d.target).sort(), ['fe', 'web']);
    assert.match(unpinned.notes.join('\n'), /not pinned in allowed_issuers/);
  });

  it('makes every member unknown when the reference group has no readable chain', () => {
    const v = judgePolicy(policy({}), [
      result({ target: 'fe', group: 'lync-internal', error: true }),
      result({ target: 'web', group: 'pchat-web', issuer: CA01 }),
    ]);
    assert.deepEqual(v.unknown.map((u) => [u.target, u.asReference]).sort(), [
      ['fe', true],
      ['web', false],
    ]);
    assert.equal(v.divergent.length, 0);
  });

  it('without a reference, the most common CA is the baseline and the others diverge', () => {
    const v = judgePolicy(policy({ reference: null, members: ['lync-internal'] }), [
      result({ target: 'a', group: 'lync-internal', issuer: CA01 }),
      result({ target: 'b', group: 'lync-internal', issuer: CA01 }),
      result({ target: 'c', group: 'lync-internal', issuer: FABRIKAM }),
    ]);
    assert.deepEqual(v.expected, [{ ...CA01, endpoints: 2 }]);
    assert.deepEqual(
      v.divergent.map((d) => d.target),
      ['c'],
    );
  });

  it('without a reference, a tie makes every member divergent', () => {
    const v = judgePolicy(policy({ reference: null, members: ['lync-internal'] }), [
      result({ target: 'a', group: 'lync-internal', issuer: CA01 }),
      result({ target: 'b', group: 'lync-internal', issuer: FABRIKAM }),
    ]);
    assert.equal(v.consistent, false);
    assert.deepEqual(
      v.divergent.map((d) => d.target),
      ['a', 'b'],
    );
    assert.deepEqual(v.expected, []);
    assert.match(v.notes[0]!, /no majority/);
  });

  it('pins: members must chain to a pinned key id or SPKI hash', () => {
    const results = [
      result({ target: 'a', group: 'pchat-web', issuer: { ...CA01, spki: 'cafe01' } }),
      result({ target: 'b', group: 'pchat-web', issuer: { ...FABRIKAM, spki: 'cafe02' } }),
    ];
    const byKey = judgePolicy(policy({ reference: null, allowedIssuers: [CA01.keyId] }), results);
    assert.deepEqual(
      byKey.divergent.map((d) => d.target),
      ['b'],
    );
    const bySpki = judgePolicy(policy({ reference: null, allowedIssuers: ['cafe02'] }), results);
    assert.deepEqual(
      bySpki.divergent.map((d) => d.target),
      ['a'],
    );
    assert.deepEqual(bySpki.expected, [{ ...FABRIKAM, endpoints: 1 }]);
  });

  describe('scope', () => {
    const DUBLIN = { ...CA01 };
    const LONDON = { ...CA02 };
    const at = (site: string) => ({ labels: { site } });
    const scoped = policy({ scope: 'site' });

    it('judges each site against its own reference: two legitimate issuing CAs are consistent', () => {
      const fleet = [
        result({ target: 'dub-fe', group: 'lync-internal', issuer: DUBLIN, ...at('dublin') }),
        result({ target: 'dub-web', group: 'pchat-web', issuer: DUBLIN, ...at('dublin') }),
        result({ target: 'lon-fe', group: 'lync-internal', issuer: LONDON, ...at('london') }),
        result({ target: 'lon-web', group: 'pchat-web', issuer: LONDON, ...at('london') }),
      ];
      const v = judgePolicy(scoped, fleet);
      assert.equal(v.consistent, true);
      assert.equal(v.scope, 'site');
      assert.deepEqual(
        v.scopes.map((s) => [s.value, s.consistent, s.expected.map((e) => e.keyId)]),
        [
          ['dublin', true, [DUBLIN.keyId]],
          ['london', true, [LONDON.keyId]],
        ],
      );
      assert.deepEqual(
        v.expected.map((e) => e.keyId),
        [DUBLIN.keyId, LONDON.keyId],
      );
      // Judged as one, the same fleet is a tie in the reference: only scope tells two sites apart.
      assert.equal(judgePolicy(policy({}), fleet).consistent, false);
    });

    it("a site's web certificate from the other site's CA is divergent in that site only, with that site's CA expected", () => {
      const v = judgePolicy(scoped, [
        result({ target: 'dub-fe1', group: 'lync-internal', issuer: DUBLIN, ...at('dublin') }),
        result({ target: 'dub-fe2', group: 'lync-internal', issuer: DUBLIN, ...at('dublin') }),
        result({ target: 'dub-web', group: 'pchat-web', issuer: LONDON, ...at('dublin') }),
        result({ target: 'lon-fe1', group: 'lync-internal', issuer: LONDON, ...at('london') }),
        result({ target: 'lon-fe2', group: 'lync-internal', issuer: LONDON, ...at('london') }),
        result({ target: 'lon-fe3', group: 'lync-internal', issuer: LONDON, ...at('london') }),
        result({ target: 'lon-web', group: 'pchat-web', issuer: LONDON, ...at('london') }),
      ]);
      assert.equal(v.consistent, false);
      assert.deepEqual(
        v.divergent.map((d) => [d.target, d.scope, d.expected]),
        [['dub-web', 'dublin', [DUBLIN]]],
      );
      assert.deepEqual(
        v.scopes.map((s) => [s.value, s.consistent, s.divergent, s.matching]),
        [
          ['dublin', false, 1, 2],
          ['london', true, 0, 4],
        ],
      );
    });

    it('notes name the scope they are about', () => {
      const v = judgePolicy(scoped, [
        result({ target: 'dub-fe1', group: 'lync-internal', issuer: DUBLIN, ...at('dublin') }),
        result({ target: 'dub-fe2', group: 'lync-internal', issuer: LONDON, ...at('dublin') }),
        result({ target: 'dub-web', group: 'pchat-web', issuer: DUBLIN, ...at('dublin') }),
        result({ target: 'lon-fe', group: 'lync-internal', issuer: LONDON, ...at('london') }),
        result({ target: 'lon-web', group: 'pchat-web', issuer: LONDON, ...at('london') }),
      ]);
      assert.deepEqual(
        v.scopes.map((s) => s.value),
        ['dublin', 'london'],
      );
      assert.equal(v.notes.length, 1);
      assert.match(v.notes[0]!, /^site=dublin: no expected issuing CA/);
      assert.deepEqual(v.scopes[1]!.notes, []);
    });

    it('a site whose reference has no readable chain leaves its members unknown, and other sites are still judged', () => {
      const v = judgePolicy(scoped, [
        result({ target: 'dub-fe', group: 'lync-internal', error: true, ...at('dublin') }),
        result({ target: 'dub-web', group: 'pchat-web', issuer: LONDON, ...at('dublin') }),
        result({ target: 'lon-fe', group: 'lync-internal', issuer: LONDON, ...at('london') }),
        result({ target: 'lon-web', group: 'pchat-web', issuer: FABRIKAM, ...at('london') }),
      ]);
      assert.deepEqual(v.unknown.map((u) => u.target).sort(), ['dub-fe', 'dub-web']);
      assert.deepEqual(
        v.divergent.map((d) => d.target),
        ['lon-web'],
      );
      assert.match(v.notes[0]!, /^site=dublin: reference group lync-internal has no endpoint with a readable chain here/);
    });

    it('without a reference, the majority is taken per site', () => {
      const v = judgePolicy(policy({ reference: null, members: ['lync-internal'], scope: 'site' }), [
        result({ target: 'd1', group: 'lync-internal', issuer: DUBLIN, ...at('dublin') }),
        result({ target: 'd2', group: 'lync-internal', issuer: DUBLIN, ...at('dublin') }),
        result({ target: 'l1', group: 'lync-internal', issuer: LONDON, ...at('london') }),
        result({ target: 'l2', group: 'lync-internal', issuer: LONDON, ...at('london') }),
        result({ target: 'l3', group: 'lync-internal', issuer: LONDON, ...at('london') }),
        result({ target: 'l4', group: 'lync-internal', issuer: DUBLIN, ...at('london') }),
      ]);
      assert.deepEqual(
        v.divergent.map((d) => d.target),
        ['l4'],
      );
      assert.deepEqual(
        v.scopes.map((s) => s.expected.map((e) => e.keyId)),
        [[DUBLIN.keyId], [LONDON.keyId]],
      );
    });

    it('a site without members is not judged: its reference endpoints belong to other policies', () => {
      const v = judgePolicy(scoped, [
        result({ target: 'dub-fe', group: 'lync-internal', issuer: DUBLIN, ...at('dublin') }),
        result({ target: 'dub-web', group: 'pchat-web', issuer: DUBLIN, ...at('dublin') }),
        result({ target: 'lon-fe1', group: 'lync-internal', issuer: LONDON, ...at('london') }),
        result({ target: 'lon-fe2', group: 'lync-internal', issuer: FABRIKAM, ...at('london') }),
      ]);
      assert.equal(v.consistent, true);
      assert.deepEqual(
        v.scopes.map((s) => s.value),
        ['dublin'],
      );
      assert.deepEqual(v.matching.map((m) => m.target).sort(), ['dub-fe', 'dub-web']);
    });

    it('an endpoint without the scope label is judged in a scope of its own, never with a labelled site', () => {
      const v = judgePolicy(scoped, [
        result({ target: 'dub-fe', group: 'lync-internal', issuer: DUBLIN, ...at('dublin') }),
        result({ target: 'dub-web', group: 'pchat-web', issuer: DUBLIN, ...at('dublin') }),
        result({ target: 'stray-web', group: 'pchat-web', issuer: DUBLIN }),
      ]);
      assert.deepEqual(
        v.scopes.map((s) => s.value),
        ['', 'dublin'],
      );
      assert.deepEqual(
        v.unknown.map((u) => [u.target, u.scope]),
        [['stray-web', '']],
      );
    });
  });
});
