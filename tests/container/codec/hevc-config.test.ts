import { describe, expect, test } from "bun:test";
import { splitAccessUnit } from "../../../src/container/codec/access-unit.ts";
import { buildHevcDecoderConfig, readHevcDecoderConfig } from "../../../src/container/codec/hevc-config.ts";
import { parseHevcSps } from "../../../src/container/codec/hevc-sps.ts";
import { ParseError } from "../../../src/container/errors.ts";
import { encode } from "./encode.ts";

/** hvcC with the array_completeness bits cleared: ffmpeg writes 0 there, this code 1 (what `hvc1` requires, ISO/IEC 14496-15 §8.3.3.1.2). */
function withoutCompleteness(hvcC: Uint8Array): Uint8Array {
  const out = hvcC.slice();
  let p = 23;
  for (let a = 0; a < out[22]!; a++) {
    out[p]! &= 0x7f;
    const n = (out[p + 1]! << 8) | out[p + 2]!;
    p += 3;
    for (let i = 0; i < n; i++) p += 2 + ((out[p]! << 8) | out[p + 1]!);
  }
  return out;
}

const CASES: Array<[string, string]> = [
  ["320x240", "yuv420p"],
  ["1920x1080", "yuv420p"],
  ["322x242", "yuv420p"],
  ["322x242", "yuv444p"],
  ["322x242", "yuv422p10le"],
  ["320x240", "yuv420p10le"],
];

describe("H.265 SPS and hvcC against ffmpeg", () => {
  for (const [size, pixFmt] of CASES) {
    test(`${size} ${pixFmt}: size as ffprobe says, hvcC equal to ffmpeg's but for array_completeness`, () => {
      const e = encode("hevc", size, pixFmt);
      const au = splitAccessUnit("hevc", e.annexB);
      expect([au.vps.length, au.sps.length, au.pps.length]).toEqual([1, 1, 1]);
      const sps = parseHevcSps(au.sps[0]!);
      expect([sps.width, sps.height]).toEqual([e.width, e.height]);
      const mine = buildHevcDecoderConfig(au.vps, au.sps, au.pps);
      // ffmpeg also stores declarative SEI arrays; compare the arrays both have.
      const theirs = e.record;
      expect([...withoutCompleteness(mine)].slice(0, 22)).toEqual([...theirs].slice(0, 22));
      expect(ffmpegParameterSets(theirs)).toEqual([...au.vps, ...au.sps, ...au.pps].map((u) => [...u]));
      expect(readHevcDecoderConfig(theirs)).toEqual({ width: e.width, height: e.height });
      expect(readHevcDecoderConfig(mine)).toEqual({ width: e.width, height: e.height });
    });
  }
});

/** The VPS, SPS and PPS units of an hvcC, in order. */
function ffmpegParameterSets(hvcC: Uint8Array): number[][] {
  const out: number[][] = [];
  let p = 23;
  for (let a = 0; a < hvcC[22]!; a++) {
    const type = hvcC[p]! & 0x3f;
    const n = (hvcC[p + 1]! << 8) | hvcC[p + 2]!;
    p += 3;
    for (let i = 0; i < n; i++) {
      const len = (hvcC[p]! << 8) | hvcC[p + 1]!;
      if (type >= 32 && type <= 34) out.push([...hvcC.subarray(p + 2, p + 2 + len)]);
      p += 2 + len;
    }
  }
  return out;
}

describe("hvcC: broken records are ParseError(malformed)", () => {
  const reasonOf = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return e instanceof ParseError ? e.reason : String(e);
    }
    return "no error";
  };

  test("every truncation of a real record, wrong version, a record without an SPS", () => {
    const good = encode("hevc", "320x240", "yuv420p").record;
    // ffmpeg's record: the VPS array, then the SPS array; every cut before the SPS ends is malformed.
    const vpsLength = (good[26]! << 8) | good[27]!;
    const spsAt = 23 + 3 + 2 + vpsLength + 3;
    const spsEnd = spsAt + 2 + ((good[spsAt]! << 8) | good[spsAt + 1]!);
    for (let n = 0; n < spsEnd; n++) expect(reasonOf(() => readHevcDecoderConfig(good.subarray(0, n)))).toBe("malformed");
    const v0 = good.slice();
    v0[0] = 0;
    expect(reasonOf(() => readHevcDecoderConfig(v0))).toBe("malformed");
    const noArrays = good.slice(0, 23);
    noArrays[22] = 0;
    expect(reasonOf(() => readHevcDecoderConfig(noArrays))).toBe("malformed");
  });

  test("building needs a VPS, an SPS and a PPS", () => {
    const au = splitAccessUnit("hevc", encode("hevc", "320x240", "yuv420p").annexB);
    expect(reasonOf(() => buildHevcDecoderConfig([], au.sps, au.pps))).toBe("malformed");
    expect(reasonOf(() => buildHevcDecoderConfig(au.vps, [], au.pps))).toBe("malformed");
    expect(reasonOf(() => buildHevcDecoderConfig(au.vps, au.sps, []))).toBe("malformed");
  });

  test("random bytes as an SPS never escape as anything but ParseError", () => {
    let seed = 11;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let i = 0; i < 2000; i++) {
      const b = Uint8Array.from({ length: 16 + (i % 60) }, rnd);
      b[0] = 33 << 1;
      expect(["no error", "malformed"]).toContain(reasonOf(() => parseHevcSps(b)));
    }
  });
});
