import { describe, expect, test } from "bun:test";
import { LiveWindow } from "../../src/hls/live-window.ts";
import type { BuiltPart } from "../../src/hls/part-builder.ts";
import { concat } from "../helpers/feed.ts";

const INIT = new Uint8Array(100);
const part = (size: number, segmentStart = false, duration = 0.2): BuiltPart => ({
  bytes: new Uint8Array(size).fill(segmentStart ? 1 : 2),
  duration,
  independent: segmentStart,
  start: 0,
  segmentStart,
});
/** Adds `n` segments of `parts` parts of `size` bytes. */
const fill = (w: LiveWindow, n: number, parts = 5, size = 1000) => {
  for (let s = 0; s < n; s++) for (let p = 0; p < parts; p++) w.addPart(part(size, p === 0));
};

describe("LiveWindow", () => {
  test("lists the configured number of segments; older ones stay downloadable as long again, then go", () => {
    const w = new LiveWindow({ segments: 3, maxBytes: 1 << 20, partTarget: 0.2 }, "e", INIT);
    fill(w, 8);
    w.endSegment();
    expect(w.segments.map((s) => s.msn)).toEqual([5, 6, 7]);
    expect(w.firstMsn).toBe(5);
    expect(w.segment("e", 2)).toBeDefined();
    expect(w.part("e", 2, 4)).toBeDefined();
    expect(w.segment("e", 1)).toBeUndefined();
    expect(w.bytes).toBe(100 + 6 * 5000);
  });

  test("a complete segment is one buffer: its bytes are its parts in order, the parts views into it", () => {
    const w = new LiveWindow({ segments: 3, maxBytes: 1 << 20, partTarget: 0.2 }, "e", INIT);
    fill(w, 1, 4, 10);
    const before = [0, 1, 2, 3].map((i) => w.part("e", 0, i)!);
    w.endSegment();
    const seg = w.segment("e", 0)!;
    expect(seg).toEqual(concat(before));
    expect(w.part("e", 0, 2)!.buffer).toBe(seg.buffer);
  });

  test("the byte cap drops the oldest segments first", () => {
    const w = new LiveWindow({ segments: 10, maxBytes: 100 + 3 * 5000 + 1000, partTarget: 0.2 }, "e", INIT);
    fill(w, 5);
    w.endSegment();
    expect(w.bytes).toBeLessThanOrEqual(w.opts.maxBytes);
    expect(w.segments.map((s) => s.msn)).toEqual([2, 3, 4]);
    expect(w.overflows).toBe(0);
  });

  test("an open segment that alone outgrows the cap drops everything; the next segment follows a discontinuity", () => {
    const w = new LiveWindow({ segments: 10, maxBytes: 3500, partTarget: 0.2 }, "e", INIT);
    fill(w, 1, 2);
    expect(w.addPart(part(1000))).toBe("ok");
    w.endSegment();
    expect(w.addPart(part(3500, true))).toBe("overflow");
    expect(w.segments).toEqual([]);
    expect(w.current).toBeUndefined();
    expect(w.overflows).toBe(1);
    w.addPart(part(100, true));
    expect(w.current!.msn).toBe(2);
    expect(w.current!.discontinuity).toBe(true);
    expect(w.bytes).toBe(200);
  });

  test("a new epoch: the next segment follows a discontinuity with its own init; the old init goes with its last segment", () => {
    const w = new LiveWindow({ segments: 2, maxBytes: 1 << 20, partTarget: 0.2 }, "a", INIT);
    fill(w, 2);
    w.newEpoch("b", new Uint8Array(50));
    fill(w, 1);
    expect(w.current!.epoch).toBe("b");
    expect(w.current!.discontinuity).toBe(true);
    expect(w.init("a")).toBeDefined();
    fill(w, 4);
    w.endSegment();
    expect(w.init("a")).toBeUndefined();
    expect(w.discontinuitySequence).toBe(1);
  });

  test("has(): a complete segment, a listed part, and a part index past a segment's last meaning part 0 of the next", () => {
    const w = new LiveWindow({ segments: 5, maxBytes: 1 << 20, partTarget: 0.2 }, "e", INIT);
    fill(w, 1, 3);
    w.endSegment();
    w.addPart(part(10, true));
    expect(w.has(0)).toBe(true);
    expect(w.has(0, 2)).toBe(true);
    expect(w.has(0, 7)).toBe(true); // = part 0 of segment 1, which exists
    expect(w.has(1)).toBe(false);
    expect(w.has(1, 0)).toBe(true);
    expect(w.has(1, 1)).toBe(false);
    expect(w.hint).toEqual({ epoch: "e", msn: 1, part: 1 });
    w.end();
    expect(w.has(9, 9)).toBe(true);
    expect(w.hint).toBeUndefined();
  });

  test("the target duration and part target are fixed when the first segment is complete, then never change", () => {
    const w = new LiveWindow({ segments: 5, maxBytes: 1 << 20, partTarget: 0.2 }, "e", INIT);
    for (let i = 0; i < 7; i++) w.addPart(part(10, i === 0, 0.2001));
    expect(w.ready).toBe(false);
    expect(w.targetDuration).toBe(0);
    w.addPart(part(10, true)); // ends the first segment (1.4007 s)
    expect(w.ready).toBe(true);
    expect(w.targetDuration).toBe(2);
    expect(w.partTarget).toBe(0.201);
    expect(w.maxSegment).toBeCloseTo(2.45, 9);
    // A longer part and a longer segment later change neither; both are counted.
    w.addPart(part(10, false, 0.5));
    for (let i = 0; i < 10; i++) w.addPart(part(10, false, 0.2));
    w.addPart(part(10, true));
    expect(w.targetDuration).toBe(2);
    expect(w.partTarget).toBe(0.201);
    expect(w.longParts).toBe(1);
    expect(w.longSegments).toBe(1);
    // A new epoch keeps them: one playlist, one target duration.
    w.newEpoch("f", new Uint8Array(10));
    w.addPart(part(10, true, 0.1));
    w.endSegment();
    expect(w.targetDuration).toBe(2);
    expect(w.partTarget).toBe(0.201);
  });

  test("a short first segment gives the lowest target duration; parts within the configured target keep it as PART-TARGET", () => {
    const w = new LiveWindow({ segments: 5, maxBytes: 1 << 20, partTarget: 0.2, minTargetDuration: 1 }, "e", INIT);
    for (let i = 0; i < 3; i++) w.addPart(part(10, i === 0, 0.1));
    w.endSegment();
    expect(w.targetDuration).toBe(1);
    expect(w.partTarget).toBe(0.2);
  });
});
