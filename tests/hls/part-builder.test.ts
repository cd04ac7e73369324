import { describe, expect, test } from "bun:test";
import { type BuiltPart, PartBuilder, type TimedFragment } from "../../src/hls/part-builder.ts";
import { concat } from "../helpers/feed.ts";
import { timedFragments } from "./fixture-stream.ts";

const build = (frags: TimedFragment[], partTarget = 0.2, minSegment = 0.5) => {
  const b = new PartBuilder({ partTarget, minSegment });
  const events = [...frags.flatMap((f) => b.push(f)), ...b.flush()];
  const parts = events.flatMap((e) => (e.type === "part" ? [e.part] : []));
  return { b, events, parts };
};

/** Parts grouped by segment. */
const segmentsOf = (parts: BuiltPart[]) =>
  parts.reduce<BuiltPart[][]>((out, p) => {
    if (p.segmentStart || out.length === 0) out.push([]);
    out[out.length - 1]!.push(p);
    return out;
  }, []);

describe("PartBuilder", () => {
  test("irregular ~100 ms fragments (h264-main-aac.mp4): whole fragments, parts within the target, byte for byte", () => {
    const frags = timedFragments("h264-main-aac.mp4");
    const { parts } = build(frags);
    expect(concat(parts.map((p) => p.bytes))).toEqual(concat(frags.map((f) => f.bytes)));
    for (const p of parts) expect(p.duration).toBeLessThanOrEqual(0.2 + 0.0005);
    // Each part's duration is the next part's start minus its own.
    for (let i = 0; i + 1 < parts.length; i++) expect(parts[i]!.duration).toBeCloseTo(parts[i + 1]!.start - parts[i]!.start, 9);
  });

  test("media segments run keyframe to keyframe (GOPs of 0.6 s), each starting with an INDEPENDENT part", () => {
    const frags = timedFragments("h264-main-aac.mp4");
    const { parts } = build(frags);
    const keyStarts = frags.filter((f) => f.keyframe).map((f) => f.time);
    const segs = segmentsOf(parts);
    expect(segs.map((s) => s[0]!.start)).toEqual(keyStarts);
    expect(parts.filter((p) => p.independent).map((p) => p.start)).toEqual(keyStarts);
    const durations = segs.map((s) => s.reduce((n, p) => n + p.duration, 0));
    expect(durations[0]).toBeCloseTo(7954 / 12800, 9);
    expect(durations[1]).toBeCloseTo((15634 - 7954) / 12800, 9);
  });

  test("with a longer minimum, a keyframe inside a segment cuts neither the segment nor a part", () => {
    const frags = timedFragments("h264-main-aac.mp4");
    const { parts } = build(frags, 0.2, 1);
    const segs = segmentsOf(parts);
    expect(segs.map((s) => s[0]!.start)).toEqual([0, 15634 / 12800, 30994 / 12800]);
    expect(parts.filter((p) => p.independent)).toHaveLength(3);
  });

  test("per-frame fragments (h264-every-frame.mp4) aggregate into parts of the target; the audio before the first keyframe is dropped", () => {
    const frags = timedFragments("h264-every-frame.mp4");
    const { b, parts } = build(frags);
    expect(b.dropped).toBe(1);
    const segs = segmentsOf(parts);
    for (const seg of segs) {
      for (const p of seg.slice(1, -1)) {
        expect(p.duration).toBeLessThanOrEqual(0.2 + 0.0005);
        expect(p.duration).toBeGreaterThanOrEqual(0.85 * 0.2);
      }
    }
    expect(parts.reduce((n, p) => n + p.bytes.byteLength, 0)).toBe(frags.slice(1).reduce((n, f) => n + f.bytes.byteLength, 0));
  });

  test("a fragment longer than the target is a part of its own (aac-only.mp4: 512 ms fragments)", () => {
    const frags = timedFragments("aac-only.mp4");
    const { parts } = build(frags);
    expect(parts).toHaveLength(frags.length);
    expect(parts.slice(0, -1).map((p) => p.duration)).toEqual(frags.slice(0, -1).map(() => 0.512));
    // The last part's duration comes from the container's stated duration.
    expect(parts[parts.length - 1]!.duration).toBeCloseTo(22144 / 48000, 9);
  });

  test("a timestamp jump does not become a part hours long", () => {
    const f = (time: number, keyframe = false): TimedFragment => ({ bytes: new Uint8Array(10), keyframe, time, duration: 0.1 });
    const { parts } = build([f(0, true), f(0.1), f(0.2), f(3600), f(3600.1), f(3600.2)]);
    expect(Math.max(...parts.map((p) => p.duration))).toBeLessThanOrEqual(0.2 + 0.0005);
  });

  test("a long GOP after the limit is set: the segment is closed at a part boundary before it outlasts maxSegment", () => {
    // 100 ms fragments, keyframes at 0 and 1 s, then every 3.5 s.
    const frags: TimedFragment[] = [];
    for (let i = 0; i < 100; i++) {
      const time = i / 10;
      const keyframe = i === 0 || i === 10 || (i > 10 && (i - 10) % 35 === 0);
      frags.push({ bytes: new Uint8Array([i]), keyframe, time, duration: 0.1 });
    }
    const b = new PartBuilder({ partTarget: 0.2, minSegment: 0.5 });
    const events = frags.slice(0, 11).flatMap((f) => b.push(f));
    expect(events.at(-1)).toEqual({ type: "segment-end" }); // the first segment (1 s) is complete
    b.setLimits({ partTarget: 0.2, minSegment: 0.5, maxSegment: 1.45 });
    events.push(...frags.slice(11).flatMap((f) => b.push(f)), ...b.flush());
    const parts = events.flatMap((e) => (e.type === "part" ? [e.part] : []));
    const segs = segmentsOf(parts);
    const durations = segs.map((s) => s.reduce((n, p) => n + p.duration, 0));
    for (const d of durations) expect(d).toBeLessThanOrEqual(1.45 + 1e-9);
    for (const p of parts) expect(p.duration).toBeLessThanOrEqual(0.2 + 1e-9);
    expect(b.splits).toBeGreaterThan(0);
    // Segments that start at a keyframe start with an INDEPENDENT part; split ones do not.
    for (const s of segs) expect(s[0]!.independent).toBe(frags.find((f) => Math.abs(f.time - s[0]!.start) < 1e-9)!.keyframe);
    expect(segs.some((s) => !s[0]!.independent)).toBe(true);
    // Every keyframe still starts a part (so players can join there): INDEPENDENT parts at each.
    const keyTimes = frags.filter((f) => f.keyframe).map((f) => f.time);
    expect(parts.filter((p) => p.independent).map((p) => p.start)).toEqual(keyTimes);
    expect(concat(parts.map((p) => p.bytes))).toEqual(concat(frags.map((f) => f.bytes)));
  });

  test("a fragment longer than the part target closes the part before it and is a part of its own", () => {
    const b = new PartBuilder({ partTarget: 0.2, minSegment: 0.5 });
    const f = (time: number, duration: number, keyframe = false): TimedFragment => ({ bytes: new Uint8Array(4), keyframe, time, duration });
    const frags = [f(0, 0.1, true), f(0.1, 0.1), f(0.2, 0.1), f(0.3, 0.5), f(0.8, 0.1), f(0.9, 0.1)];
    const parts = [...frags.flatMap((x) => b.push(x)), ...b.flush()].flatMap((e) => (e.type === "part" ? [e.part] : []));
    expect(parts.map((p) => [p.start, +p.duration.toFixed(6)])).toEqual([
      [0, 0.2],
      [0.2, 0.1],
      [0.3, 0.5],
      [0.8, 0.2],
    ]);
  });

  test("reset drops the open part and waits for the next keyframe", () => {
    const b = new PartBuilder({ partTarget: 0.2, minSegment: 1 });
    const f = (time: number, keyframe = false): TimedFragment => ({ bytes: new Uint8Array(4), keyframe, time, duration: 0.1 });
    b.push(f(0, true));
    b.reset();
    expect(b.waiting).toBe(true);
    expect(b.push(f(0.1))).toEqual([]);
    expect(b.dropped).toBe(1);
    b.push(f(0.2, true));
    expect(b.waiting).toBe(false);
  });
});
