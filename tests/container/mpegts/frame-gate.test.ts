import { describe, expect, test } from "bun:test";
import { MAX_HOLD_TICKS } from "../../../src/container/mpegts/frame-gate.ts";
import { concat } from "../../helpers/feed.ts";
import { fixture } from "../../helpers/fixtures.ts";
import {
  continueCounters,
  demuxer,
  flagDiscontinuity,
  frameKey,
  frames,
  packetize,
  packets,
  pes,
  pidOf,
  pmtSection,
  pusiOf,
  trackEvents,
  whole,
} from "./helpers.ts";

/** When `tracks` goes out and what happens to frames before it. */

const CLEAN = fixture("h264-aac.mpegts");
const VIDEO = 0x100;
const AUDIO = 0x101;

describe("MPEG-TS: tracks before frames", () => {
  test("audio that arrives before the video configuration is held and released behind the tracks event, in order", () => {
    const events = whole(demuxer(), CLEAN);
    expect(events[0]!.type).toBe("tracks");
    expect(trackEvents(events)).toHaveLength(1);
    const audioTimes = frames(events, "audio").map((f) => f.dts);
    expect(audioTimes).toEqual([...audioTimes].sort((a, b) => a - b));
  });

  test("a declared audio stream that never sends: video is released after MAX_HOLD_TICKS of media, not at the end", () => {
    const videoOnly = concat(packets(CLEAN).filter((p) => pidOf(p) !== AUDIO));
    // Three copies in a row (each behind a discontinuity) give 9 s of video.
    const two = flagDiscontinuity(continueCounters(videoOnly, videoOnly), [VIDEO]);
    const three = flagDiscontinuity(continueCounters(concat([videoOnly, two]), videoOnly), [VIDEO]);
    const s = concat([videoOnly, two, three]);
    const d = demuxer();
    const pushed = d.push(s, 0);
    const tracks = trackEvents(pushed);
    expect(tracks).toHaveLength(1);
    expect(tracks[0]!.map((t) => t.kind)).toEqual(["video"]);
    const first = frames(pushed, "video");
    expect(first.length).toBeGreaterThan(150);
    expect(first.at(-1)!.dts - first[0]!.dts).toBeGreaterThan(MAX_HOLD_TICKS);
    d.end();
  });

  test("the same stream cut at 3 s: end() releases the held video behind a video-only tracks event", () => {
    const videoOnly = concat(packets(CLEAN).filter((p) => pidOf(p) !== AUDIO));
    const d = demuxer();
    expect(d.push(videoOnly, 0)).toEqual([]);
    const end = d.end();
    expect(trackEvents(end).map((t) => t.map((c) => c.kind))).toEqual([["video"]]);
    expect(frames(end, "video")).toHaveLength(75);
    expect(end.at(-1)).toEqual({ type: "end-of-stream" });
  });

  test("held frames beyond a quarter of the budget are dropped oldest first, counted, and buffered stays under the budget", () => {
    const videoOnly = concat(packets(CLEAN).filter((p) => pidOf(p) !== AUDIO));
    const d = demuxer(32 * 1024);
    let max = 0;
    for (let o = 0; o < videoOnly.byteLength; o += 1000) {
      d.push(videoOnly.subarray(o, o + 1000), o);
      max = Math.max(max, d.buffered);
    }
    expect(max).toBeLessThanOrEqual(32 * 1024);
    const end = d.end();
    const kept = frames(end, "video");
    expect(d.counters.droppedFrames).toBe(75 - kept.length);
    expect(kept.length).toBeGreaterThan(0);
    // The newest frames survive.
    const all = frames(whole(demuxer(), CLEAN), "video").map(frameKey);
    expect(kept.map(frameKey)).toEqual(all.slice(all.length - kept.length));
  });

  test("a stream joined mid-GOP: frames before the first keyframe are dropped and counted", () => {
    const list = packets(CLEAN);
    // Start at the 5th video PES (keyframes come every 15 frames).
    let n = 0;
    const at = list.findIndex((p) => pidOf(p) === VIDEO && pusiOf(p) && ++n === 5);
    const s = concat([list[0]!, list[1]!, list[2]!, ...list.slice(at)]);
    const d = demuxer();
    const events = whole(d, s);
    const video = frames(events, "video");
    expect(video[0]!.keyframe).toBe(true);
    const clean = frames(whole(demuxer(), CLEAN), "video");
    expect(video[0]!.dts).toBe(clean[15]!.dts);
    expect(d.counters.droppedFrames).toBe(15 - 4);
  });

  test("a sniffed private stream that is not ADTS does not hold the video back", () => {
    const cc = { n: 0 };
    const pmt = pmtSection(0, VIDEO, [
      [0x1b, VIDEO],
      [0x06, 0x300],
    ]);
    const list = packets(CLEAN).filter((p) => pidOf(p) !== 0x1000 && pidOf(p) !== AUDIO);
    const data = packetize(0x300, pes(0xbd, new Uint8Array(400).fill(0x42), 90000), { n: 0 });
    const s = concat([list[0]!, list[1]!, ...packetize(0x1000, pmt, cc, true), ...data, ...list.slice(2)]);
    const d = demuxer();
    const pushed = d.push(s, 0);
    expect(trackEvents(pushed).map((t) => t.map((c) => c.kind))).toEqual([["video"]]);
    expect(frames(pushed, "video").length).toBe(74); // the last one completes at end()
  });
});
