import { describe, expect, test } from "bun:test";
import { queueWork } from "../../../src/container/byte-queue.ts";
import type { ParserEvent } from "../../../src/container/types.ts";
import { createWebmParser } from "../../../src/container/webm/parser.ts";
import { concat, feedByteByByte, feedRandom, feedWhole, summarize } from "../../helpers/feed.ts";
import {
  AV_TRACKS,
  cluster,
  EBML_HEADER,
  el,
  fragments,
  info,
  inits,
  openCluster,
  reasonOf,
  SEGMENT_UNKNOWN_SIZE,
  simpleBlock,
  stream,
} from "./helpers.ts";

/**
 * Inputs that are cheap to send but once escaped the WebM parser's cap or cost an object per few
 * bytes: floods of Segment headers while the init is read, and large elements or unknown-size Clusters
 * arriving one byte per chunk. Outputs must not depend on the chunking; memory must stay within the cap.
 */

const MiB = 1024 * 1024;
const parser = (maxElementBytes = 32 * MiB) => createWebmParser({ maxElementBytes });

/** 18 53 80 67 = Segment ID, FF = a 1-byte size VINT with every value bit set: unknown size (RFC 8794 §6.2). */
const SHORT_SEGMENT = new Uint8Array([0x18, 0x53, 0x80, 0x67, 0xff]);

function repeat(unit: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(unit.byteLength * n);
  for (let i = 0; i < n; i++) out.set(unit, i * unit.byteLength);
  return out;
}

describe("WebM: Segment headers belong to the capped init", () => {
  test("2 MiB of 5-byte Segment headers behind a 1 MiB cap are too-large, holding at most the cap, in any chunking", () => {
    const flood = concat([EBML_HEADER, repeat(SHORT_SEGMENT, Math.floor((2 * MiB) / 5))]);
    for (const size of [flood.byteLength, 64 * 1024, 5, 1]) {
      const p = parser(MiB);
      let held = 0;
      const reason = reasonOf(() => {
        for (let o = 0; o < flood.byteLength; o += size) {
          p.push(flood.subarray(o, o + size));
          held = Math.max(held, p.buffered);
        }
      });
      expect(reason).toBe("too-large");
      expect(held).toBeLessThanOrEqual(MiB + 12); // the cap, plus the part of a header that is not complete yet
    }
  });

  test("an init under the cap with repeated Segment headers is emitted whole, the same in every chunking", () => {
    const s = concat([
      EBML_HEADER,
      repeat(SHORT_SEGMENT, 1000),
      SEGMENT_UNKNOWN_SIZE,
      info(),
      AV_TRACKS,
      cluster(0, [simpleBlock(1, 0x80)]),
    ]);
    const events = feedWhole(parser(), s);
    expect(inits(events)[0]!.bytes.byteLength).toBe(s.byteLength - fragments(events)[0]!.bytes.byteLength);
    const expected = summarize(events);
    expect(summarize(feedByteByByte(parser(), s))).toEqual(expected);
    for (const seed of [1, 2, 3]) expect(summarize(feedRandom(parser(), s, seed, 16))).toEqual(expected);
  });

  test("buffered counts the init collected so far", () => {
    const p = parser();
    const head = concat([EBML_HEADER, SEGMENT_UNKNOWN_SIZE, info(), AV_TRACKS]);
    p.push(head);
    expect(p.buffered).toBe(head.byteLength);
    p.push(SHORT_SEGMENT);
    expect(p.buffered).toBe(head.byteLength + 5);
  });

  test("a chained Segment after Clusters starts an init with the previous EBML header, in any chunking", () => {
    const first = stream(AV_TRACKS, cluster(0, [simpleBlock(1, 0x80)]));
    const second = concat([SEGMENT_UNKNOWN_SIZE, info(), AV_TRACKS, cluster(5, [simpleBlock(1, 0x80)])]);
    const events = feedWhole(parser(), concat([first, second]));
    expect(inits(events)).toHaveLength(2);
    expect(inits(events)[1]!.bytes).toEqual(concat([EBML_HEADER, SEGMENT_UNKNOWN_SIZE, info(), AV_TRACKS]));
    const expected = summarize(events);
    expect(summarize(feedByteByByte(parser(), concat([first, second])))).toEqual(expected);
  });
});

describe("WebM: large elements in one-byte chunks", () => {
  /** An unknown-size Cluster of `n` tiny SimpleBlocks, ended by the next Cluster. */
  function openClusterStream(n: number): Uint8Array {
    return stream(AV_TRACKS, openCluster(0, [repeat(simpleBlock(2, 0x80, [1]), n)]), cluster(99, [simpleBlock(1, 0x80)]));
  }

  test("an unknown-size Cluster of 200k tiny children in one-byte chunks: O(1) work per byte, the same fragments as whole", () => {
    const s = openClusterStream(200_000);
    const copied = queueWork.copied;
    const steps = queueWork.steps;
    const events: ParserEvent[] = feedByteByByte(parser(), s);
    expect(summarize(events)).toEqual(summarize(feedWhole(parser(), s)));
    expect(fragments(events)).toHaveLength(2);
    expect((queueWork.copied - copied) / s.byteLength).toBeLessThan(6); // 3 copies per byte (into blocks, out, once whole) + header peeks
    expect((queueWork.steps - steps) / s.byteLength).toBeLessThan(2);
  });

  test("an 8 MiB unknown-size Cluster pushed one byte at a time grows the heap by < 2x its bytes", () => {
    const block = new Uint8Array(8 * MiB);
    block.set([0x81, 0, 0, 0x80]); // SimpleBlock of track 1, relative timestamp 0, keyframe
    const s = stream(AV_TRACKS, openCluster(0, [el(0xa3, block)]));
    const p = parser();
    void s.buffer; // materialise the source's ArrayBuffer now, so it is not counted as growth
    Bun.gc(true);
    const before = process.memoryUsage();
    for (let i = 0; i < s.byteLength; i++) p.push(s.subarray(i, i + 1));
    Bun.gc(true);
    const after = process.memoryUsage();
    // Block storage shows in heapUsed (JSC counts it as the heap's extra memory) and in arrayBuffers.
    const grown = Math.max(after.heapUsed - before.heapUsed, after.arrayBuffers - before.arrayBuffers);
    expect(grown).toBeLessThan(2 * 8 * MiB);
    const [ev] = p.end();
    expect(ev?.type).toBe("fragment");
    expect(ev!.bytes.byteLength).toBe(s.byteLength - concat([EBML_HEADER, SEGMENT_UNKNOWN_SIZE, info(), AV_TRACKS]).byteLength);
  });
});
