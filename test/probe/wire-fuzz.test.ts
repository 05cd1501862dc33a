// Feeds the server-flight reader thousands of random and mutated inputs from a seeded PRNG
// (reproducible: a failure names its seed and case). Nothing may throw, results stay within
// the limits, and memory does not grow with the amount of input processed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { HandshakeAssembler, parseCertificateMessage, parseServerHello } from '../../src/probe/wire/handshake.js';
import { MAX_CERTIFICATES, WireError } from '../../src/probe/wire/limits.js';
import { readServerFlight, type ServerFlight } from '../../src/probe/wire/server-flight.js';
import { fakeCerts, handshake, record, type Tls13Flight, tls12Flight, tls13Flight, u24 } from './wire-builders.js';

/** mulberry32: small, fast, good enough to drive mutations reproducibly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function bytesFrom(rand: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (rand() * 256) | 0;
  return b;
}

/** One of: bit flips, byte overwrites, truncation, a slice duplicated, a length field inflated, junk inserted. */
function mutate(rand: () => number, input: Buffer): Buffer {
  const b = Buffer.from(input);
  const pick = (n: number): number => (rand() * n) | 0;
  switch (pick(6)) {
    case 0:
      for (let i = 0, n = 1 + pick(8); i < n && b.length; i++) {
        const at = pick(b.length);
        b[at] = b[at]! ^ (1 << pick(8));
      }
      return b;
    case 1:
      for (let i = 0, n = 1 + pick(4); i < n && b.length; i++) b[pick(b.length)] = pick(256);
      return b;
    case 2:
      return b.subarray(0, pick(b.length + 1));
    case 3: {
      const at = pick(b.length + 1);
      const len = pick(200);
      return Buffer.concat([b.subarray(0, at), b.subarray(at, at + len), b.subarray(at)]);
    }
    case 4: {
      // Lengths are where parsers go wrong: set 2 or 3 bytes to large values.
      if (b.length < 4) return b;
      const at = pick(b.length - 3);
      b[at] = 0xff;
      b[at + 1] = pick(256);
      if (rand() < 0.5) b[at + 2] = 0xff;
      return b;
    }
    default: {
      const at = pick(b.length + 1);
      return Buffer.concat([b.subarray(0, at), bytesFrom(rand, 1 + pick(64)), b.subarray(at)]);
    }
  }
}

function assertSane(f: ServerFlight, input: Buffer, label: string): void {
  if (f.certificates !== null) {
    assert.ok(f.certificates.length <= MAX_CERTIFICATES, `${label}: too many certificates`);
    const total = f.certificates.reduce((n, c) => n + c.length, 0);
    // TLS 1.3 content is decrypted, never larger than the ciphertext carrying it.
    assert.ok(total <= input.length, `${label}: certificate bytes exceed input`);
  }
  assert.ok(f.error === null || typeof f.error === 'string', `${label}: error must be a string`);
}

