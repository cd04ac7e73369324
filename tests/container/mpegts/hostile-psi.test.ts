import { describe, expect, test } from "bun:test";
import type { VideoTrackConfig } from "../../../src/container/remux/frame.ts";
import { concat } from "../../helpers/feed.ts";
import { fixture } from "../../helpers/fixtures.ts";
import {
  continueCounters,
  demuxer,
  frames,
  MiB,
  monotonic,
  packetize,
  packets,
  patSection,
  pidOf,
  pmtSection,
  reasonOf,
  summarize,
  trackEvents,
  whole,
} from "./helpers.ts";

/** Program tables: floods, broken sections, program changes. */

const CLEAN = fixture("h264-aac.mpegts");
const PMT_PID = 0x1000;
const H264 = 0x1b;
const H265 = 0x24;
const AAC = 0x0f;

/** The clean stream with `extra` packets inserted after packet `at`, continuity counters of the PMT PID renumbered. */
function withInserted(at: number, extra: Uint8Array[]): Uint8Array {
  const list = packets(CLEAN);
  const s = concat([...list.slice(0, at), ...extra, ...list.slice(at)]);
  const out = s.slice();
  let cc = -1;
  for (const p of packets(out)) {
    if (pidOf(p) !== PMT_PID) continue;
    cc = (cc + 1) & 0x0f;
    p[3] = (p[3]! & 0xf0) | cc;
  }
  return out;
}

