import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { queueWork } from "../../src/container/byte-queue.ts";
import { ParseError } from "../../src/container/errors.ts";
import { createParser, createSniffingParser } from "../../src/container/index.ts";
import type { ContainerFormat, ContainerParser, ParserEvent } from "../../src/container/types.ts";
import { concat, prng, summarize } from "../helpers/feed.ts";
import { FIXTURES_DIR, fixture } from "../helpers/fixtures.ts";
import { topLevelBoxes } from "../helpers/media.ts";

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

const corpus = readdirSync(FIXTURES_DIR)
  .filter((f) => /\.(mp4|webm)$/.test(f))
  .map((f) => fixture(f).slice(0, HEAD_BYTES));

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
    return rnd() < 0.5
      ? concat([pick([new Uint8Array([0x1a, 0x45, 0xdf, 0xa3]), new Uint8Array([0, 0, 0, 16, 0x66, 0x74, 0x79, 0x70])], rnd), out])
      : out;
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
      const parser =
        which < 0.5
          ? createSniffingParser({ maxElementBytes: CAP })
          : createParser(which < 0.75 ? "fmp4" : "webm", { maxElementBytes: CAP });
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

/** What a parser made of a stream: its events (only compared when it finished) and its error reason. */
interface Outcome {
  events: unknown[];
  reason: string | undefined;
  /** Largest `buffered` seen after a push. */
  held: number;
}

/** Feeds `bytes` to a fresh parser in chunks of the sizes `nextSize` gives. */
function outcome(make: () => Pick<ContainerParser, "push" | "end" | "buffered">, bytes: Uint8Array, nextSize: () => number): Outcome {
  const parser = make();
  const events: ParserEvent[] = [];
  let held = 0;
  try {
    for (let pos = 0; pos < bytes.length; ) {
      const n = nextSize();
      events.push(...parser.push(bytes.subarray(pos, pos + n)));
      pos += n;
      held = Math.max(held, parser.buffered);
    }
    events.push(...parser.end());
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    return { events: [], reason: e.reason, held };
  }
  return { events: summarize(events), reason: undefined, held };
}

/** ByteQueue work (bytes copied + entries visited) while `fn` runs. */
function work(fn: () => void): number {
  const before = queueWork.copied + queueWork.steps;
  fn();
  return queueWork.copied + queueWork.steps - before;
}

const TINY_CASES = 800;

describe("adversarial chunking", () => {
  test(`${TINY_CASES} mutated inputs give the same result whole, one byte at a time and in random 1-16 byte chunks, with O(1) work per byte (seed ${SEED})`, () => {
    const rnd = prng(SEED + 1);
    const names = Object.keys(mutators);
    let bytesFed = 0;
    let worst = 0;
    for (let i = 0; i < TINY_CASES; i++) {
      const mutator = pick(names, rnd);
      const input = mutators[mutator]!(pick(corpus, rnd), rnd);
      const make = () => createSniffingParser({ maxElementBytes: CAP });
      const whole = outcome(make, input, () => input.length);
      let byByte: Outcome | undefined;
      let tiny: Outcome | undefined;
      const spent = work(() => {
        byByte = outcome(make, input, () => 1);
        tiny = outcome(make, input, () => 1 + Math.floor(rnd() * 16));
      });
      const what = `case ${i} (${mutator}, seed ${SEED})`;
      expect({ what, ...byByte! }).toEqual({ what, ...whole, held: byByte!.held });
      expect({ what, ...tiny! }).toEqual({ what, ...whole, held: tiny!.held });
      // One-byte chunks: what is held after a push is at most the cap plus a box/element header.
      expect(byByte!.held).toBeLessThanOrEqual(CAP + 16);
      bytesFed += 2 * input.length;
      worst = Math.max(worst, spent / Math.max(1, 2 * input.length));
    }
    expect(bytesFed).toBeGreaterThan(TINY_CASES * 1000);
    // Copy into a block, copy out once (twice for a held fMP4 prefix), header peeks across blocks.
    expect(worst).toBeLessThan(8);
  }, 60_000);

  /** Hostile but cheap-to-send shapes, scaled to `bytes`. */
  const shapes: Record<string, { format: ContainerFormat; make: (bytes: number) => Uint8Array }> = {
    "fMP4 styp/free pairs": {
      format: "fmp4",
      make: (n) => concat([fmp4Init, repeat(concat([fmp4Box("styp", 8), fmp4Box("free", 8)]), n / 16)]),
    },
    "fMP4 styp prefix": { format: "fmp4", make: (n) => concat([fmp4Init, repeat(fmp4Box("styp", 8), n / 8)]) },
    "fMP4 large emsg": { format: "fmp4", make: (n) => concat([fmp4Init, fmp4Box("emsg", n + 8), new Uint8Array(n)]) },
    "WebM Segment headers": {
      format: "webm",
      make: (n) => concat([ebmlHeader, repeat(new Uint8Array([0x18, 0x53, 0x80, 0x67, 0xff]), Math.floor(n / 5))]),
    },
  };

  test("time per byte of hostile shapes in 1-16 byte chunks does not grow with their size (512 KiB vs 4 MiB)", () => {
    const small = 512 * 1024;
    const large = 8 * small;
    for (const [name, shape] of Object.entries(shapes)) {
      const perByte = (size: number) => {
        const input = shape.make(size);
        let best = Infinity;
        for (let rep = 0; rep < 2; rep++) {
          const rnd = prng(rep);
          const parser = createParser(shape.format, { maxElementBytes: 32 * 1024 * 1024 });
          const t0 = performance.now();
          const spent = work(() => {
            for (let pos = 0; pos < input.length; ) {
              const n = 1 + Math.floor(rnd() * 16);
              parser.push(input.subarray(pos, pos + n));
              pos += n;
            }
          });
          best = Math.min(best, (performance.now() - t0) / input.length);
          expect({ name, workPerByte: spent / input.length < 6 }).toEqual({ name, workPerByte: true });
        }
        return best;
      };
      perByte(small); // warm-up
      const ratio = perByte(large) / perByte(small);
      // Linear work gives ~1; the quadratic paths this guards against gave ~8 and more.
      expect({ name, ratio: ratio < 3 ? "linear" : ratio }).toEqual({ name, ratio: "linear" });
    }
  }, 60_000);
});

const fmp4File = fixture("h264-baseline-aac.mp4");
const fmp4Moov = topLevelBoxes(fmp4File).find((b) => b.type === "moov")!;
const fmp4Init = fmp4File.slice(0, fmp4Moov.start + fmp4Moov.size);
const webmFile = fixture("vp8-opus.webm");
const ebmlHeader = webmFile.slice(0, 4 + 1 + (webmFile[4]! & 0x7f)); // 1A 45 DF A3, 1-byte size VINT, body

function fmp4Box(type: string, size: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setUint32(0, size);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  return out;
}

function repeat(unit: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(unit.byteLength * Math.floor(n));
  for (let i = 0; i < Math.floor(n); i++) out.set(unit, i * unit.byteLength);
  return out;
}
