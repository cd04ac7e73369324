/**
 * Where the remuxer cuts fragments and when it emits them: per frame vs per ~100 ms, keyframes at
 * fragment starts, audio following video, frames before the first keyframe, configuration changes.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createParser } from "../../../src/container/index.ts";
import type { CodedFrame, DemuxEvent } from "../../../src/container/remux/frame.ts";
import { createRemuxer } from "../../../src/container/remux/remuxer.ts";
import { DEFAULT_PARSER_OPTIONS, type FragmentEvent, type InitEvent } from "../../../src/container/types.ts";
import { concat } from "../../helpers/feed.ts";
import { cleanup, demuxEvents, framesOf, remux } from "./media.ts";
import { extractFrames } from "./samples.ts";

afterAll(cleanup);

/** The frames of one fragment, read back with the test-only extractor. */
function contents(init: InitEvent, fragment: FragmentEvent): CodedFrame[] {
  return extractFrames(concat([init.bytes, fragment.bytes])).frames;
}

const count = (frames: CodedFrame[], kind: string) => frames.filter((f) => f.kind === kind).length;

describe("frame mode", () => {
  test("H.264 + AAC: each video frame leaves in its own fragment, from its own push, with the audio that came before it", () => {
    const { tracks, frames } = framesOf("h264-aac");
    const out = remux(demuxEvents(tracks, frames), { fragment: "frame" });
    const video = frames.filter((f) => f.kind === "video");
    // Audio after the last video frame leaves at end(), alone.
    const trailing = frames.length - 1 - frames.lastIndexOf(video.at(-1)!);
    expect(trailing).toBeGreaterThan(0);
    expect(out.fragments.length).toBe(video.length + 1);
    const last = out.fragments.at(-1)!;
    expect([last.keyframe, last.syncPoint, count(contents(out.init, last), "audio")]).toEqual([false, false, trailing]);
    // perPush[0] is the tracks event (the init); then one entry per frame.
    frames.forEach((f, i) => expect(out.perPush[i + 1]).toBe(f.kind === "video" ? 1 : 0));
    let audioSeen = 0;
    out.fragments.slice(0, -1).forEach((frag, i) => {
      const inside = contents(out.init, frag);
      expect(count(inside, "video")).toBe(1);
      expect(frag.keyframe).toBe(video[i]!.keyframe);
      expect(frag.syncPoint).toBe(video[i]!.keyframe);
      expect(frag.decodeTime).toBe(video[i]!.dts);
      // Exactly the audio that arrived between the previous video frame and this one.
      const videoAt = frames.indexOf(video[i]!);
      const audioBefore = frames.slice(0, videoAt).filter((f) => f.kind === "audio").length;
      expect(count(inside, "audio")).toBe(audioBefore - audioSeen);
      audioSeen = audioBefore;
    });
    expect(out.fragments.filter((f) => f.keyframe).length).toBe(2);
  });

  test("a fragment's last video duration is the previous frame interval (1/30 s for the very first)", () => {
    const { tracks, frames } = framesOf("vp9-opus");
    const out = remux(demuxEvents(tracks, frames), { fragment: "frame" });
    const video = frames.filter((f) => f.kind === "video");
    expect(out.fragments[0]!.duration).toBe(Math.round(tracks[0]!.timescale / 30));
    for (let i = 1; i < video.length; i++) expect(out.fragments[i]!.duration).toBe(video[i]!.dts - video[i - 1]!.dts);
  });

  test("audio-only: one fragment per audio frame, each from its own push", () => {
    const { tracks, frames } = framesOf("aac-only");
    const out = remux(demuxEvents(tracks, frames), { fragment: "frame" });
    expect(out.fragments.length).toBe(frames.length);
    expect(out.perPush.slice(1).every((n) => n === 1)).toBe(true);
    expect(out.fragments.every((f) => f.keyframe && f.duration === 1024)).toBe(true);
  });
});

