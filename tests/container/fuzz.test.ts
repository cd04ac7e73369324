import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { ParseError } from "../../src/container/errors.ts";
import { createParser, createSniffingParser } from "../../src/container/index.ts";
import type { ContainerParser } from "../../src/container/types.ts";
import { concat, prng } from "../helpers/feed.ts";
import { FIXTURES_DIR, fixture } from "../helpers/fixtures.ts";

/**
 * Mutation fuzzing of both parsers over the real fixtures: bit flips, truncations, corrupted size
 * fields, splices of two streams, and random bytes, fed in random chunks. Only ParseError may escape,
 * nothing is held past the cap, and every case finishes quickly (a loop would hang and fail the test).
 * The seed varies per run; set SLUICE_FUZZ_SEED to replay a failure.
 */
const SEED = Number(process.env.SLUICE_FUZZ_SEED ?? Date.now() % 1_000_000_007);
const CASES = 12_000;
const CAP = 256 * 1024;
const MAX_CHUNK = 8192;
/** Fixture heads: the init and the first fragments, enough to reach every parsing path quickly. */
const HEAD_BYTES = 48 * 1024;

const corpus = readdirSync(FIXTURES_DIR).filter((f) => /\.(mp4|webm)$/.test(f)).map((f) => fixture(f).slice(0, HEAD_BYTES));

type Mutator = (b: Uint8Array, rnd: () => number) => Uint8Array;
const pick = <T>(xs: readonly T[], rnd: () => number): T => xs[Math.floor(rnd() * xs.length)]!;

const mutators: Record<string, Mutator> = {
  bitFlips(b, rnd) {
    const out = b.slice();
    for (let n = 1 + Math.floor(rnd() * 8); n > 0; n--) out[Math.floor(rnd() * out.length)]! ^= 1 << Math.floor(rnd() * 8);
    return out;
  },
  truncate: (b, rnd) => b.slice(0, Math.floor(rnd() * b.length)),
  // Overwrite 4 bytes at a random offset with an extreme size-like value (box/EBML size fields).
  sizeField(b, rnd) {
    const out = b.slice();
    const at = Math.floor(rnd() * Math.max(1, out.length - 4));
    const v = pick([0, 1, 7, 8, 0xffffffff, 0x7fffffff, 0x01000000, Math.floor(rnd() * 2 ** 32)], rnd);
    new DataView(out.buffer).setUint32(at, v >>> 0);
    if (rnd() < 0.3) out[at] = pick([0x01, 0x00, 0xff, 0x08], rnd); // EBML VINT length markers
    return out;
  },
  splice(b, rnd) {
    const other = pick(corpus, rnd);
    return concat([b.subarray(0, Math.floor(rnd() * b.length)), other.subarray(Math.floor(rnd() * other.length))]);
  },
  repeat: (b, rnd) => concat([b, b.subarray(Math.floor(rnd() * b.length))]),
  random(_b, rnd) {
    const out = new Uint8Array(Math.floor(rnd() * 4096));
    for (let i = 0; i < out.length; i++) out[i] = Math.floor(rnd() * 256);
    // Sometimes behind a valid magic, so the container parsers themselves see the garbage.
    return rnd() < 0.5 ? concat([pick([new Uint8Array([0x1a, 0x45, 0xdf, 0xa3]), new Uint8Array([0, 0, 0, 16, 0x66, 0x74, 0x79, 0x70])], rnd), out]) : out;
  },
};

function run(parser: Pick<ContainerParser, "push" | "end" | "buffered">, bytes: Uint8Array, rnd: () => number): void {
  let pos = 0;
  while (pos < bytes.length) {
    const n = 1 + Math.floor(rnd() * MAX_CHUNK);
    parser.push(bytes.subarray(pos, pos + n));
    pos += n;
    if (parser.buffered > CAP + 2 * MAX_CHUNK + 64) throw new Error(`parser holds ${parser.buffered} bytes, over the cap ${CAP}`);
  }
  parser.end();
}

describe("parser fuzzing", () => {
  test(`${CASES} mutated and random inputs raise only ParseError, stay under the cap and never hang (seed ${SEED})`, () => {
    const rnd = prng(SEED);
    const names = Object.keys(mutators);
    const reasons = new Map<string, number>();
    let slowest = 0;
    for (let i = 0; i < CASES; i++) {
      const mutator = pick(names, rnd);
      const input = mutators[mutator]!(pick(corpus, rnd), rnd);
      const which = rnd();
      const parser = which < 0.5 ? createSniffingParser({ maxElementBytes: CAP }) : createParser(which < 0.75 ? "fmp4" : "webm", { maxElementBytes: CAP });
      const t0 = performance.now();
      try {
        run(parser, input, rnd);
      } catch (e) {
        if (!(e instanceof ParseError)) throw new Error(`case ${i} (${mutator}, seed ${SEED}) threw ${(e as Error)?.stack ?? e}`);
        reasons.set(e.reason, (reasons.get(e.reason) ?? 0) + 1);
      }
      slowest = Math.max(slowest, performance.now() - t0);
    }
    expect(slowest).toBeLessThan(1000);
    // The mutations reach the parsers' error paths, not just the format sniffer.
    expect([...reasons.keys()]).toEqual(expect.arrayContaining(["unknown-format", "malformed", "truncated", "too-large"]));
  }, 120_000);
});
