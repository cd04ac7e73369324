import { describe, expect, test } from "bun:test";
import { ParseError } from "../../../src/container/errors.ts";
import { concat, prng } from "../../helpers/feed.ts";
import { fixture } from "../../helpers/fixtures.ts";
import { byteByByte, demuxer, frameKey, frames, packets, pidOf, pusiOf, randomSplits, reasonOf, summarize, whole } from "./helpers.ts";

/** Damage at the packet level: garbage, cut packets, lost / repeated / flagged packets. */

const CLEAN = fixture("h264-aac.mpegts");
const VIDEO = 0x100;
const AUDIO = 0x101;

function randomBytes(n: number, seed: number, avoidSync = false): Uint8Array {
  const rnd = prng(seed);
  const out = Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
  if (avoidSync) for (let i = 0; i < n; i++) if (out[i] === 0x47) out[i] = 0;
  return out;
}

/** Emitted frames must be frames of the clean stream, identical in time and bytes. */
function expectSubsetOfClean(events: ReturnType<typeof whole>) {
  const clean = new Set(frames(whole(demuxer(), CLEAN)).map(frameKey));
  for (const f of frames(events)) expect(clean.has(frameKey(f))).toBe(true);
}

/** Emitted video frames: after any clean frame went missing, the next one emitted is a keyframe. */
function expectResumeAtKeyframes(events: ReturnType<typeof whole>) {
  const clean = frames(whole(demuxer(), CLEAN), "video").map(frameKey);
  const got = frames(events, "video");
  let cleanIndex = 0;
  let gaps = 0;
  for (const f of got) {
    const k = clean.indexOf(frameKey(f), cleanIndex);
    expect(k).toBeGreaterThanOrEqual(cleanIndex);
    if (k > cleanIndex) {
      gaps++;
      expect(f.keyframe).toBe(true);
    }
    cleanIndex = k + 1;
  }
  return gaps;
}

describe("MPEG-TS: not MPEG-TS at all", () => {
  test("random bytes, an fMP4 file, WebM: unknown-format as soon as three packets' worth arrived", () => {
    for (const bytes of [randomBytes(65536, 1), fixture("h264-baseline-aac.mp4"), fixture("vp8-opus.webm")]) {
      const d = demuxer();
      expect(reasonOf(() => d.push(bytes.subarray(0, 388), 0))).toBe("no error");
      expect(reasonOf(() => d.push(bytes.subarray(388, 389), 1))).toBe("unknown-format");
    }
  });

  test("a short non-TS stream fails at end(); a short TS stream is taken", () => {
    expect(reasonOf(() => byteByByte(demuxer(), randomBytes(100, 2, true)))).toBe("unknown-format");
    // PAT + PMT + SDT only: MPEG-TS, but no track could be announced.
    expect(reasonOf(() => whole(demuxer(), CLEAN.subarray(0, 3 * 188)))).toBe("truncated");
    expect(whole(demuxer(), new Uint8Array(0))).toEqual([{ type: "end-of-stream" }]);
  });

  test("garbage without a sync pair for 256 KiB mid-stream is malformed; the error is a ParseError", () => {
    const d = demuxer();
    d.push(CLEAN.subarray(0, 188 * 100), 0);
    let err: unknown;
    try {
      for (let i = 0; i < 10; i++) d.push(randomBytes(65536, 10 + i, true), i);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ParseError);
    expect((err as ParseError).reason).toBe("malformed");
    expect(d.buffered).toBeLessThan(1024 * 1024);
  });
});