describe("{ ms } mode", () => {
  test("100 ms: 3 frames of 30 fps per fragment, a keyframe starting every tenth", () => {
    const { tracks, frames } = framesOf("h264-aac");
    const out = remux(demuxEvents(tracks, frames), { fragment: { ms: 100 } });
    expect(out.fragments.length).toBe(20);
    out.fragments.forEach((frag, i) => {
      expect(count(contents(out.init, frag), "video")).toBe(3);
      expect(frag.keyframe).toBe(i % 10 === 0);
      expect(frag.duration).toBe(1536); // 3 × 512 ticks of 1/15360 s
    });
    // Audio is cut by time: no audio sample of a fragment starts at or after the next fragment's video.
    for (let i = 0; i + 1 < out.fragments.length; i++) {
      const next = out.fragments[i + 1]!.decodeTime / out.fragments[i + 1]!.timescale;
      for (const a of contents(out.init, out.fragments[i]!).filter((f) => f.kind === "audio")) expect(a.dts / 48000).toBeLessThan(next);
    }
    // Every audio frame went out once.
    const audio = out.fragments.reduce((n, f) => n + count(contents(out.init, f), "audio"), 0);
    expect(audio).toBe(count(frames, "audio"));
  });

  test("a keyframe cuts even when the fragment is short: 1000 ms fragments of 1 s GOPs stay one GOP each", () => {
    const { tracks, frames } = framesOf("h264-aac");
    const out = remux(demuxEvents(tracks, frames), { fragment: { ms: 1000 } });
    expect(out.fragments.map((f) => f.keyframe)).toEqual([true, true]);
    expect(out.fragments.map((f) => count(contents(out.init, f), "video"))).toEqual([30, 30]);
  });

  test("400 ms: 12 frames per fragment, a GOP's remainder cut short by the next keyframe", () => {
    const { tracks, frames } = framesOf("hevc-aac");
    const out = remux(demuxEvents(tracks, frames), { fragment: { ms: 400 } });
    // Expected from the source's own keyframe positions (x265 places its second IDR where it likes).
    const video = frames.filter((f) => f.kind === "video");
    const expected: number[] = [];
    const keys: boolean[] = [];
    video.forEach((f, i) => {
      if (f.keyframe || expected.at(-1) === 12) {
        expected.push(0);
        keys.push(f.keyframe);
      }
      expected[expected.length - 1]! += 1;
      if (i === 0) expect(f.keyframe).toBe(true);
    });
    expect(keys.filter(Boolean).length).toBe(2);
    expect(out.fragments.map((f) => count(contents(out.init, f), "video"))).toEqual(expected);
    expect(out.fragments.map((f) => f.keyframe)).toEqual(keys);
  });

  test("audio-only 100 ms: fragments span at least 100 ms, less than 100 ms + one frame", () => {
    const { tracks, frames } = framesOf("opus-only");
    const out = remux(demuxEvents(tracks, frames), { fragment: { ms: 100 } });
    expect(out.fragments.length).toBeGreaterThan(15);
    for (const f of out.fragments.slice(0, -1)) {
      expect(f.duration!).toBeGreaterThanOrEqual(4800);
      expect(f.duration!).toBeLessThan(4800 + 960);
    }
  });
});

