import { describe, expect, test } from "bun:test";
import { splitAccessUnit } from "../../../src/container/codec/access-unit.ts";
import { buildAvcDecoderConfig, readAvcDecoderConfig } from "../../../src/container/codec/avc-config.ts";
import { parseH264Sps } from "../../../src/container/codec/h264-sps.ts";
import { ParseError } from "../../../src/container/errors.ts";
import { encode } from "./encode.ts";

/** Sizes and formats that exercise frame cropping (odd sizes, 1080 = 1088 cropped), the High profiles' chroma/bit depth fields and field coding. */
const CASES: Array<[string, string, string[]]> = [
  ["320x240", "yuv420p", []],
  ["1920x1080", "yuv420p", []],
  ["322x242", "yuv420p", []],
  ["322x242", "yuv444p", []],
  ["322x242", "yuv422p10le", []],
  ["320x240", "yuv420p10le", []],
  ["320x240", "yuv420p", ["-profile:v", "baseline"]],
  ["320x240", "yuv420p", ["-flags", "+ildct+ilme", "-x264-params", "interlaced=1"]],
  ["332x252", "yuv420p", ["-flags", "+ildct+ilme", "-x264-params", "interlaced=1"]],
];

describe("H.264 SPS and avcC against ffmpeg", () => {
  for (const [size, pixFmt, extra] of CASES) {
    test(`${size} ${pixFmt} ${extra.join(" ")}: size as ffprobe says, avcC byte-identical to ffmpeg's`, () => {
      const e = encode("avc", size, pixFmt, extra);
      const au = splitAccessUnit("avc", e.annexB);
      expect(au.sps.length).toBe(1);
      const sps = parseH264Sps(au.sps[0]!);
      expect([sps.width, sps.height]).toEqual([e.width, e.height]);
      expect([...buildAvcDecoderConfig(au.sps, au.pps)]).toEqual([...e.record]);
      expect(readAvcDecoderConfig(e.record)).toEqual({ width: e.width, height: e.height });
    });
  }
});

describe("avcC: broken records are ParseError(malformed)", () => {
  const good = encode("avc", "320x240", "yuv420p").record;
  const reasonOf = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return e instanceof ParseError ? e.reason : String(e);
    }
    return "no error";
  };

  test("every truncation of a real record, a wrong version, no SPS, a PPS where the SPS belongs", () => {
    for (let n = 0; n < 10 + 0x17; n++) expect(reasonOf(() => readAvcDecoderConfig(good.subarray(0, n)))).toBe("malformed");
    const v2 = good.slice();
    v2[0] = 2;
    expect(reasonOf(() => readAvcDecoderConfig(v2))).toBe("malformed");
    const none = good.slice();
    none[5] = 0xe0;
    expect(reasonOf(() => readAvcDecoderConfig(none))).toBe("malformed");
    const notSps = good.slice();
    notSps[8] = 0x68;
    expect(reasonOf(() => readAvcDecoderConfig(notSps))).toBe("malformed");
  });

  test("building needs an SPS and a PPS", () => {
    const au = splitAccessUnit("avc", encode("avc", "320x240", "yuv420p").annexB);
    expect(reasonOf(() => buildAvcDecoderConfig([], au.pps))).toBe("malformed");
    expect(reasonOf(() => buildAvcDecoderConfig(au.sps, []))).toBe("malformed");
  });

  test("random bytes as an SPS never escape as anything but ParseError", () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let i = 0; i < 2000; i++) {
      const b = Uint8Array.from({ length: 4 + (i % 40) }, rnd);
      b[0] = 0x67;
      const r = reasonOf(() => parseH264Sps(b));
      expect(["no error", "malformed"]).toContain(r);
    }
  });
});
