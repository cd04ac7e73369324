import { describe, expect, test } from "bun:test";
import { DEFAULT_PARSER_OPTIONS } from "../../../src/container/types.ts";
import { createWebmParser } from "../../../src/container/webm/parser.ts";
import { concat, feedByteByByte, feedChunks, feedRandom, feedWhole, summarize } from "../../helpers/feed.ts";
import { fixture } from "../../helpers/fixtures.ts";
import {
  AV_TRACKS,
  blockGroup,
  cluster,
  EBML_HEADER,
  el,
  fragmentRanges,
  fragments,
  info,
  inits,
  SEGMENT_UNKNOWN_SIZE,
  simpleBlock,
  sizeVint,
  stream,
  trackEntry,
  tracks,
  withUnknownClusterSizes,
} from "./helpers.ts";

const parser = () => createWebmParser(DEFAULT_PARSER_OPTIONS);
const cues = el(0x1c53bb6b, [el(0xbb, [el(0xb3, [0]), el(0xb7, [el(0xf7, [1]), el(0xf1, [0x10])])])]);
const tags = el(0x1254c367, [el(0x7373, [el(0x67c8, [el(0x45a3, new TextEncoder().encode("ENCODER"))])])]);
const chapters = el(0x1043a770, [el(0x45b9, [])]);
const voidEl = el(0xec, new Array(10).fill(0));
const crc = el(0xbf, [1, 2, 3, 4], 1);

/** `file` with each insert spliced in before the `index`-th Cluster (or at the end when past the last). */
function splice(file: Uint8Array, inserts: Array<[number, Uint8Array]>): Uint8Array {
  const starts = fragmentRanges(feedWhole(parser(), file)).map(([s]) => s);
  const parts: Uint8Array[] = [];
  let pos = 0;
  for (const [index, insert] of [...inserts].sort((x, y) => x[0] - y[0])) {
    const at = starts[index] ?? file.byteLength;
    parts.push(file.subarray(pos, at), insert);
    pos = at;
  }
  parts.push(file.subarray(pos));
  return concat(parts);
}

describe("level-1 elements after the first Cluster", () => {
  const file = fixture("vp8-opus.webm");
  const expected = summarize(feedWhole(parser(), file));

  test("a Cues element between two Clusters is dropped and the stream continues", () => {
    const spliced = splice(file, [[2, cues]]);
    expect(summarize(feedWhole(parser(), spliced))).toEqual(expected);
    expect(summarize(feedByteByByte(parser(), spliced))).toEqual(expected);
    expect(summarize(feedRandom(parser(), spliced, 9, 50))).toEqual(expected);
  });

  test("Tags, Chapters, Void and CRC-32 between Clusters and at the end are dropped", () => {
    const junk = concat([tags, voidEl, chapters, crc]);
    const spliced = splice(file, [
      [1, junk],
      [5, voidEl],
      [1000, concat([cues, tags])],
    ]);
    expect(summarize(feedWhole(parser(), spliced))).toEqual(expected);
    expect(summarize(feedByteByByte(parser(), spliced))).toEqual(expected);
  });

  test("dropped elements end unknown-size Clusters (Void does not: it is a Cluster child)", () => {
    const ranges = fragmentRanges(feedWhole(parser(), file));
    const open = withUnknownClusterSizes(
      file,
      ranges.map(([s]) => s),
    );
    const openExpected = summarize(feedWhole(parser(), open));
    const spliced = splice(open, [
      [3, cues],
      [1000, tags],
    ]);
    expect(summarize(feedWhole(parser(), spliced))).toEqual(openExpected);
    expect(summarize(feedByteByByte(parser(), spliced))).toEqual(openExpected);
  });

  test("a large dropped element is skipped without being buffered", () => {
    const big = el(0x1c53bb6b, new Uint8Array(1_000_000));
    const spliced = splice(file, [[3, big]]);
    const p = parser();
    let maxBuffered = 0;
    const events = feedChunks(
      p,
      spliced,
      (function* () {
        for (;;) {
          yield 4096;
          maxBuffered = Math.max(maxBuffered, p.buffered);
        }
      })(),
    );
    expect(summarize(events)).toEqual(expected);
    expect(maxBuffered).toBeLessThan(40_000);
  });
});

