import { describe, expect, test } from "bun:test";
import { queueWork } from "../../../src/container/byte-queue.ts";
import { createFmp4Parser } from "../../../src/container/fmp4/parser.ts";
import { DEFAULT_PARSER_OPTIONS, type ParserEvent } from "../../../src/container/types.ts";
import { concat, feedByteByByte, feedRandom, feedWhole, summarize } from "../../helpers/feed.ts";
import { fixture } from "../../helpers/fixtures.ts";
import { box, bytes, scanTopLevel, u32 } from "./build.ts";

/**
 * Inputs that are cheap to send but once cost the fMP4 parser quadratic time or an object per byte:
 * thousands of tiny boxes held between fragments, and large boxes arriving one byte per chunk.
 * Outputs must not depend on the chunking; work and memory must stay linear in the bytes.
 */

const parser = () => createFmp4Parser(DEFAULT_PARSER_OPTIONS);
const MiB = 1024 * 1024;

const file = fixture("h264-baseline-aac.mp4");
const top = scanTopLevel(file);
const moovBox = top.find((b) => b.type === "moov")!;
const init = file.subarray(0, moovBox.start + moovBox.size);
const moof = top.findIndex((b) => b.type === "moof");
const mdat = top.slice(moof).find((b) => b.type === "mdat")!;
const fragment = file.subarray(top[moof]!.start, mdat.start + mdat.size);

/** `n` copies of `unit` back to back. */
function repeat(unit: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(unit.byteLength * n);
  for (let i = 0; i < n; i++) out.set(unit, i * unit.byteLength);
  return out;
}

/** Feeds `stream` in `size`-byte chunks; returns the events and the ByteQueue work per byte. */
function feedMeasured(stream: Uint8Array, size: number): { events: ParserEvent[]; copiedPerByte: number; stepsPerByte: number } {
  const copied = queueWork.copied;
  const steps = queueWork.steps;
  const p = parser();
  const events: ParserEvent[] = [];
  for (let o = 0; o < stream.byteLength; o += size) events.push(...p.push(stream.subarray(o, o + size)));
  events.push(...p.end());
  return {
    events,
    copiedPerByte: (queueWork.copied - copied) / stream.byteLength,
    stepsPerByte: (queueWork.steps - steps) / stream.byteLength,
  };
}

describe("fMP4: tiny boxes between fragments", () => {
  const styp = box("styp");
  const free = box("free");
  const pairs = 64 * 1024; // 1 MiB of alternating 8-byte styp / free boxes
  const stream = concat([init, repeat(concat([styp, free]), pairs), fragment]);

  test("1 MiB of alternating styp/free boxes: the styps are held and emitted with the next fragment, whatever the chunking", () => {
    const events = feedWhole(parser(), stream);
    expect(events.map((e) => e.type)).toEqual(["init", "fragment"]);
    expect(events[1]!.bytes).toEqual(concat([repeat(styp, pairs), fragment]));
    const expected = summarize(events);
    expect(summarize(feedByteByByte(parser(), stream))).toEqual(expected);
    for (const seed of [1, 2]) expect(summarize(feedRandom(parser(), stream, seed, 16))).toEqual(expected);
  });

  test("holding them costs O(1) ByteQueue work per byte and time linear in their number, in 8-byte and 64 KiB chunks", () => {
    for (const size of [8, 64 * 1024]) {
      const { events, copiedPerByte, stepsPerByte } = feedMeasured(stream, size);
      expect(events).toHaveLength(2);
      expect(copiedPerByte).toBeLessThan(4);
      expect(stepsPerByte).toBeLessThan(1);
    }
    // The held prefix must not be re-copied per box: 16x the boxes may cost 16x the time, not 256x.
    const msPerByte = (n: number) => {
      const s = concat([init, repeat(concat([styp, free]), n), fragment]);
      let best = Infinity;
      for (let rep = 0; rep < 2; rep++) {
        const t0 = performance.now();
        feedMeasured(s, 64 * 1024);
        best = Math.min(best, (performance.now() - t0) / s.byteLength);
      }
      return best;
    };
    msPerByte(pairs / 16); // warm-up
    expect(msPerByte(pairs) / msPerByte(pairs / 16)).toBeLessThan(4);
  });

  test("buffered counts the held styp boxes", () => {
    const p = parser();
    p.push(init);
    p.push(repeat(concat([styp, free]), 1000));
    expect(p.buffered).toBe(8 * 1000);
    p.push(styp);
    expect(p.buffered).toBe(8 * 1001);
  });

  test("100k styp boxes in 100k chunks before a moof: each box header is found without walking the chunks before it", () => {
    const many = concat([init, repeat(styp, 100_000), fragment]);
    const { events, stepsPerByte, copiedPerByte } = feedMeasured(many, 8);
    expect(events[1]!.bytes.byteLength).toBe(8 * 100_000 + fragment.byteLength);
    expect(stepsPerByte).toBeLessThan(1);
    expect(copiedPerByte).toBeLessThan(4);
  });
});

describe("fMP4: large boxes in one-byte chunks", () => {
  /** The fixture's init with an 8 MiB `free` child appended to its moov: legal, and large. */
  function bigInit(extra: number): Uint8Array {
    const moov = file.subarray(moovBox.start, moovBox.start + moovBox.size);
    const grown = concat([bytes(u32(moov.byteLength + 8 + extra)), moov.subarray(4), box("free", new Uint8Array(extra))]);
    return concat([file.subarray(0, moovBox.start), grown]);
  }

  test("an 8 MiB moov pushed one byte at a time grows the heap by < 2x its bytes and is emitted intact", () => {
    const big = bigInit(8 * MiB);
    const p = parser();
    void big.buffer; // materialise the source's ArrayBuffer now, so it is not counted as growth
    Bun.gc(true);
    const before = process.memoryUsage();
    for (let i = 0; i < big.byteLength - 1; i++) p.push(big.subarray(i, i + 1));
    Bun.gc(true);
    const after = process.memoryUsage();
    // Block storage shows in heapUsed (JSC counts it as the heap's extra memory) and in arrayBuffers.
    const grown = Math.max(after.heapUsed - before.heapUsed, after.arrayBuffers - before.arrayBuffers);
    expect(p.buffered).toBe(big.byteLength - 1);
    expect(grown).toBeLessThan(2 * big.byteLength);
    const [ev] = p.push(big.subarray(big.byteLength - 1));
    expect(ev?.type).toBe("init");
    expect(ev!.bytes).toEqual(big);
  });

  test("a 4 MiB emsg prefix box in one-byte chunks costs O(1) ByteQueue work per byte, the same fragment as when whole", () => {
    const stream = concat([init, box("emsg", new Uint8Array(4 * MiB)), fragment]);
    const { events, copiedPerByte, stepsPerByte } = feedMeasured(stream, 1);
    expect(summarize(events)).toEqual(summarize(feedWhole(parser(), stream)));
    expect(copiedPerByte).toBeLessThan(4);
    expect(stepsPerByte).toBeLessThan(1);
  });
});
