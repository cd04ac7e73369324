import { describe, expect, test } from "bun:test";
import { createParser } from "../../src/container/index.ts";
import { DEFAULT_PARSER_OPTIONS, type FragmentEvent } from "../../src/container/types.ts";
import {
  headerLine,
  IndexScanner,
  indexIsComplete,
  indexSegments,
  parseIndex,
  pointLine,
  type SegmentIndex,
} from "../../src/record/segment-index.ts";
import { fixture } from "../helpers/fixtures.ts";
import { withoutMfra } from "../helpers/media.ts";

const HEADER = {
  format: "fmp4" as const,
  mime: 'video/mp4; codecs="avc1.64001E,mp4a.40.2"',
  initBytes: 1000,
  timescale: 90_000,
  startMs: 1_800_000_000_000,
};
const sidecar = [
  headerLine(HEADER),
  pointLine("s", { offset: 1000, decodeTime: 0, wallclockMs: 1_800_000_000_000 }),
  pointLine("s", { offset: 5000, decodeTime: 90_000, wallclockMs: 1_800_000_001_000 }),
  pointLine("e", { offset: 9000, decodeTime: 135_000, wallclockMs: 1_800_000_001_500 }),
].join("");

describe("sidecar index", () => {
  test("round-trips and gives keyframe-to-keyframe segments up to the end line", () => {
    const index = parseIndex(sidecar)!;
    expect(index.header).toEqual(HEADER);
    expect(indexIsComplete(index, 9000)).toBe(true);
    expect(indexSegments(index, 9000)).toEqual([
      { offset: 1000, length: 4000, duration: 1, wallclockMs: 1_800_000_000_000 },
      { offset: 5000, length: 4000, duration: 0.5, wallclockMs: 1_800_000_001_000 },
    ]);
  });

  test("cut short (a crash): whole lines are kept, the partial line and the unknown last segment are not", () => {
    const cut = sidecar.slice(0, sidecar.lastIndexOf("e ") + 5);
    const index = parseIndex(cut)!;
    expect(index.end).toBeUndefined();
    expect(index.points).toHaveLength(2);
    expect(indexIsComplete(index, 9000)).toBe(false);
    expect(indexSegments(index, 9000).map((s) => s.offset)).toEqual([1000]);
  });

  test("a decode-time jump ends the usable index there (no absurd durations or dates in the listing and playlists)", () => {
    const jumped = [
      headerLine(HEADER),
      pointLine("s", { offset: 1000, decodeTime: 0, wallclockMs: 1_800_000_000_000 }),
      pointLine("s", { offset: 5000, decodeTime: 90_000, wallclockMs: 1_800_000_001_000 }),
      pointLine("s", { offset: 7000, decodeTime: 90_000 * 1e12, wallclockMs: 1_800_000_002_000 }),
      pointLine("e", { offset: 9000, decodeTime: 90_000 * 1e12 + 45_000, wallclockMs: 1_800_000_002_500 }),
    ].join("");
    const segments = indexSegments(parseIndex(jumped)!, 9000);
    expect(segments.map((s) => s.duration)).toEqual([1]);
  });

  test("garbage stops the parse at the first bad line; a bad header or mime rejects it all", () => {
    const lines = sidecar.split("\n");
    expect(parseIndex([lines[0], lines[1], "s 900 5 5", lines[2], ""].join("\n"))!.points).toHaveLength(1); // offset inside the init
    expect(parseIndex([lines[0], lines[2], lines[1], ""].join("\n"))!.points).toHaveLength(1); // backwards
    expect(parseIndex([lines[0], "e 1000 0 0", ""].join("\n"))!.end).toBeUndefined(); // an end before any segment
    expect(parseIndex(`${lines.slice(0, 4).join("\n")}\ns 99999 999999 1\n`)!.points).toHaveLength(2); // nothing after the end
    expect(parseIndex("")).toBeUndefined();
    expect(parseIndex('sluice-recording 2 fmp4 1 1 1 "x"\n')).toBeUndefined();
    expect(parseIndex(`sluice-recording 1 fmp4 1 1 1 ${JSON.stringify("x".repeat(600))}\n`)).toBeUndefined();
    expect(parseIndex('sluice-recording 1 fmp4 1 0 1 "x"\n')).toBeUndefined(); // timescale 0
    expect(parseIndex('sluice-recording 1 fmp4 1 1 1 {"a":1}\n')).toBeUndefined();
  });

  test("an end past the file's size is ignored (the file was cut): the last segment is left out", () => {
    const index = parseIndex(sidecar)!;
    expect(indexSegments(index, 8000).map((s) => s.offset)).toEqual([1000]);
  });
});

/** Scans `bytes` as a recording (init + fragments) the way the store does. */
function scan(bytes: Uint8Array, format: "fmp4" | "webm"): SegmentIndex | undefined {
  const parser = createParser(format, DEFAULT_PARSER_OPTIONS);
  const scanner = new IndexScanner(1_800_000_000_000);
  for (const ev of parser.push(bytes)) if (!scanner.add(ev)) break;
  return scanner.result();
}

describe("IndexScanner (the fallback when the sidecar is missing or short)", () => {
  for (const [name, format] of [
    ["h264-main-aac.mp4", "fmp4"],
    ["h264-every-frame.mp4", "fmp4"],
    ["vp8-opus.webm", "webm"],
  ] as const) {
    test(`${name}: one point per keyframe fragment at its byte offset, the end at the file's end`, () => {
      const bytes = format === "fmp4" ? withoutMfra(fixture(name)) : fixture(name);
      const events = createParser(format, DEFAULT_PARSER_OPTIONS).push(bytes);
      let at = 0;
      const keyOffsets: number[] = [];
      for (const ev of events) {
        if (
          ev.type === "fragment" &&
          ev.keyframe &&
          ev.timescale === (events.find((e) => e.type === "fragment" && e.keyframe) as FragmentEvent).timescale
        )
          keyOffsets.push(at);
        at += ev.bytes.byteLength;
      }
      const index = scan(bytes, format)!;
      expect(index.points.map((p) => p.offset)).toEqual(keyOffsets);
      expect(index.end?.offset).toBe(at);
      expect(index.header.initBytes).toBe(events[0]!.bytes.byteLength);
      const segments = indexSegments(index, at);
      expect(segments.length).toBe(keyOffsets.length);
      expect(segments.every((s) => s.duration > 0)).toBe(true);
    });
  }

  test("a file cut mid-fragment ends at its last whole fragment", () => {
    const bytes = withoutMfra(fixture("h264-main-aac.mp4"));
    const whole = scan(bytes, "fmp4")!;
    const cutAt = whole.points.at(-1)!.offset + 100;
    const cut = scan(bytes.subarray(0, cutAt), "fmp4")!;
    expect(cut.end!.offset).toBe(whole.points.at(-1)!.offset);
    expect(cut.points).toHaveLength(whole.points.length - 1);
    expect(indexSegments(cut, cutAt)).toHaveLength(whole.points.length - 1);
  });

  test("stops at a second init (nothing after it belongs to the file); nothing without a keyframe", () => {
    const bytes = withoutMfra(fixture("h264-main-aac.mp4"));
    const twice = new Uint8Array([...bytes, ...bytes]);
    expect(scan(twice, "fmp4")!.end!.offset).toBe(bytes.byteLength);
    const init = createParser("fmp4", DEFAULT_PARSER_OPTIONS).push(bytes)[0]!.bytes;
    expect(scan(init, "fmp4")).toBeUndefined();
  });
});