describe("a new init inside one connection", () => {
  const a = fixture("vp8-opus.webm");
  const b = fixture("vp9-opus.webm");
  const eventsA = feedWhole(parser(), a);
  const eventsB = feedWhole(parser(), b);

  test("a new EBML header after Clusters (publisher restart) starts a second init", () => {
    const both = concat([a, b]);
    const expected = summarize([...eventsA, ...eventsB]);
    expect(summarize(feedWhole(parser(), both))).toEqual(expected);
    expect(summarize(feedByteByByte(parser(), both))).toEqual(expected);
    expect(inits(feedWhole(parser(), both)).map((i) => i.mime)).toEqual(['video/webm; codecs="vp8,opus"', 'video/webm; codecs="vp9,opus"']);
  });

  test("a new EBML header also ends an unknown-size Cluster", () => {
    const openA = withUnknownClusterSizes(
      a,
      fragmentRanges(eventsA).map(([s]) => s),
    );
    const expected = summarize([...feedWhole(parser(), openA), ...eventsB]);
    expect(summarize(feedRandom(parser(), concat([openA, b]), 3))).toEqual(expected);
  });

  test("a chained Segment without its own EBML header reuses the previous one", () => {
    const segmentAt = 4 + 1 + 0x1f; // fixture EBML header: 1A45DFA3 9F + 31 bytes
    expect([...b.subarray(segmentAt, segmentAt + 4)]).toEqual([0x18, 0x53, 0x80, 0x67]);
    const events = feedWhole(parser(), concat([a, b.subarray(segmentAt)]));
    const second = inits(events)[1]!;
    expect(second.bytes).toEqual(concat([a.subarray(0, segmentAt), inits(eventsB)[0]!.bytes.subarray(segmentAt)]));
    expect(fragments(events)).toHaveLength(fragments(eventsA).length + fragments(eventsB).length);
  });
});

