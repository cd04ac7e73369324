import { describe, expect, test } from "bun:test";
import { DEFAULT_PARSER_OPTIONS } from "../../../src/container/types.ts";
import { createWebmParser } from "../../../src/container/webm/parser.ts";
import { feedByteByByte, feedChunks, feedRandom, feedWhole, summarize } from "../../helpers/feed.ts";
import { fixture } from "../../helpers/fixtures.ts";
import {
  AV_TRACKS,
  cluster,
  el,
  fragmentRanges,
  fragments,
  inits,
  openCluster,
  reasonOf,
  simpleBlock,
  stream,
  vintLength,
  withUnknownClusterSizes,
} from "./helpers.ts";

const parser = () => createWebmParser(DEFAULT_PARSER_OPTIONS);
const NAMES = ["vp8-opus.webm", "vp8-vorbis.webm", "vp9-opus.webm", "av1.webm", "classic-vp8.webm"];

for (const name of NAMES) {
  describe(`${name} with every Cluster rewritten to unknown size`, () => {
    const file = fixture(name);
    const known = feedWhole(parser(), file);
    const ranges = fragmentRanges(known);
    const rewritten = withUnknownClusterSizes(
      file,
      ranges.map(([s]) => s),
    );
    const events = feedWhole(parser(), rewritten);

    test("gives the same init, fragment count, keyframes and timecodes", () => {
      expect(inits(events)).toEqual(inits(known));
      const strip = (e: ReturnType<typeof fragments>) => e.map(({ bytes: _, ...rest }) => rest);
      expect(fragments(events)).toHaveLength(ranges.length);
      expect(strip(fragments(events))).toEqual(strip(fragments(known)));
    });

    test("each fragment is the original Cluster except for its size field", () => {
      fragments(events).forEach((f, i) => {
        const [s, e] = ranges[i]!;
        const original = file.subarray(s, e);
        expect(f.bytes).toEqual(rewritten.subarray(s, e));
        const sizeEnd = 4 + vintLength(original[4]!);
        expect(f.bytes.subarray(sizeEnd)).toEqual(original.subarray(sizeEnd));
        expect(f.bytes.subarray(0, 4)).toEqual(original.subarray(0, 4));
      });
    });

    test("byte-by-byte and randomly split feeds give identical events", () => {
      const expected = summarize(events);
      expect(summarize(feedByteByByte(parser(), rewritten))).toEqual(expected);
      for (const seed of [5, 6, 77]) expect(summarize(feedRandom(parser(), rewritten, seed))).toEqual(expected);
    });

    test("a Cluster is emitted as soon as the next Cluster's ID arrives", () => {
      const p = parser();
      const [s1, e1] = ranges[0]!;
      expect(p.push(rewritten.subarray(0, e1 + 3))).toHaveLength(1); // init only: the next ID is incomplete
      const out = p.push(rewritten.subarray(e1 + 3, e1 + 4));
      expect(out).toHaveLength(1);
      expect(out[0]!.bytes).toEqual(rewritten.subarray(s1, e1));
    });
  });
}

describe("an unknown-size last Cluster", () => {
  const file = fixture("vp8-opus.webm");
  const known = feedWhole(parser(), file);
  const ranges = fragmentRanges(known);
  const last = ranges[ranges.length - 1]!;
  const rewritten = withUnknownClusterSizes(file, [last[0]]);

  test("is emitted by end() when the stream stops on a child boundary", () => {
    const p = parser();
    const pushed = p.push(rewritten);
    expect(fragments(pushed)).toHaveLength(ranges.length - 1);
    expect(p.buffered).toBe(last[1] - last[0]);
    const ended = p.end();
    expect(ended).toHaveLength(1);
    expect(ended[0]!.bytes).toEqual(rewritten.subarray(last[0], last[1]));
    expect(summarize(feedByteByByte(parser(), rewritten))).toEqual(summarize([...pushed, ...ended]));
  });

  test("makes end() throw truncated when the stream stops inside a child", () => {
    const p = parser();
    p.push(rewritten.subarray(0, rewritten.byteLength - 1));
    expect(reasonOf(() => p.end())).toBe("truncated");
  });
});

describe("unknown-size Clusters in synthetic streams", () => {
  test("a Void inside an unknown-size Cluster is one of its children", () => {
    const voidEl = el(0xec, [0, 0, 0]);
    const c1 = openCluster(0, [simpleBlock(2, 0x80), simpleBlock(1, 0x80), voidEl]);
    const c2 = cluster(40, [simpleBlock(1, 0)]);
    const events = feedWhole(parser(), stream(AV_TRACKS, c1, c2));
    expect(fragments(events).map((f) => f.bytes)).toEqual([c1, c2]);
    expect(fragments(events).map((f) => f.keyframe)).toEqual([true, false]);
  });

  test("a Cues element ends an unknown-size Cluster and is dropped", () => {
    const c1 = openCluster(0, [simpleBlock(1, 0x80)]);
    const cues = el(0x1c53bb6b, [el(0xbb, [el(0xb3, [0])])]);
    const c2 = openCluster(33, [simpleBlock(1, 0x80)]);
    const bytes = stream(AV_TRACKS, c1, cues, c2);
    const events = feedWhole(parser(), bytes);
    expect(fragments(events).map((f) => f.bytes)).toEqual([c1, c2]);
    expect(summarize(feedByteByByte(parser(), bytes))).toEqual(summarize(events));
  });

  test("an unknown-size child of an unknown-size Cluster is unsupported-size", () => {
    const child = Uint8Array.from([0xa3, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    const bytes = stream(AV_TRACKS, openCluster(0, [child]));
    expect(reasonOf(() => feedWhole(parser(), bytes))).toBe("unsupported-size");
  });

  test("growing past maxElementBytes is too-large while holding at most the cap", () => {
    const block = simpleBlock(1, 0x80, new Array(1000).fill(7));
    const bytes = stream(AV_TRACKS, openCluster(0, new Array(20).fill(block)));
    const cap = 5000;
    const p = createWebmParser({ maxElementBytes: cap });
    const err = reasonOf(() =>
      feedChunks(
        p,
        bytes,
        (function* () {
          for (;;) yield 100;
        })(),
      ),
    );
    expect(err).toBe("too-large");
    expect(p.buffered).toBeLessThanOrEqual(cap + 100);
  });
});
