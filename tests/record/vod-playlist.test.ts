import { describe, expect, test } from "bun:test";
import { writeVodPlaylist } from "../../src/hls/vod-playlist.ts";
import { parseVodRange, segmentsInRange } from "../../src/hls/vod-range.ts";

// Unit tests of src/hls/vod-*.ts live here with the rest of recording (tests/hls/ belongs to live HLS).
const T0 = Date.UTC(2026, 11, 2, 10, 0, 0);
const seg = (offset: number, length: number, duration: number, wallclockMs: number) => ({ offset, length, duration, wallclockMs });

describe("writeVodPlaylist", () => {
  test("header tags, then per file DISCONTINUITY (not first), MAP with the init range, PROGRAM-DATE-TIME, EXTINF + BYTERANGE + URI; ENDLIST", () => {
    const text = writeVodPlaylist([
      { uri: "/recordings/a/f1.mp4?token=t", initBytes: 800, segments: [seg(800, 100, 1, T0), seg(900, 50, 2.4, T0 + 1000)] },
      { uri: "/recordings/a/f2.mp4?token=t", initBytes: 700, segments: [] },
      { uri: "/recordings/a/f3.mp4?token=t", initBytes: 700, segments: [seg(5000, 10, 0.5, T0 + 9000)] },
    ]);
    expect(text).toBe(
      [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        "#EXT-X-TARGETDURATION:3",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        '#EXT-X-MAP:URI="/recordings/a/f1.mp4?token=t",BYTERANGE="800@0"',
        "#EXT-X-PROGRAM-DATE-TIME:2026-12-02T10:00:00.000Z",
        "#EXTINF:1.000,",
        "#EXT-X-BYTERANGE:100@800",
        "/recordings/a/f1.mp4?token=t",
        "#EXTINF:2.400,",
        "#EXT-X-BYTERANGE:50@900",
        "/recordings/a/f1.mp4?token=t",
        "#EXT-X-DISCONTINUITY",
        '#EXT-X-MAP:URI="/recordings/a/f3.mp4?token=t",BYTERANGE="700@0"',
        "#EXT-X-PROGRAM-DATE-TIME:2026-12-02T10:00:09.000Z",
        "#EXTINF:0.500,",
        "#EXT-X-BYTERANGE:10@5000",
        "/recordings/a/f3.mp4?token=t",
        "#EXT-X-ENDLIST",
        "",
      ].join("\n"),
    );
  });
});

describe("parseVodRange / segmentsInRange", () => {
  test("ISO 8601 with a zone and epoch ms; defaults: everything up to now", () => {
    expect(parseVodRange("2026-12-02T10:00:00Z", "2026-12-02T11:00:00.5+01:00", 0)).toEqual({ fromMs: T0, toMs: T0 + 500 });
    expect(parseVodRange("2026-12-02T10:00Z", String(T0 + 1), 0)).toEqual({ fromMs: T0, toMs: T0 + 1 });
    expect(parseVodRange(undefined, undefined, 42)).toEqual({ fromMs: 0, toMs: 42 });
  });

  test("refusals say what to fix", () => {
    expect(parseVodRange("2026-12-02 10:00", undefined, 0)).toEqual({
      error: expect.stringMatching(/^from must be an ISO 8601 time with a zone/),
    });
    expect(parseVodRange(undefined, "2026-02-30T25:00:00Z", 0)).toEqual({ error: expect.stringMatching(/^to must .*not a valid time$/) });
    expect(parseVodRange("-5", undefined, 0)).toEqual({ error: expect.stringMatching(/^from must/) });
    expect(parseVodRange("2", "1", 0)).toEqual({ error: "from (1970-01-01T00:00:00.002Z) is after to (1970-01-01T00:00:00.001Z)" });
  });

  test("segments overlapping the range, never empty ones", () => {
    const s = [seg(0, 1, 1, T0), seg(1, 1, 1, T0 + 1000), seg(2, 1, 0, T0 + 2000), seg(3, 1, 1, T0 + 2000)];
    expect(segmentsInRange(s, { fromMs: T0 + 1500, toMs: T0 + 2500 }).map((x) => x.offset)).toEqual([1, 3]);
    expect(segmentsInRange(s, { fromMs: T0 + 1000, toMs: T0 + 1000 }).map((x) => x.offset)).toEqual([]);
    expect(segmentsInRange(s, { fromMs: 0, toMs: T0 + 1 }).map((x) => x.offset)).toEqual([0]);
  });
});