describe("MPEG-TS: PSI", () => {
  test("a PMT flood repeating the same streams under every version_number changes nothing", () => {
    const cc = { n: 0 };
    const flood: Uint8Array[] = [];
    for (let i = 0; i < 5000; i++)
      flood.push(
        ...packetize(
          PMT_PID,
          pmtSection(i % 32, 0x100, [
            [H264, 0x100],
            [AAC, 0x101],
          ]),
          cc,
          true,
        ),
      );
    const s = withInserted(200, flood);
    const d = demuxer();
    expect(summarize(whole(d, s))).toEqual(summarize(whole(demuxer(), CLEAN)));
    expect(d.counters.programChanges).toBe(0);
    expect(d.counters.sectionErrors).toBe(0);
  });

  test("a PMT flood switching the streams back and forth: bounded memory, no exception, at most one tracks event per frame", () => {
    const cc = { n: 0 };
    const flood: Uint8Array[] = [];
    for (let i = 0; i < 20000; i++)
      flood.push(
        ...packetize(
          PMT_PID,
          pmtSection(i % 32, 0x100, [
            [i % 2 ? H265 : H264, 0x100],
            [AAC, 0x101],
          ]),
          cc,
          true,
        ),
      );
    const d = demuxer(MiB);
    const s = withInserted(200, flood);
    let maxBuffered = 0;
    const events = [];
    for (let o = 0; o < s.byteLength; o += 4096) {
      events.push(...d.push(s.subarray(o, o + 4096), o));
      maxBuffered = Math.max(maxBuffered, d.buffered);
    }
    events.push(...d.end());
    expect(maxBuffered).toBeLessThanOrEqual(MiB);
    expect(d.counters.programChanges).toBeGreaterThan(19000);
    expect(trackEvents(events).length).toBeLessThanOrEqual(frames(events).length + 1);
    expect(monotonic(events)).toBe(true);
  });

  test("sections with a bad CRC or an impossible section_length are dropped and counted; the stream goes on", () => {
    const cc = { n: 0 };
    const badCrc = pmtSection(5, 0x100, [[H265, 0x100]]);
    badCrc[badCrc.byteLength - 1]! ^= 1;
    const huge = pmtSection(6, 0x100, [[H265, 0x100]]);
    huge[1] = 0xbf; // section_length 0xFFF
    huge[2] = 0xff;
    const s = withInserted(200, [...packetize(PMT_PID, badCrc, cc, true), ...packetize(PMT_PID, huge, cc, true)]);
    const d = demuxer();
    expect(summarize(whole(d, s))).toEqual(summarize(whole(demuxer(), CLEAN)));
    expect(d.counters.sectionErrors).toBe(2);
    expect(d.counters.programChanges).toBe(0);
  });

  test("a PMT spread over several packets (one byte of section per packet) is reassembled", () => {
    const sec = pmtSection(0, 0x100, [
      [H264, 0x100, [0x05, 4, 0x48, 0x44, 0x4d, 0x56]],
      [AAC, 0x101],
    ]);
    const cc = { n: 0 };
    const pkts: Uint8Array[] = [];
    // First packet: pointer_field + 1 byte; then 1 byte per packet, each padded by an adaptation field.
    pkts.push(...packetize(PMT_PID, sec.subarray(0, 1), cc, true));
    for (let i = 1; i < sec.byteLength; i++) {
      const p = packetize(PMT_PID, sec.subarray(i, i + 1), cc)[0]!;
      p[1]! &= ~0x40; // not a unit start
      pkts.push(p);
    }
    const list = packets(CLEAN);
    const withoutPmt = list.filter((p) => pidOf(p) !== PMT_PID);
    const s = concat([list[0]!, list[1]!, ...pkts, ...withoutPmt.slice(2)]);
    const events = whole(demuxer(), s);
    expect(frames(events).length).toBe(frames(whole(demuxer(), CLEAN)).length);
  });

  test("a program change (H.264 → H.265 on the same PIDs) announces the new tracks; time continues after the old frames", () => {
    const second = continueCounters(CLEAN, fixture("hevc-aac.mpegts"));
    const d = demuxer();
    const events = whole(d, concat([CLEAN, second]));
    const tracks = trackEvents(events);
    expect(tracks.map((t) => t.map((c) => c.codec))).toEqual([
      ["avc", "aac"],
      ["hevc", "aac"],
    ]);
    expect(d.counters.programChanges).toBe(1);
    expect(monotonic(events)).toBe(true);
    const afterChange = events.slice(events.findIndex((e, i) => i > 0 && e.type === "tracks"));
    const firstVideo = frames(afterChange, "video")[0]!;
    expect(firstVideo.keyframe).toBe(true);
    // The second part starts 100 ms after the later of audio and video ended (plus the lead of its first track).
    const lastOld = frames(events.slice(0, events.length - afterChange.length), "video").at(-1)!;
    expect(firstVideo.dts - lastOld.dts).toBeGreaterThan(0);
    expect(firstVideo.dts - lastOld.dts).toBeLessThanOrEqual(9000 + 3 * 3600);
    // Audio and video of the second part moved by the same offset: still in sync.
    const alone = whole(demuxer(), fixture("hevc-aac.mpegts"));
    const firstAudio = frames(afterChange, "audio")[0]!;
    expect(firstVideo.dts - frames(alone, "video")[0]!.dts).toBe(firstAudio.dts - frames(alone, "audio")[0]!.dts);
    expect((tracks[1]![0] as VideoTrackConfig).codec).toBe("hevc");
  });

  test("a PMT with only unplayable streams is no-usable-track, also when it comes later", () => {
    const cc = { n: 0 };
    const pmt = pmtSection(3, 0x100, [
      [0x02, 0x100],
      [0x81, 0x101],
    ]);
    const s = withInserted(300, packetize(PMT_PID, pmt, cc, true));
    const d = demuxer();
    let message = "";
    const reason = reasonOf(() => {
      try {
        whole(d, s);
      } catch (e) {
        message = String(e);
        throw e;
      }
    });
    expect(reason).toBe("no-usable-track");
    expect(message).toContain("stream type 0x02 (MPEG-2 video)");
    expect(message).toContain("stream type 0x81 (AC-3)");
  });

  test("unplayable and extra streams next to playable ones are skipped and listed", () => {
    const cc = { n: 0 };
    const pmt = pmtSection(0, 0x100, [
      [0x02, 0x200],
      [H264, 0x100],
      [0x06, 0x202, [0x05, 4, 0x41, 0x43, 0x2d, 0x33]],
      [AAC, 0x101],
      [AAC, 0x203],
      [0x15, 0x204],
    ]);
    const list = packets(CLEAN).filter((p) => pidOf(p) !== PMT_PID);
    const s = concat([list[0]!, list[1]!, ...packetize(PMT_PID, pmt, cc, true), ...list.slice(2)]); // SDT, PAT, our PMT, media
    const d = demuxer();
    const events = whole(d, s);
    expect(frames(events).length).toBe(frames(whole(demuxer(), CLEAN)).length);
    expect(d.skippedStreams).toEqual([
      "PID 0x200: stream type 0x02 (MPEG-2 video) cannot be played by browsers",
      "PID 0x202: stream type 0x06 (AC-3) cannot be played by browsers",
      "PID 0x203: a second audio stream",
    ]);
  });

  test("a PAT pointing elsewhere moves the demuxer to the new PMT PID", () => {
    const cc = { n: 1 };
    const pcc = { n: 0 };
    const list = packets(CLEAN);
    const moved = [
      ...packetize(0, patSection(0x1234, 1), cc, true),
      ...packetize(
        0x1234,
        pmtSection(0, 0x100, [
          [H264, 0x100],
          [AAC, 0x101],
        ]),
        pcc,
        true,
      ),
    ];
    // The original PMT PID keeps announcing another program's streams (ignored once the PAT moved).
    const s = concat([...list.slice(0, 100), ...moved, ...list.slice(100).filter((p) => pidOf(p) !== 0)]);
    const d = demuxer();
    const events = whole(d, s);
    expect(frames(events).length).toBe(frames(whole(demuxer(), CLEAN)).length);
  });
});