describe("keyframe, timing and track rules", () => {
  test("the first video block decides, not the first block (audio comes first)", () => {
    const c = cluster(0, [simpleBlock(2, 0x80), simpleBlock(1, 0x80)]);
    const d = cluster(20, [simpleBlock(2, 0x80), simpleBlock(1, 0x00), simpleBlock(1, 0x80)]);
    const events = fragments(feedWhole(parser(), stream(AV_TRACKS, c, d)));
    expect(events.map((f) => f.keyframe)).toEqual([true, false]);
  });

  test("a Cluster without any video block in a stream with video is not a keyframe", () => {
    const events = fragments(feedWhole(parser(), stream(AV_TRACKS, cluster(0, [simpleBlock(2, 0x80)]))));
    expect(events.map((f) => f.keyframe)).toEqual([false]);
  });

  test("a BlockGroup is a keyframe iff it has no ReferenceBlock", () => {
    const events = fragments(
      feedWhole(
        parser(),
        stream(
          AV_TRACKS,
          cluster(0, [simpleBlock(2, 0x80), blockGroup(1, false), blockGroup(1, true)]),
          cluster(10, [blockGroup(2, false), blockGroup(1, true), simpleBlock(1, 0x80)]),
        ),
      ),
    );
    expect(events.map((f) => f.keyframe)).toEqual([true, false]);
  });

  test("audio-only streams mark every Cluster as a keyframe and get an audio/ mime", () => {
    const events = feedWhole(parser(), stream(tracks(trackEntry(1, 2, "A_OPUS")), cluster(0, [simpleBlock(1, 0)]), cluster(20, [])));
    expect(inits(events)[0]!.mime).toBe('audio/webm; codecs="opus"');
    expect(fragments(events).map((f) => f.keyframe)).toEqual([true, true]);
  });

  test("decodeTime is the Cluster Timestamp in ticks of 1e9 / TimecodeScale", () => {
    const bytes = concat([EBML_HEADER, SEGMENT_UNKNOWN_SIZE, info(500_000), AV_TRACKS, cluster(0, []), cluster(123_456, [])]);
    const events = feedWhole(parser(), bytes);
    expect(inits(events)[0]!.tracks.map((t) => t.timescale)).toEqual([2000, 2000]);
    expect(fragments(events).map((f) => [f.decodeTime, f.timescale])).toEqual([
      [0, 2000],
      [123_456, 2000],
    ]);
  });

  test("tracks carry TrackNumber, kind, CodecID, size, rate and channels", () => {
    const video = trackEntry(3, 1, "V_VP9", [el(0xe0, [el(0xb0, [0x02, 0x80]), el(0xba, [0x01, 0xe0])])]);
    const rate = new Uint8Array(8);
    new DataView(rate.buffer).setFloat64(0, 44100);
    const audio = trackEntry(7, 2, "A_VORBIS", [el(0xe1, [el(0xb5, rate), el(0x9f, [2])])]);
    const subs = trackEntry(9, 0x11, "S_TEXT/UTF8");
    const init = inits(feedWhole(parser(), stream(tracks(video, audio, subs), cluster(0, []))))[0]!;
    expect(init.tracks).toEqual([
      { id: 3, kind: "video", codec: "vp9", codecId: "V_VP9", timescale: 1000, width: 640, height: 480 },
      { id: 7, kind: "audio", codec: "vorbis", codecId: "A_VORBIS", timescale: 1000, sampleRate: 44100, channels: 2 },
      { id: 9, kind: "other", codec: "", codecId: "S_TEXT/UTF8", timescale: 1000 },
    ]);
    expect(init.mime).toBe('video/webm; codecs="vp9,vorbis"');
  });

  test("V_AV1 and V_MPEG4/ISO/AVC codec strings come from CodecPrivate", () => {
    const av1c = el(0x63a2, [0x81, 0x08, 0x4c, 0x00]); // profile 0, level 8 (4.0), tier 0, 10-bit
    const avcc = el(0x63a2, [0x01, 0x64, 0x00, 0x1f, 0xff]);
    const init = inits(
      feedWhole(parser(), stream(tracks(trackEntry(1, 1, "V_AV1", [av1c]), trackEntry(2, 1, "V_MPEG4/ISO/AVC", [avcc])), cluster(0, []))),
    )[0]!;
    expect(init.tracks.map((t) => t.codec)).toEqual(["av01.0.08M.10", "avc1.64001F"]);
  });

  test("a Segment of known size is treated as a container", () => {
    const body = concat([info(), AV_TRACKS, cluster(0, [simpleBlock(1, 0x80)]), cluster(40, [simpleBlock(1, 0)])]);
    const segment = concat([Uint8Array.from([0x18, 0x53, 0x80, 0x67]), sizeVint(body.byteLength), body]);
    const events = feedByteByByte(parser(), concat([EBML_HEADER, segment]));
    expect(inits(events)[0]!.bytes).toEqual(concat([EBML_HEADER, segment.subarray(0, 12), info(), AV_TRACKS]));
    expect(fragments(events).map((f) => f.keyframe)).toEqual([true, false]);
  });

  test("an init that no Cluster follows is emitted by end()", () => {
    const bytes = stream(AV_TRACKS);
    const p = parser();
    expect(p.push(bytes)).toEqual([]);
    expect(p.buffered).toBe(bytes.byteLength);
    const events = p.end();
    expect(events).toHaveLength(1);
    expect(events[0]!.bytes).toEqual(bytes);
  });

  test("an empty stream ends without events", () => {
    expect(parser().end()).toEqual([]);
  });
});