describe("frames before the first keyframe", () => {
  test("are dropped and counted, audio included; the first fragment starts with the keyframe", () => {
    const { tracks, frames } = framesOf("h264-aac");
    const firstVideo = frames.findIndex((f, i) => f.kind === "video" && i > 0 && !f.keyframe);
    const late = frames.slice(firstVideo + 10);
    const keyAt = late.findIndex((f) => f.kind === "video" && f.keyframe);
    const out = remux(demuxEvents(tracks, late), { fragment: "frame" });
    expect(out.dropped).toBe(keyAt);
    expect(out.fragments[0]!.keyframe).toBe(true);
    expect(out.fragments[0]!.decodeTime).toBe(late[keyAt]!.dts);
  });

  test("a stream whose video never has a keyframe emits nothing but its init", () => {
    const { tracks, frames } = framesOf("h264-aac");
    const out = remux(
      demuxEvents(
        tracks,
        frames.filter((f) => !(f.kind === "video" && f.keyframe)),
      ),
      { fragment: { ms: 100 } },
    );
    expect(out.fragments).toEqual([]);
    expect(out.dropped).toBe(frames.length - 2);
  });

  test("frames of a kind without a track are dropped and counted", () => {
    const { tracks, frames } = framesOf("h264-aac");
    const out = remux(demuxEvents([tracks[0]!], frames), { fragment: "frame" });
    expect(out.dropped).toBe(count(frames, "audio"));
    expect(out.init.mime).toBe('video/mp4; codecs="avc1.64000D"');
  });
});

describe("configuration changes", () => {
  test("new tracks flush the pending samples, then a new init; the new codec's frames wait for its keyframe", () => {
    const a = framesOf("h264-aac");
    const b = framesOf("hevc-aac");
    const r = createRemuxer({ fragment: { ms: 100 } });
    const first = a.frames.slice(0, 50); // ends mid-fragment
    const events = [...r.push({ type: "tracks", tracks: a.tracks })];
    for (const frame of first) events.push(...r.push({ type: "frame", frame }));
    expect(r.buffered).toBeGreaterThan(0);
    const change = r.push({ type: "tracks", tracks: b.tracks });
    expect(change.map((e) => e.type)).toEqual(["fragment", "init"]);
    expect(r.buffered).toBe(0);
    expect((change[1] as InitEvent).mime).toBe('video/mp4; codecs="hvc1.1.6.L60.90,mp4a.40.2"');
    events.push(...change);
    // Mid-GOP frames of the new stream are dropped until its keyframe.
    const tail = b.frames.slice(20);
    const keyAt = tail.findIndex((f) => f.kind === "video" && f.keyframe);
    for (const frame of tail) events.push(...r.push({ type: "frame", frame }));
    events.push(...r.end());
    expect(r.dropped).toBe(keyAt);

    // The whole output parses back into the same sequence: init, fragments, init, fragments.
    const parser = createParser("fmp4", DEFAULT_PARSER_OPTIONS);
    const parsed = [...parser.push(concat(events.map((e) => e.bytes))), ...parser.end()];
    expect(parsed.map((e) => e.type)).toEqual(events.map((e) => e.type));
    expect(events.filter((e) => e.type === "init").length).toBe(2);
    const afterChange = events.slice(events.indexOf(change[1]!) + 1) as FragmentEvent[];
    expect(afterChange[0]!.keyframe).toBe(true);
  });

  test("the same tracks again (equal bytes, new objects) change nothing", () => {
    const { tracks, frames } = framesOf("vp9-opus");
    const r = createRemuxer({ fragment: { ms: 100 } });
    r.push({ type: "tracks", tracks });
    for (const frame of frames.slice(0, 20)) r.push({ type: "frame", frame });
    const held = r.buffered;
    const copy = tracks.map((t) => (t.kind === "video" ? { ...t, record: t.record.slice() } : { ...t, config: t.config.slice() }));
    expect(r.push({ type: "tracks", tracks: copy })).toEqual([]);
    expect(r.buffered).toBe(held);
  });

  test("end-of-stream flushes what is pending; a later frame continues the stream", () => {
    const { tracks, frames } = framesOf("h264-aac");
    const r = createRemuxer({ fragment: { ms: 1000 } });
    r.push({ type: "tracks", tracks });
    for (const frame of frames.slice(0, 40)) r.push({ type: "frame", frame });
    const flushed = r.push({ type: "end-of-stream" } satisfies DemuxEvent);
    expect(flushed.map((e) => e.type)).toEqual(["fragment"]);
    expect(r.buffered).toBe(0);
    expect(r.end()).toEqual([]);
  });
});
