// Shared settings for the property-based fuzz tests: a fixed seed so a failure reproduces, a
// bounded number of runs for `npm test`, more with CHAINWATCH_FUZZ_RUNS=N.
import fc from 'fast-check';

export const FUZZ = { seed: 0x5eed2026, numRuns: Number(process.env.CHAINWATCH_FUZZ_RUNS ?? 300) } as const;

/** Bytes of `base` with a few positions overwritten, a slice cut out, or junk spliced in. */
export function mutated(base: Buffer): fc.Arbitrary<Buffer> {
  const at = fc.nat({ max: Math.max(0, base.length - 1) });
  return fc.oneof(
    fc.array(fc.tuple(at, fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }).map((edits) => {
      const b = Buffer.from(base);
      for (const [i, v] of edits) b[i] = v;
      return b;
    }),
    fc.tuple(at, at).map(([a, b]) => Buffer.concat([base.subarray(0, Math.min(a, b)), base.subarray(Math.max(a, b))])),
    fc.tuple(at, fc.uint8Array({ minLength: 1, maxLength: 64 })).map(([i, junk]) => Buffer.concat([base.subarray(0, i), Buffer.from(junk), base.subarray(i)])),
    at.map((i) => base.subarray(0, i)),
  );
}

export const randomBytes = fc.uint8Array({ maxLength: 4096 }).map((u) => Buffer.from(u));
