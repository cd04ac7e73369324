/**
 * planRestart: what a new `stream` message does to the current SourceBuffer. MIME types are the
 * server's (src/container/mime.ts): `video/mp4; codecs="avc1.64001E,mp4a.40.2"`.
 */

import { describe, expect, test } from "bun:test";
import { codecs, family, planRestart, type StreamShape } from "../../static/player/restart-plan.ts";

const H264_AAC: StreamShape = { format: "fmp4", mime: 'video/mp4; codecs="avc1.64001E,mp4a.40.2"' };
const H264_BASELINE_AAC: StreamShape = { format: "fmp4", mime: 'video/mp4; codecs="avc1.42E01E,mp4a.40.2"' };
const AVC3_AAC: StreamShape = { format: "fmp4", mime: 'video/mp4; codecs="avc3.64001F,mp4a.40.5"' };
const H264_ONLY: StreamShape = { format: "fmp4", mime: 'video/mp4; codecs="avc1.64001E"' };
const AAC_ONLY: StreamShape = { format: "fmp4", mime: 'audio/mp4; codecs="mp4a.40.2"' };
const HEVC_AAC: StreamShape = { format: "fmp4", mime: 'video/mp4; codecs="hvc1.1.6.L93.B0,mp4a.40.2"' };
const AV1_OPUS_MP4: StreamShape = { format: "fmp4", mime: 'video/mp4; codecs="av01.0.04M.08,opus"' };
const VP8_OPUS: StreamShape = { format: "webm", mime: 'video/webm; codecs="vp8,opus"' };
const VP9_OPUS: StreamShape = { format: "webm", mime: 'video/webm; codecs="vp9,opus"' };
const VP09_OPUS: StreamShape = { format: "webm", mime: 'video/webm; codecs="vp09.00.10.08,opus"' };
const VP8_VORBIS: StreamShape = { format: "webm", mime: 'video/webm; codecs="vp8,vorbis"' };

describe("planRestart", () => {
  test("same container and codec families continue in the same SourceBuffer, with or without changeType", () => {
    expect(planRestart(H264_AAC, H264_AAC, true)).toBe("continue");
    expect(planRestart(H264_AAC, H264_BASELINE_AAC, false)).toBe("continue"); // another profile/level
    expect(planRestart(H264_AAC, AVC3_AAC, false)).toBe("continue"); // avc1 ≡ avc3, AAC-LC ≡ HE-AAC
    expect(planRestart(VP9_OPUS, VP09_OPUS, false)).toBe("continue"); // "vp9" ≡ "vp09.…"
  });

  test("another codec family or container with the same track kinds uses changeType when available", () => {
    expect(planRestart(H264_AAC, HEVC_AAC, true)).toBe("changeType");
    expect(planRestart(H264_AAC, VP8_OPUS, true)).toBe("changeType"); // fMP4 → WebM
    expect(planRestart(VP8_OPUS, H264_AAC, true)).toBe("changeType"); // WebM → fMP4
    expect(planRestart(VP8_OPUS, VP9_OPUS, true)).toBe("changeType");
    expect(planRestart(VP8_OPUS, VP8_VORBIS, true)).toBe("changeType"); // audio codec only
    expect(planRestart(H264_AAC, AV1_OPUS_MP4, true)).toBe("changeType");
  });

  test("the same codecs in another container are not a continuation", () => {
    const h264InWebm: StreamShape = { format: "webm", mime: H264_AAC.mime };
    expect(planRestart(H264_AAC, h264InWebm, true)).toBe("changeType");
    expect(planRestart(H264_AAC, h264InWebm, false)).toBe("recreate");
  });

  test("without changeType a codec or container change recreates the MediaSource", () => {
    expect(planRestart(H264_AAC, HEVC_AAC, false)).toBe("recreate");
    expect(planRestart(H264_AAC, VP8_OPUS, false)).toBe("recreate");
  });

  test("a change in the number of audio or video tracks always recreates (MSE requires the first init's track counts)", () => {
    expect(planRestart(H264_AAC, H264_ONLY, true)).toBe("recreate"); // audio dropped
    expect(planRestart(H264_ONLY, H264_AAC, true)).toBe("recreate"); // audio added
    expect(planRestart(H264_AAC, AAC_ONLY, true)).toBe("recreate"); // video dropped
    expect(planRestart(AAC_ONLY, { format: "webm", mime: 'audio/webm; codecs="opus"' }, true)).toBe("changeType");
    expect(planRestart(VP8_OPUS, H264_ONLY, true)).toBe("recreate");
  });

  test("the order of codecs in the MIME type does not matter", () => {
    const swapped: StreamShape = { format: "fmp4", mime: 'video/mp4; codecs="mp4a.40.2,avc1.64001E"' };
    expect(planRestart(H264_AAC, swapped, false)).toBe("continue");
  });

  test("every audio family counts as audio: a video+audio pair keeps its shape across audio codecs", () => {
    for (const audio of ["mp4a.40.2", "opus", "vorbis", "flac", "fLaC", "ac-3", "ec-3", "alac", "mp3"]) {
      const next: StreamShape = { format: "fmp4", mime: `video/mp4; codecs="avc1.64001E,${audio}"` };
      expect(planRestart(H264_AAC, next, true)).not.toBe("recreate");
    }
  });
});

describe("codecs", () => {
  test("reads the codecs parameter, quoted or not, trimmed and lower-cased", () => {
    expect(codecs('video/mp4; codecs="avc1.64001E,mp4a.40.2"')).toEqual(["avc1.64001e", "mp4a.40.2"]);
    expect(codecs("video/mp4;codecs=avc1.64001E, mp4a.40.2")).toEqual(["avc1.64001e", "mp4a.40.2"]);
    expect(codecs('video/webm; CODECS = "vp8, opus"')).toEqual(["vp8", "opus"]);
    expect(codecs('video/mp4; codecs="avc1.64001E"; profiles="iso6"')).toEqual(["avc1.64001e"]);
  });

  test("a MIME type without codecs, or with an empty list, has none", () => {
    expect(codecs("video/mp4")).toEqual([]);
    expect(codecs('video/mp4; codecs=""')).toEqual([]);
    expect(codecs('video/mp4; codecs=","')).toEqual([]);
  });
});

describe("family", () => {
  test("drops profile details and treats sample-entry aliases as one family", () => {
    expect(family("avc1.64001e")).toBe("avc");
    expect(family("avc3.42e01e")).toBe("avc");
    expect(family("hvc1.1.6.l93.b0")).toBe("hevc");
    expect(family("hev1.1.6.l93.b0")).toBe("hevc");
    expect(family("vp09.00.10.08")).toBe("vp9");
    expect(family("vp9")).toBe("vp9");
    expect(family("vp8")).toBe("vp8");
    expect(family("av01.0.04m.08")).toBe("av1");
    expect(family("dvh1.05.06")).toBe("dv");
    expect(family("mp4a.40.2")).toBe("mp4a");
    expect(family("opus")).toBe("opus");
  });

  test("codec names that are object property names are ordinary names", () => {
    for (const name of ["constructor", "__proto__", "toString", "hasOwnProperty"]) expect(family(name)).toBe(name);
    const odd: StreamShape = { format: "fmp4", mime: 'video/mp4; codecs="__proto__,constructor"' };
    expect(planRestart(odd, odd, false)).toBe("continue");
    expect(planRestart(odd, H264_AAC, false)).toBe("recreate"); // two "video" tracks vs one video + one audio
  });
});
