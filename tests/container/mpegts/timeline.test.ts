import { describe, expect, test } from "bun:test";
import { ProgramClock } from "../../../src/container/mpegts/timeline.ts";
import { concat } from "../../helpers/feed.ts";
import { fixture } from "../../helpers/fixtures.ts";
import { byteByByte, continueCounters, demuxer, flagDiscontinuity, frames, monotonic, summarize, whole } from "./helpers.ts";

/** 33-bit wrap, discontinuities and jumps: the output time line keeps increasing and audio stays with video. */

const CLEAN = fixture("h264-aac.mpegts");
const WRAP = 2 ** 33;

describe("MPEG-TS time line", () => {
  test("a stream crossing 2^33 (ffmpeg -output_ts_offset) continues past it, monotonic, no break", () => {
    const d = demuxer();
    const events = whole(d, fixture("h264-aac-wrap.mpegts"));
    const video = frames(events, "video");
    expect(video[0]!.dts).toBeLessThan(WRAP);
    expect(video.at(-1)!.dts).toBeGreaterThan(WRAP);
    expect(monotonic(events)).toBe(true);
    expect(d.counters.timelineBreaks).toBe(0);
    // Same frames as the stream without the offset, shifted by the offset modulo nothing.
    const plain = frames(whole(demuxer(), CLEAN));
    const wrapped = frames(events);
    expect(wrapped.map((f) => f.dts - wrapped[0]!.dts)).toEqual(plain.map((f) => f.dts - plain[0]!.dts));
  });

  test("the stream repeated with discontinuity_indicator set: one break, the repeat follows the first part, A/V offsets equal", () => {
    const second = flagDiscontinuity(continueCounters(CLEAN, CLEAN), [0x100, 0x101]);
    const d = demuxer();
    const events = whole(d, concat([CLEAN, second]));
    expect(d.counters.discontinuityIndicators).toBe(2);
    expect(d.counters.timelineBreaks).toBe(1);
    expect(d.counters.continuityErrors).toBe(0);
    expect(monotonic(events)).toBe(true);
    const once = frames(whole(demuxer(), CLEAN));
    const twice = frames(events);
    expect(twice.length).toBe(2 * once.length);
    // Every frame of the repeat is the original shifted by one offset, the same for audio and video.
    const offset = twice[once.length]!.dts - once.find((f) => f.kind === twice[once.length]!.kind)!.dts;
    const byKind = (kind: string, list: typeof once) => list.filter((f) => f.kind === kind);
    for (const kind of ["video", "audio"]) {
      const a = byKind(kind, once);
      const b = byKind(kind, twice).slice(a.length);
      expect(b.map((f) => f.dts - offset)).toEqual(a.map((f) => f.dts));
      expect(b.map((f) => f.pts - offset)).toEqual(a.map((f) => f.pts));
    }
    // The repeat starts right after the first part: 100 ms after the later of audio and video ended.
    const lastVideo = byKind("video", twice)[once.filter((f) => f.kind === "video").length - 1]!;
    const firstRepeat = byKind("video", twice)[once.filter((f) => f.kind === "video").length]!;
    expect(firstRepeat.dts - lastVideo.dts).toBeGreaterThan(0);
    expect(firstRepeat.dts - lastVideo.dts).toBeLessThanOrEqual(9000 + 3 * 3600);
    expect(d.counters.clampedTimestamps).toBe(0);
    expect(summarize(byteByByte(demuxer(), concat([CLEAN, second])))).toEqual(summarize(events));
  });

  test("the same repeat without the indicator (a 3 s jump back) is caught as a break too", () => {
    const d = demuxer();
    const events = whole(d, concat([CLEAN, continueCounters(CLEAN, CLEAN)]));
    expect(d.counters.discontinuityIndicators).toBe(0);
    expect(d.counters.timelineBreaks).toBe(1);
    expect(monotonic(events)).toBe(true);
    expect(frames(events).length).toBe(2 * frames(whole(demuxer(), CLEAN)).length);
  });

  test("unit: wrap, forward jump, small gaps, clamping", () => {
    const clock = new ProgramClock();
    const t = clock.timeline();
    const step = (raw: number, disc = false) => {
      const r = t.map(raw, raw, disc);
      t.advance(r.dts, 3600);
      return r.dts;
    };
    expect(step(WRAP - 3600)).toBe(WRAP - 3600);
    expect(step(0)).toBe(WRAP);
    expect(step(3600)).toBe(WRAP + 3600);
    // A 5 s gap is a gap, not a break.
    expect(step(3600 + 5 * 90000)).toBe(WRAP + 3600 + 5 * 90000);
    // A 20 s jump forward is a break: continue 100 ms after the last frame's end.
    const last = WRAP + 3600 + 5 * 90000 + 3600 + 9000;
    expect(step(3600 + 25 * 90000)).toBe(last);
    expect(clock.breaks).toBe(1);
    // A small step back (under 1 s) is clamped to keep dts increasing.
    expect(step(3600 + 25 * 90000 - 1000)).toBe(last + 1);
    expect(clock.clamped).toBe(1);
    // PTS keeps its offset to DTS across a wrap between them.
    const u = new ProgramClock().timeline();
    expect(u.map(WRAP - 100, 500, false)).toEqual({ dts: WRAP - 100, pts: WRAP + 500 });
  });
});