function heapAfterGc(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

describe('wire parsers under random and mutated input', () => {
  const SEED = 0x5eed2024;

  it('readServerFlight never throws on random bytes or mutated TLS 1.2 / 1.3 flights, and memory stays flat', () => {
    const rand = prng(SEED);
    const seeds12 = [
      tls12Flight({ certs: fakeCerts(3, 600) }),
      tls12Flight({ certs: fakeCerts(2, 5000), recordSize: 700, requestCert: true, alert: 40 }),
      tls12Flight({ certs: fakeCerts(40, 100), recordSize: 64 }),
    ];
    const seeds13: Tls13Flight[] = [0x1301, 0x1302, 0x1303].map((suite, i) =>
      tls13Flight({ suite, certs: fakeCerts(3 + i, 500), requestCert: i === 1, recordSize: 400, after: [{ type: 21, content: Buffer.of(2, 116) }] }),
    );
    const run = (rounds: number): number => {
      let captured = 0;
      for (let i = 0; i < rounds; i++) {
        const kind = i % 4;
        let input: Buffer;
        let secrets = { handshake: null as Buffer | null };
        if (kind === 0) {
          input = bytesFrom(rand, (rand() * 600) | 0);
          if (rand() < 0.5 && input.length >= 3) {
            input[0] = 20 + ((rand() * 4) | 0); // get past the first-byte check more often
            input[1] = 3;
          }
        } else if (kind === 1) {
          input = mutate(rand, seeds12[i % seeds12.length]!);
        } else {
          const s = seeds13[i % seeds13.length]!;
          input = kind === 2 ? mutate(rand, s.bytes) : s.bytes.subarray(0, (rand() * s.bytes.length) | 0);
          secrets = { handshake: rand() < 0.9 ? s.handshakeSecret : bytesFrom(rand, 32) };
        }
        const label = `seed ${SEED} case ${i}`;
        let f: ServerFlight;
        try {
          f = readServerFlight(input, secrets, rand() < 0.5);
        } catch (err) {
          assert.fail(`${label}: readServerFlight threw ${String(err)} for input ${input.subarray(0, 64).toString('hex')}`);
        }
        assertSane(f, input, label);
        if (f.certificates) captured++;
      }
      return captured;
    };
    run(500); // warm up JIT and pools before measuring
    const before = heapAfterGc();
    const captured = run(6000);
    const growth = heapAfterGc() - before;
    assert.ok(captured > 100, `mutations should still leave many readable flights (got ${captured})`);
    assert.ok(growth < 16 * 1024 * 1024, `heap grew by ${(growth / 1048576).toFixed(1)} MiB`);
  });

  it('the message parsers only ever throw WireError', () => {
    const rand = prng(SEED + 1);
    const hello = handshake(2, Buffer.alloc(70, 1)).subarray(4);
    const cert = handshake(11, Buffer.concat([u24(10), u24(7), Buffer.alloc(7, 2)])).subarray(4);
    for (let i = 0; i < 5000; i++) {
      const input = i % 3 === 0 ? bytesFrom(rand, (rand() * 300) | 0) : mutate(rand, i % 3 === 1 ? hello : cert);
      for (const parse of [() => parseServerHello(input), () => parseCertificateMessage(input, false), () => parseCertificateMessage(input, true)]) {
        try {
          parse();
        } catch (err) {
          assert.ok(err instanceof WireError, `case ${i}: ${String(err)}`);
        }
      }
    }
  });

  it('the handshake assembler holds no more than its limit whatever the fragments declare', () => {
    const rand = prng(SEED + 2);
    for (let i = 0; i < 300; i++) {
      const asm = new HandshakeAssembler(64 * 1024);
      let fed = 0;
      try {
        while (fed < 1024 * 1024) {
          const fragment = bytesFrom(rand, 1 + ((rand() * 4096) | 0));
          fed += fragment.length;
          asm.push(fragment);
        }
        assert.fail(`case ${i}: 1 MiB accepted by a 64 KiB assembler`);
      } catch (err) {
        assert.ok(err instanceof WireError, `case ${i}: ${String(err)}`);
        assert.ok(fed <= 64 * 1024 + 4096, `case ${i}: stopped only after ${fed} bytes`);
      }
    }
  });

  it('a hostile stream of tiny records declaring a huge message is refused at the limit', () => {
    const header = record(22, Buffer.concat([Buffer.of(11), u24(0xfffff0)]));
    const f = readServerFlight(header, { handshake: null }, true);
    assert.match(f.error!, /over the 256 KiB accepted/);
    assert.equal(f.oversized, true);
    // A 250 KB message dripped 4 bytes per record: reassembled in linear time, then unreadable.
    const started = performance.now();
    const drip = Buffer.concat([
      record(22, Buffer.concat([Buffer.of(11), u24(250_000)])),
      ...Array.from({ length: 62_500 }, () => record(22, Buffer.alloc(4))),
    ]);
    const g = readServerFlight(drip, { handshake: null }, true);
    assert.equal(g.certificates, null);
    assert.match(g.error!, /does not match/);
    assert.ok(performance.now() - started < 1500, `took ${performance.now() - started} ms`);
    // Many small messages: the total limit applies, not only the per-message one.
    const flood = Buffer.concat(Array.from({ length: 80_000 }, () => record(22, handshake(4, Buffer.alloc(0)))));
    const h = readServerFlight(flood, { handshake: null }, true);
    assert.match(h.error!, /more than 288 KiB/);
  });
});
