import { describe, expect, test } from "bun:test";
import { ParseError } from "../../../src/container/errors.ts";
import { concat, prng } from "../../helpers/feed.ts";
import { fixture } from "../../helpers/fixtures.ts";
import { demuxer, MiB } from "./helpers.ts";

/**
 * Mutated MPEG-TS (bit flips, byte runs, cut and repeated ranges) in random chunks: the demuxer
 * either accepts it or throws a ParseError, never anything else, and never holds more than its budget.
 */

const FILES = ["h264-aac.mpegts", "hevc-aac.mpegts", "h264-opus.mpegts", "h264-aac.m2ts", "h264-aac-bframes.mpegts"];
const HEAD = 48 * 1024;

function mutate(src: Uint8Array, rnd: () => number): Uint8Array {
  let b: Uint8Array = src.slice();
  const n = 1 + Math.floor(rnd() * 8);
  for (let k = 0; k < n; k++) {
    const at = Math.floor(rnd() * b.byteLength);
    switch (Math.floor(rnd() * 4)) {
      case 0: // bit flips
        for (let i = 0; i < 16; i++) b[Math.min(b.byteLength - 1, at + Math.floor(rnd() * 4096))]! ^= 1 << Math.floor(rnd() * 8);
        break;
      case 1: // a run of one byte value (0x00, 0xFF or 0x47)
        b.fill([0, 0xff, 0x47][Math.floor(rnd() * 3)]!, at, at + Math.floor(rnd() * 600));
        break;
      case 2: {
        // cut a range
        const len = Math.floor(rnd() * 1000);
        b = concat([b.subarray(0, at), b.subarray(at + len)]);
        break;
      }
      default: {
        // repeat a range
        const len = Math.floor(rnd() * 2000);
        b = concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)]);
      }
    }
  }
  return b;
}

describe("MPEG-TS fuzz", () => {
  test("500 mutated streams: only ParseError, buffered within the budget", () => {
    const rnd = prng(2024);
    let errors = 0;
    let accepted = 0;
    const heads = FILES.map((f) => fixture(f).subarray(0, HEAD));
    for (let i = 0; i < 500; i++) {
      const input = mutate(heads[i % heads.length]!, rnd);
      const d = demuxer(MiB / 4);
      try {
        for (let o = 0; o < input.byteLength; ) {
          const n = 1 + Math.floor(rnd() * 3000);
          d.push(input.slice(o, o + n), o);
          expect(d.buffered).toBeLessThanOrEqual(MiB / 4 + 192);
          o += n;
        }
        d.end();
        accepted++;
      } catch (e) {
        if (!(e instanceof ParseError)) throw e;
        errors++;
      }
    }
    expect(accepted).toBeGreaterThan(250);
    expect(accepted + errors).toBe(500);
  });
});
