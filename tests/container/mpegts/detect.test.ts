import { describe, expect, test } from "bun:test";
import { DETECT_BYTES, detectMpegTs } from "../../../src/container/mpegts/detect.ts";
import { fixture } from "../../helpers/fixtures.ts";
import { demuxer } from "./helpers.ts";

describe("detectMpegTs", () => {
  test("188-byte TS, 192-byte M2TS, and neither", () => {
    expect(detectMpegTs(fixture("h264-aac.mpegts").subarray(0, DETECT_BYTES))).toBe("ts");
    expect(detectMpegTs(fixture("h264-aac.m2ts").subarray(0, DETECT_BYTES))).toBe("m2ts");
    expect(detectMpegTs(fixture("h264-baseline-aac.mp4").subarray(0, DETECT_BYTES))).toBeNull();
    expect(detectMpegTs(fixture("vp8-opus.webm").subarray(0, DETECT_BYTES))).toBeNull();
  });

  test("needs all three sync bytes: too short, or one missing, is null", () => {
    const ts = fixture("h264-aac.mpegts");
    expect(detectMpegTs(ts.subarray(0, 376))).toBeNull();
    expect(detectMpegTs(ts.subarray(0, 377))).toBe("ts");
    const broken = ts.slice(0, DETECT_BYTES);
    broken[188] = 0;
    expect(detectMpegTs(broken)).toBeNull();
    const m2ts = fixture("h264-aac.m2ts");
    expect(detectMpegTs(m2ts.subarray(0, 388))).toBeNull();
    expect(detectMpegTs(m2ts.subarray(0, 389))).toBe("m2ts");
  });

  test("the demuxer reports the flavour it found", () => {
    const d = demuxer();
    d.push(fixture("h264-aac.m2ts").subarray(0, 4096), 0);
    expect(d.flavour).toBe("m2ts");
  });
});
