import { describe, expect, test } from "bun:test";
import { createFmp4Parser } from "../../../src/container/fmp4/parser.ts";
import { DEFAULT_PARSER_OPTIONS, type FragmentEvent, type ParserEvent } from "../../../src/container/types.ts";
import { concat, feedByteByByte, feedRandom, feedWhole, summarize } from "../../helpers/feed.ts";
import { fixture } from "../../helpers/fixtures.ts";
import { box, scanTopLevel, type TopBox, withLargesize } from "./build.ts";

const parser = () => createFmp4Parser(DEFAULT_PARSER_OPTIONS);

/** Rebuilds `file` box by box, inserting `extra(box, index)` before each top-level box. */
function insertBefore(file: Uint8Array, extra: (b: TopBox, i: number) => Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [];
  scanTopLevel(file).forEach((b, i) => parts.push(...extra(b, i), file.subarray(b.start, b.start + b.size)));
  return concat(parts);
}

/** Events with bytes replaced by their length, for comparisons that allow byte-count changes. */
function fields(events: ParserEvent[]) {
  return events.map((e) => ({ ...e, bytes: e.bytes.byteLength }));
}

describe("top-level boxes the parser drops or attaches", () => {
  test("free/skip between fragments and between prefix boxes are dropped without changing any event", () => {
    const file = fixture("h264-aac-dash-prft.mp4");
    // After the init: pad before every sidx/prft/moof, i.e. also between a fragment's prefix boxes.
    const padded = insertBefore(file, (b) =>
      ["sidx", "prft", "moof"].includes(b.type) ? [box("free", new Uint8Array(11)), box("skip")] : [],
    );
    expect(padded.byteLength).toBeGreaterThan(file.byteLength);
    const expected = summarize(feedWhole(parser(), file));
    expect(summarize(feedWhole(parser(), padded))).toEqual(expected);
    expect(summarize(feedByteByByte(parser(), padded))).toEqual(expected);
    for (const seed of [5, 6, 7]) expect(summarize(feedRandom(parser(), padded, seed))).toEqual(expected);
  });

  test("free before moov belongs to the init", () => {
    const file = fixture("vp9.mp4");
    const padded = insertBefore(file, (b) => (b.type === "moov" ? [box("free", new Uint8Array(5))] : []));
    const [init] = feedWhole(parser(), padded);
    const moov = scanTopLevel(padded).find((b) => b.type === "moov")!;
    expect(init!.bytes).toEqual(padded.subarray(0, moov.start + moov.size));
  });

  test("a stray mdat between fragments is dropped", () => {
    const file = fixture("vp9.mp4");
    let moofs = 0;
    const padded = insertBefore(file, (b) => (b.type === "moof" && moofs++ === 2 ? [box("mdat", new Uint8Array(300))] : []));
    expect(summarize(feedWhole(parser(), padded))).toEqual(summarize(feedWhole(parser(), file)));
  });

  test("styp and emsg before a moof, and a box between moof and mdat, belong to that fragment", () => {
    const file = fixture("h264-opus.mp4");
    const styp = box("styp", [0x6d, 0x73, 0x64, 0x68, 0, 0, 0, 0]);
    const emsg = box("emsg", new Uint8Array(30));
    const udta = box("udta", new Uint8Array(4));
    const edited = insertBefore(file, (b) => (b.type === "moof" ? [styp, emsg] : b.type === "mdat" ? [udta] : []));
    const plain = feedWhole(parser(), file);
    const events = feedWhole(parser(), edited);
    const extra = styp.byteLength + emsg.byteLength + udta.byteLength;
    expect(fields(events)).toEqual(fields(plain).map((e) => (e.type === "fragment" ? { ...e, bytes: e.bytes + extra } : e)));
    const first = events[1]!.bytes;
    expect(first.subarray(0, styp.byteLength)).toEqual(styp);
  });
});

describe("box header forms", () => {
  test("64-bit largesize mdat headers give the same events, 8 bytes longer per fragment", () => {
    for (const name of ["h264-baseline-aac.mp4", "h264-every-frame.mp4"]) {
      const file = fixture(name);
      const large = withLargesize(file, "mdat");
      const plain = fields(feedWhole(parser(), file));
      const events = feedWhole(parser(), large);
      expect(fields(events)).toEqual(plain.map((e) => (e.type === "fragment" ? { ...e, bytes: e.bytes + 8 } : e)));
      expect(summarize(feedByteByByte(parser(), large))).toEqual(summarize(events));
      const mdat = (events[1] as FragmentEvent).bytes;
      const moofSize = new DataView(mdat.buffer, mdat.byteOffset).getUint32(0);
      expect([...mdat.subarray(moofSize, moofSize + 8)]).toEqual([0, 0, 0, 1, 0x6d, 0x64, 0x61, 0x74]);
    }
  });

  test("64-bit largesize moov and moof headers are parsed too", () => {
    const file = fixture("h264-opus.mp4");
    const large = withLargesize(withLargesize(file, "moov"), "moof");
    const events = feedWhole(parser(), large);
    const plain = fields(feedWhole(parser(), file));
    expect(fields(events)).toEqual(plain.map((e) => ({ ...e, bytes: e.bytes + 8 })));
  });
});

describe("publisher restarts inside one connection", () => {
  test("a second ftyp+moov emits a new init with its own mime, then its fragments", () => {
    const a = fixture("h264-baseline-aac.mp4");
    const b = fixture("vp9.mp4");
    const events = feedWhole(parser(), concat([a, b]));
    const kinds = events.map((e) => e.type);
    const evA = feedWhole(parser(), a);
    const evB = feedWhole(parser(), b);
    expect(kinds).toEqual([...evA, ...evB].map((e) => e.type));
    expect(summarize(events)).toEqual(summarize([...evA, ...evB]));
    const inits = events.filter((e) => e.type === "init");
    expect(inits.map((e) => e.type === "init" && e.mime)).toEqual([
      'video/mp4; codecs="avc1.42C00D,mp4a.40.2"',
      'video/mp4; codecs="vp09.00.20.08"',
    ]);
  });

  test("after a restart, keyframe rules follow the new moov (audio-only → all keyframes)", () => {
    const events = feedWhole(parser(), concat([fixture("h264-midgop-frags.mp4"), fixture("aac-only.mp4")]));
    const secondInit = events.findIndex((e, i) => i > 0 && e.type === "init");
    expect(secondInit).toBeGreaterThan(0);
    const after = events.slice(secondInit + 1) as FragmentEvent[];
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((f) => f.keyframe && f.timescale === 48000)).toBe(true);
  });
});