describe("MPEG-TS: damaged packets", () => {
  test("garbage between packets: sync is found again right after it and nothing is lost", () => {
    const list = packets(CLEAN);
    const garbage = randomBytes(5000, 3, true);
    const s = concat([...list.slice(0, 300), garbage, ...list.slice(300)]);
    const d = demuxer();
    const events = whole(d, s);
    expect(summarize(events)).toEqual(summarize(whole(demuxer(), CLEAN)));
    expect(d.counters.syncLosses).toBe(1);
    expect(d.counters.skippedBytes).toBe(5000);
    expect(summarize(randomSplits(demuxer(), s, 4))).toEqual(summarize(events));
  });

  test("less than a packet of garbage between packets looks like a cut packet: the PES before it is dropped", () => {
    const list = packets(CLEAN);
    const at = list.findIndex((p, i) => i > 300 && pidOf(p) === VIDEO && !pusiOf(p));
    const s = concat([...list.slice(0, at + 1), randomBytes(60, 5, true), ...list.slice(at + 1)]);
    const d = demuxer();
    const events = whole(d, s);
    expect(d.counters.syncLosses).toBe(1);
    expect(d.counters.skippedBytes).toBe(60);
    expect(d.counters.damagedPes).toBe(1);
    expectSubsetOfClean(events);
    expect(expectResumeAtKeyframes(events)).toBe(1);
  });

  test("video packets cut short: the PES they were in is dropped, video resumes at the next keyframe, audio is untouched", () => {
    const list = packets(CLEAN).map((p) => p.slice());
    const cut = new Set<number>();
    for (let i = 0, n = 0; i < list.length; i++) {
      if (pidOf(list[i]!) === VIDEO && !pusiOf(list[i]!) && ++n % 100 === 0) cut.add(i);
    }
    expect(cut.size).toBeGreaterThanOrEqual(3);
    const s = concat(list.map((p, i) => (cut.has(i) ? p.subarray(0, 88) : p)));
    const d = demuxer();
    const events = whole(d, s);
    expect(d.counters.syncLosses).toBe(cut.size);
    expectSubsetOfClean(events);
    const gaps = expectResumeAtKeyframes(events); // two cuts in one GOP make one gap
    expect(gaps).toBeGreaterThanOrEqual(2);
    expect(gaps).toBeLessThanOrEqual(cut.size);
    expect(d.counters.damagedPes).toBe(cut.size);
    expect(frames(events, "audio").length).toBe(frames(whole(demuxer(), CLEAN), "audio").length);
    expect(summarize(byteByByte(demuxer(), s))).toEqual(summarize(events));
  });

  test("lost packets (continuity gaps) on video and audio: counted, damaged frames dropped, video waits for a keyframe", () => {
    const list = packets(CLEAN);
    let dropped = 0;
    const kept = list.filter((p, i) => {
      const pid = pidOf(p);
      const lose = (pid === VIDEO && i % 53 === 0) || (pid === AUDIO && i % 61 === 0);
      if (lose) dropped++;
      return !lose;
    });
    expect(dropped).toBeGreaterThan(5);
    const d = demuxer();
    const events = whole(d, concat(kept));
    expect(d.counters.continuityErrors).toBe(dropped);
    expect(d.counters.damagedPes).toBeGreaterThan(0);
    expect(d.counters.droppedFrames).toBeGreaterThan(0);
    expectSubsetOfClean(events);
    expect(expectResumeAtKeyframes(events)).toBeGreaterThan(0);
    const cleanAudio = frames(whole(demuxer(), CLEAN), "audio").length;
    expect(frames(events, "audio").length).toBeLessThan(cleanAudio);
    expect(frames(events, "audio").length).toBeGreaterThan(cleanAudio - 3 * dropped);
  });

  test("repeated packets (same continuity counter) are ignored", () => {
    const list = packets(CLEAN);
    const s = concat(list.flatMap((p, i) => (i % 40 === 7 ? [p, p] : [p])));
    const d = demuxer();
    expect(summarize(whole(d, s))).toEqual(summarize(whole(demuxer(), CLEAN)));
    expect(d.counters.duplicatePackets).toBe(list.filter((_, i) => i % 40 === 7).length);
    expect(d.counters.continuityErrors).toBe(0);
  });

  test("transport_error_indicator and scrambled packets count as lost", () => {
    const s = CLEAN.slice();
    const list = packets(s);
    const videoMid = list.findIndex((p, i) => i > 200 && pidOf(p) === VIDEO && !pusiOf(p));
    list[videoMid]![1]! |= 0x80;
    const audioMid = list.findIndex((p, i) => i > 400 && pidOf(p) === AUDIO && !pusiOf(p));
    list[audioMid]![3]! |= 0x80;
    const d = demuxer();
    const events = whole(d, s);
    expect(d.counters.badPackets).toBe(2);
    expectSubsetOfClean(events);
    expect(expectResumeAtKeyframes(events)).toBe(1);
  });

  test("a packet whose adaptation_field_length runs past it is ignored and counted", () => {
    const s = CLEAN.slice();
    const list = packets(s);
    const i = list.findIndex((p, k) => k > 100 && pidOf(p) === VIDEO && !pusiOf(p));
    list[i]![3] = (list[i]![3]! & 0x0f) | 0x30;
    list[i]![4] = 184;
    const d = demuxer();
    expectSubsetOfClean(whole(d, s));
    expect(d.counters.badPackets).toBe(1);
    expect(d.counters.continuityErrors).toBe(1);
  });
});
