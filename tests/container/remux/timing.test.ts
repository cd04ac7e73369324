/**
 * Timestamps: millisecond sources (RTMP) become sample-exact audio and unchanged video; Opus packet
 * lengths come from the TOC; broken clocks are repaired and counted.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { opusPacketSamples } from "../../../src/container/codec/opus.ts";
import { AudioClock } from "../../../src/container/remux/audio-clock.ts";
import type { CodedFrame } from "../../../src/container/remux/frame.ts";
import { cleanup, demuxEvents, framesOf, remux, type SourceName } from "./media.ts";
import { extractFrames, toMilliseconds } from "./samples.ts";

afterAll(cleanup);

const seconds = (frames: CodedFrame[], kind: string, scale: number) =>
  frames.filter((f) => f.kind === kind).map((f) => ({ dts: f.dts / scale, pts: f.pts / scale }));

describe("millisecond timestamps (as RTMP gives them)", () => {
  for (const [name, frameSamples] of [
    ["h264-aac", 1024],
    ["vp9-opus", 960],
  ] as Array<[SourceName, number]>) {
    test(`${name}: audio leaves sample-exact, every time within 1 ms of the source`, () => {
      const src = framesOf(name);
      const ms = toMilliseconds(src);
      const out = remux(demuxEvents(ms.tracks, ms.frames), { fragment: "frame" });
      const back = extractFrames(out.file).frames;
      const audioOut = back.filter((f) => f.kind === "audio");
      // Sample-exact: after the first frame (ffmpeg's AAC priming leaves a 3200-tick gap there, which
      // the clock keeps as a resync), every audio frame starts exactly one frame after the previous one.
      const steps = audioOut.slice(2).map((f, i) => f.dts - audioOut[i + 1]!.dts);
      expect(new Set(steps)).toEqual(new Set([frameSamples]));
      expect(out.init.tracks.find((t) => t.kind === "audio")!.timescale).toBe(48000);
      expect(out.init.tracks.find((t) => t.kind === "video")!.timescale).toBe(1000);
      // Within 1 ms of the source's own times, audio and video.
      for (const kind of ["video", "audio"]) {
        const srcScale = src.tracks.find((t) => t.kind === kind)!.timescale;
        const a = seconds(src.frames, kind, srcScale);
        const b = seconds(back, kind, kind === "video" ? 1000 : 48000);
        expect(b.length).toBe(a.length);
        const worst = Math.max(...a.map((x, i) => Math.max(Math.abs(x.dts - b[i]!.dts), Math.abs(x.pts - b[i]!.pts))));
        expect(worst).toBeLessThanOrEqual(0.001 + 1e-9);
      }
    });
  }
});

describe("AudioClock", () => {
  test("jitter under a frame is snapped away; a gap of a frame or more is kept; a frame a whole frame early is dropped", () => {
    const clock = new AudioClock(1000, 48000);
    expect(clock.place(0, 1024)).toBe(0);
    expect(clock.place(21, 1024)).toBe(1024); // 21 ms = 1008 ticks: snapped
    expect(clock.place(43, 1024)).toBe(2048); // 2064: snapped
    expect(clock.place(80, 1024)).toBe(3072); // 3840, 16 ms late (GStreamer's rtmp2sink does that): snapped, counted
    expect(clock.place(85, 1024)).toBe(4096); // 4080: back on time
    expect(clock.retimed).toBe(1);
    expect(clock.place(200, 1024)).toBe(9600); // a 100 ms gap: kept
    expect(clock.place(150, 1024)).toBe(undefined); // 7200, a whole frame before 10624: dropped
    expect(clock.place(221, 1024)).toBe(10624); // 10608: continuous again
    // A slow source clock: each frame 1 ms earlier than continuous; every frame's drift grows until one is dropped.
    const slow = new AudioClock(48000, 48000);
    const placed = Array.from({ length: 40 }, (_, i) => slow.place(i * (1024 - 48), 1024));
    expect(placed.filter((p) => p === undefined).length).toBe(1);
    expect(placed.filter((p) => p !== undefined).every((p, i, a) => i === 0 || p! - a[i - 1]! === 1024)).toBe(true);
  });

  test("same rate in and out: exact times pass through", () => {
    const clock = new AudioClock(48000, 48000);
    for (let i = 0; i < 10; i++) expect(clock.place(i * 960, 960)).toBe(i * 960);
    expect(clock.retimed).toBe(0);
  });
});

describe("Opus packet lengths from the TOC (RFC 6716 §3.1)", () => {
  test("ffmpeg's libopus packets are all 20 ms", () => {
    const { frames } = framesOf("opus-only");
    expect(new Set(frames.map((f) => opusPacketSamples(f.data)))).toEqual(new Set([960]));
  });

  test("a last packet whose TOC cannot say its length (code 3 without the count byte, empty) counts as 20 ms", () => {
    const { tracks, frames } = framesOf("opus-only");
    for (const broken of [Uint8Array.of((16 << 3) | 3), new Uint8Array(0)]) {
      const input = [...frames.slice(0, 2), { ...frames[2]!, data: broken }];
      const out = remux(demuxEvents(tracks, input), { fragment: "frame" });
      expect(out.fragments.map((f) => f.duration)).toEqual([960, 960, 960]);
    }
  });
});

describe("broken video clocks", () => {
  test("a repeated or backward dts moves just past the previous one and is counted", () => {
    const { tracks, frames } = framesOf("vp9-opus");
    const video = frames.filter((f) => f.kind === "video").slice(0, 5);
    const broken = [video[0]!, video[1]!, { ...video[2]!, dts: video[1]!.dts, pts: video[1]!.dts }, video[3]!, video[4]!];
    const out = remux(demuxEvents([tracks[0]!], broken), { fragment: "frame" });
    expect(out.retimed).toBe(1);
    expect(out.fragments.map((f) => f.decodeTime)).toEqual([video[0]!.dts, video[1]!.dts, video[1]!.dts + 1, video[3]!.dts, video[4]!.dts]);
  });
});
