import { describe, expect, test } from "bun:test";
import { ParseError } from "../../../src/container/errors.ts";
import { DEFAULT_PARSER_OPTIONS } from "../../../src/container/types.ts";
import { createWebmParser } from "../../../src/container/webm/parser.ts";
import { concat, feedByteByByte, feedChunks, feedRandom, feedWhole, prng } from "../../helpers/feed.ts";
import { fixture } from "../../helpers/fixtures.ts";
import {
  AV_TRACKS,
  cluster,
  EBML_HEADER,
  el,
  fragmentRanges,
  inits,
  reasonOf,
  SEGMENT_UNKNOWN_SIZE,
  simpleBlock,
  stream,
  trackEntry,
  tracks,
  unknownSizeVint,
} from "./helpers.ts";

const parser = () => createWebmParser(DEFAULT_PARSER_OPTIONS);
const file = fixture("vp8-opus.webm");
const events = feedWhole(parser(), file);
const ranges = fragmentRanges(events);
const initBytes = inits(events)[0]!.bytes;

describe("ordering errors", () => {
  test("a Cluster before Tracks is fragment-before-init", () => {
    const segmentEnd = 4 + 1 + 0x1f + 12; // EBML header, then the 12-byte unknown-size Segment header
    const noTracks = concat([file.subarray(0, segmentEnd), file.subarray(ranges[0]![0], ranges[0]![1])]);
    expect(reasonOf(() => feedWhole(parser(), noTracks))).toBe("fragment-before-init");
    expect(reasonOf(() => feedWhole(parser(), stream(cluster(0, []))))).toBe("fragment-before-init");
  });

  test("a stream that starts with a Cluster is fragment-before-init", () => {
    expect(reasonOf(() => feedWhole(parser(), file.subarray(ranges[0]![0])))).toBe("fragment-before-init");
  });

  test("a stream that starts with another element is unknown-format", () => {
    expect(reasonOf(() => feedWhole(parser(), concat([SEGMENT_UNKNOWN_SIZE, AV_TRACKS])))).toBe("unknown-format");
  });

  test("Tracks with only a subtitle track is no-usable-track", () => {
    const bytes = stream(tracks(trackEntry(1, 0x11, "S_TEXT/UTF8")), cluster(0, []));
    expect(reasonOf(() => feedWhole(parser(), bytes))).toBe("no-usable-track");
  });

  test("V_AV1 without CodecPrivate or an unknown CodecID is unknown-codec", () => {
    expect(reasonOf(() => feedWhole(parser(), stream(tracks(trackEntry(1, 1, "V_AV1")), cluster(0, []))))).toBe("unknown-codec");
    expect(reasonOf(() => feedWhole(parser(), stream(tracks(trackEntry(1, 2, "A_DTS")), cluster(0, []))))).toBe("unknown-codec");
  });
});

describe("size errors", () => {
  test("a Cluster above maxElementBytes is too-large while holding less than the cap", () => {
    const cap = 4096;
    const p = createWebmParser({ maxElementBytes: cap });
    expect(ranges[0]![1] - ranges[0]![0]).toBeGreaterThan(cap);
    expect(reasonOf(() => feedByteByByte(p, file))).toBe("too-large");
    expect(p.buffered).toBeLessThan(cap);
    expect(p.buffered).toBe(ranges[0]![0] + 4 + 2); // the init, the Cluster ID and its 2-byte size: no body
  });

  test("an init of many small elements is capped as a whole", () => {
    const voids = concat(new Array(100).fill(el(0xec, new Uint8Array(100))));
    const p = createWebmParser({ maxElementBytes: 5000 });
    expect(reasonOf(() => feedChunks(p, stream(voids, AV_TRACKS, cluster(0, [])), new Array(200).fill(64)))).toBe("too-large");
    expect(p.buffered).toBeLessThanOrEqual(5000);
  });

  test("a huge declared size is too-large from the header alone", () => {
    const bytes = concat([initBytes, Uint8Array.from([0xa3, 0x01, 0x00, 0x40, 0, 0, 0, 0, 0])]);
    const p = parser();
    expect(reasonOf(() => p.push(concat([bytes, new Uint8Array(10)])))).toBe("too-large");
  });

  test("an unknown size on anything but Segment and Cluster is unsupported-size", () => {
    const openTags = concat([Uint8Array.from([0x12, 0x54, 0xc3, 0x67]), unknownSizeVint(1)]);
    expect(reasonOf(() => feedWhole(parser(), concat([EBML_HEADER, SEGMENT_UNKNOWN_SIZE, openTags])))).toBe("unsupported-size");
    expect(reasonOf(() => feedWhole(parser(), concat([file, openTags])))).toBe("unsupported-size");
    const openEbml = concat([Uint8Array.from([0x1a, 0x45, 0xdf, 0xa3]), unknownSizeVint(8)]);
    expect(reasonOf(() => feedWhole(parser(), openEbml))).toBe("unsupported-size");
  });
});

