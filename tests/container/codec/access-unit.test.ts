import { describe, expect, test } from "bun:test";
import { splitAccessUnit } from "../../../src/container/codec/access-unit.ts";
import { splitAnnexB } from "../../../src/container/codec/annexb.ts";
import { expectedVideoSample } from "../mpegts/probe.ts";
import { encode } from "./encode.ts";

/** NAL unit types in an Annex B stream, in order. */
function types(annexB: Uint8Array, codec: "avc" | "hevc"): number[] {
  return splitAnnexB(annexB).map((n) => (codec === "avc" ? n[0]! & 0x1f : (n[0]! >> 1) & 0x3f));
}

describe("access units → MP4 samples", () => {
  test("H.264 with access unit delimiters and filler data: AUD, filler, SPS, PPS leave the sample; the IDR is a keyframe", () => {
    const encoded = encode("avc", "320x240", "yuv420p", ["-x264-params", "aud=1"]).annexB;
    // x264 writes no filler NAL unit for two frames; add one (type 12: 0xFF bytes then rbsp_trailing_bits) behind the first AUD.
    const filler = Uint8Array.of(0, 0, 0, 1, 12, 0xff, 0xff, 0xff, 0x80);
    const at = 6; // 00 00 00 01 09 xx
    const annexB = new Uint8Array(encoded.byteLength + filler.byteLength);
    annexB.set(encoded.subarray(0, at));
    annexB.set(filler, at);
    annexB.set(encoded.subarray(at), at + filler.byteLength);
    const e = { annexB };
    const all = types(e.annexB, "avc");
    expect(all).toContain(9);
    expect(all).toContain(12);
    expect(all).toContain(5);
    const au = splitAccessUnit("avc", e.annexB);
    expect(au.keyframe).toBe(true);
    expect([...au.data]).toEqual([...expectedVideoSample(e.annexB, "avc")]);
    expect(au.sps.length + au.pps.length).toBe(2);
  });

  test("H.265: AUD and VPS/SPS/PPS leave the sample; IDR_W_RADL is a keyframe, a trailing picture is not", () => {
    const e = encode("hevc", "320x240", "yuv420p", ["-x265-params", "log-level=error:aud=1"]);
    expect(types(e.annexB, "hevc")).toContain(35);
    const au = splitAccessUnit("hevc", e.annexB);
    expect(au.keyframe).toBe(true);
    expect([...au.data]).toEqual([...expectedVideoSample(e.annexB, "hevc")]);
    expect([au.vps.length, au.sps.length, au.pps.length]).toEqual([1, 1, 1]);
    // A lone TRAIL_R slice (type 1).
    const trail = Uint8Array.of(0, 0, 0, 1, 1 << 1, 1, 0xaf, 0x12);
    expect(splitAccessUnit("hevc", trail)).toMatchObject({ keyframe: false });
    // CRA (21) and BLA (16) are IRAP too.
    expect(splitAccessUnit("hevc", Uint8Array.of(0, 0, 1, 21 << 1, 1, 0x80)).keyframe).toBe(true);
    expect(splitAccessUnit("hevc", Uint8Array.of(0, 0, 1, 16 << 1, 1, 0x80)).keyframe).toBe(true);
    expect(splitAccessUnit("hevc", Uint8Array.of(0, 0, 1, 24 << 1, 1, 0x80)).keyframe).toBe(false);
  });

  test("a unit of parameter sets only gives an empty sample", () => {
    const au = splitAccessUnit("avc", Uint8Array.of(0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x67, 0x42, 0, 0x1e, 0, 0, 1, 0x68, 0xce));
    expect(au.data.byteLength).toBe(0);
    expect(au.keyframe).toBe(false);
  });
});
