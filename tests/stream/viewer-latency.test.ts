/**
 * ViewerLatency: the per-stream record of the latency viewers report — a Prometheus histogram per
 * kind since the start, and p50/p95 over a sliding minute (5 s slots), estimated from log-spaced
 * buckets to within ±2 %.
 */

import { describe, expect, test } from "bun:test";
import { LATENCY_BUCKETS, ViewerLatency } from "../../src/stream/viewer-latency.ts";

/** Exact nearest-rank percentile. */
function exact(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.max(1, Math.ceil(p * s.length)) - 1]!;
}

/** A deterministic pseudo-random sequence in [0, 1). */
function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

const T0 = 1_700_000_000_000;

describe("percentiles", () => {
  test("p50 and p95 are within 2 % of the exact nearest-rank percentiles, for several distributions", () => {
    const r = rng(7);
    const distributions: Record<string, () => number> = {
      uniform: () => 0.05 + r() * 0.4,
      "long tail": () => 0.1 + -Math.log(1 - r()) * 0.15,
      bimodal: () => (r() < 0.7 ? 0.12 + r() * 0.02 : 1.5 + r() * 0.5),
      "one value": () => 0.213,
    };
    for (const [name, draw] of Object.entries(distributions)) {
      const v = new ViewerLatency();
      const values: number[] = [];
      for (let i = 0; i < 3000; i++) {
        const x = draw();
        values.push(x);
        v.observe("e2e", x, T0 + i * 10); // 30 s: all inside the window
      }
      const s = v.summary(T0 + 30_000)!;
      expect({ name, kind: s.kind, reports: s.reports }).toEqual({ name, kind: "e2e", reports: 3000 });
      for (const [p, got] of [
        [0.5, s.p50],
        [0.95, s.p95],
      ] as const) {
        const want = exact(values, p);
        expect({ name, p, ratio: Math.abs(got / want - 1) <= 0.0201 }).toEqual({ name, p, ratio: true });
      }
    }
  });

  test("a single report is both percentiles; zero stays zero", () => {
    const v = new ViewerLatency();
    v.observe("buffer", 0, T0);
    expect(v.summary(T0)).toEqual({ kind: "buffer", p50: 0, p95: 0, reports: 1 });
    const w = new ViewerLatency();
    w.observe("buffer", 0.25, T0);
    const s = w.summary(T0)!;
    expect(s.p50).toBe(s.p95);
    expect(Math.abs(s.p50 / 0.25 - 1)).toBeLessThanOrEqual(0.02);
  });

  test("values are clamped to 0..60 s", () => {
    const v = new ViewerLatency();
    v.observe("e2e", -3, T0);
    v.observe("e2e", -3, T0);
    v.observe("e2e", 500, T0);
    const s = v.summary(T0)!;
    expect(s.p50).toBe(0);
    expect(s.p95).toBeLessThanOrEqual(60);
    expect(s.p95).toBeGreaterThan(58.5);
    const h = v.histograms()[0]![1];
    expect(h.sum).toBe(60);
    expect(h.buckets.at(-1)).toBe(1); // +Inf overflow
    expect(h.buckets[0]).toBe(2); // le 0.05
  });
});

describe("the sliding minute", () => {
  test("reports older than the window are forgotten; the histogram keeps them", () => {
    const v = new ViewerLatency();
    // T0 is on a slot boundary: 10 s of 2 s latency fill two slots.
    for (let i = 0; i < 100; i++) v.observe("e2e", 2, T0 + i * 100);
    expect(v.summary(T0 + 59_000)).toMatchObject({ reports: 100 });
    expect(v.summary(T0 + 62_000)).toMatchObject({ reports: 50 }); // the first slot left the window
    // Then 10 s of 0.2 s from 60 s on: at 64.9 s the minute holds 5-10 s and 60-64.9 s.
    for (let i = 0; i < 50; i++) v.observe("e2e", 0.2, T0 + 60_000 + i * 100);
    const mixed = v.summary(T0 + 64_900)!;
    expect(mixed.reports).toBe(50 + 50);
    expect(mixed.p95).toBeGreaterThan(1.9);
    for (let i = 50; i < 100; i++) v.observe("e2e", 0.2, T0 + 60_000 + i * 100);
    const later = v.summary(T0 + 75_000)!;
    expect(later.reports).toBe(100);
    expect(Math.abs(later.p95 / 0.2 - 1)).toBeLessThanOrEqual(0.02);
    expect(v.summary(T0 + 200_000)).toBeUndefined();
    expect(v.histograms()[0]![1].count).toBe(200);
  });

  test("the window spans 55 to 60 s", () => {
    const v = new ViewerLatency();
    const at = Math.ceil(T0 / 5000) * 5000; // a slot boundary
    v.observe("e2e", 0.3, at);
    expect(v.summary(at + 59_999)?.reports).toBe(1);
    expect(v.summary(at + 60_000)).toBeUndefined();
    const w = new ViewerLatency();
    w.observe("e2e", 0.3, at + 4999);
    expect(w.summary(at + 59_999)?.reports).toBe(1);
    expect(w.summary(at + 60_000)).toBeUndefined(); // 55.001 s old, but its slot left
  });

  test("a slot reused a minute later starts empty; a clock that went back does not corrupt it", () => {
    const v = new ViewerLatency();
    v.observe("e2e", 5, T0);
    v.observe("e2e", 0.1, T0 + 60_000); // same ring position, next minute
    expect(v.summary(T0 + 60_000)).toMatchObject({ reports: 1 });
    v.observe("e2e", 5, T0); // back in time: histogram only
    expect(v.summary(T0 + 60_000)).toMatchObject({ reports: 1 });
    expect(v.histograms()[0]![1].count).toBe(3);
  });
});

describe("kinds", () => {
  test("the summary is of the kind most reported in the window, e2e on a tie", () => {
    const v = new ViewerLatency();
    v.observe("buffer", 0.3, T0);
    v.observe("buffer", 0.3, T0);
    v.observe("e2e", 0.5, T0);
    expect(v.summary(T0)).toMatchObject({ kind: "buffer", reports: 2 });
    v.observe("e2e", 0.5, T0);
    expect(v.summary(T0)).toMatchObject({ kind: "e2e", reports: 2 });
    expect(v.histograms().map(([k, h]) => [k, h.count])).toEqual([
      ["e2e", 2],
      ["buffer", 2],
    ]);
  });

  test("no reports: no summary, no histogram", () => {
    const v = new ViewerLatency();
    expect(v.summary(T0)).toBeUndefined();
    expect(v.histograms()).toEqual([]);
  });
});

test("histogram buckets: a value on a bound counts in that bucket (le is inclusive)", () => {
  const v = new ViewerLatency();
  for (const le of LATENCY_BUCKETS) v.observe("e2e", le, T0);
  v.observe("e2e", 10.0001, T0);
  const h = v.histograms()[0]![1];
  expect(h.buckets).toEqual([...LATENCY_BUCKETS.map(() => 1), 1]);
  expect(h.count).toBe(LATENCY_BUCKETS.length + 1);
  expect(h.sum).toBeCloseTo(LATENCY_BUCKETS.reduce((a, b) => a + b, 0) + 10.0001, 9);
});