describe("malformed input", () => {
  test("a VINT whose first byte is 0x00 is malformed", () => {
    expect(reasonOf(() => parser().push(concat([initBytes, Uint8Array.from([0x00, 0x81, 0x00])])))).toBe("malformed");
    expect(reasonOf(() => parser().push(Uint8Array.from([0x1a, 0x45, 0xdf, 0xa3, 0x00, 0x81])))).toBe("malformed");
    expect(reasonOf(() => parser().push(Uint8Array.from([0x00])))).toBe("malformed");
  });

  test("a child running past its Cluster is malformed", () => {
    const c = cluster(0, [simpleBlock(1, 0x80)]);
    const short = concat([c.subarray(0, 4), Uint8Array.from([0x80 | (c.byteLength - 13)]), c.subarray(12, c.byteLength - 1)]);
    expect(reasonOf(() => feedWhole(parser(), stream(AV_TRACKS, short)))).toBe("malformed");
  });

  test("a Cluster without a Timestamp or with a block shorter than its header is malformed", () => {
    const noTime = el(0x1f43b675, [simpleBlock(1, 0x80)]);
    expect(reasonOf(() => feedWhole(parser(), stream(AV_TRACKS, noTime)))).toBe("malformed");
    const stub = el(0xa3, [0x81, 0]);
    expect(reasonOf(() => feedWhole(parser(), stream(AV_TRACKS, cluster(0, [stub]))))).toBe("malformed");
  });

  test("a TrackEntry without TrackNumber is malformed", () => {
    const entry = el(0xae, [el(0x83, [1]), el(0x86, new TextEncoder().encode("V_VP8"))]);
    expect(reasonOf(() => feedWhole(parser(), stream(tracks(entry), cluster(0, []))))).toBe("malformed");
  });
});

describe("truncation", () => {
  test("end() inside an element throws truncated; on an element boundary it does not", () => {
    const boundaries = new Set([0, initBytes.byteLength, ...ranges.map(([, e]) => e)]);
    const rnd = prng(11);
    const cuts = [1, 10, 40, initBytes.byteLength - 1, initBytes.byteLength + 3, ...ranges.map(([, e]) => e), file.byteLength - 1];
    for (let i = 0; i < 50; i++) cuts.push(1 + Math.floor(rnd() * (file.byteLength - 1)));
    for (const cut of cuts) {
      const reason = reasonOf(() => feedRandom(parser(), file.subarray(0, cut), cut));
      expect([cut, reason]).toEqual([cut, boundaries.has(cut) ? undefined : "truncated"]);
    }
  });

  test("end() while dropping a Cues element throws truncated", () => {
    const cues = el(0x1c53bb6b, new Uint8Array(100));
    expect(reasonOf(() => feedWhole(parser(), concat([file, cues.subarray(0, 50)])))).toBe("truncated");
  });
});

describe("garbage never throws anything but ParseError", () => {
  const check = (bytes: Uint8Array, seed: number) => {
    for (const feed of [
      () => feedRandom(parser(), bytes, seed, 300),
      () => feedChunks(createWebmParser({ maxElementBytes: 5000 }), bytes, [7, 100, 1000]),
    ]) {
      try {
        feed();
      } catch (e) {
        if (!(e instanceof ParseError)) throw e;
      }
    }
  };

  test("random bytes after a valid init", () => {
    for (let seed = 1; seed <= 300; seed++) {
      const rnd = prng(seed);
      const garbage = Uint8Array.from({ length: 1 + Math.floor(rnd() * 3000) }, () => Math.floor(rnd() * 256));
      check(concat([initBytes, garbage]), seed);
      check(concat([file.subarray(0, ranges[2]![1]), garbage]), seed);
    }
  });

  test("random byte flips anywhere in a valid stream", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rnd = prng(seed);
      const bytes = file.slice(0, ranges[4]![1]);
      for (let i = 0; i < 1 + (seed % 8); i++) bytes[Math.floor(rnd() * bytes.byteLength)] = Math.floor(rnd() * 256);
      check(bytes, seed);
    }
  });
});
