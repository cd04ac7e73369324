/**
 * AutoTarget: the automatic target latency — the measured arrival headroom plus a decode margin (at
 * most 6 s), the interval plus the margin while the headroom is unknown (0.5 s with nothing known),
 * rising at once and falling with a half-life of 4 s; plus 0.1 s per underrun episode (3 s) up
 * to 2 s, halving every minute. The headroom comes from ArrivalJitter (arrival-jitter.test.ts, with recorded traces).
 */

import { describe, expect, test } from "bun:test";
import { AutoTarget, DECODE_MARGIN_S } from "../../static/player/auto-target.ts";

const MINUTE = 60_000;
const M = DECODE_MARGIN_S;

describe("AutoTarget base value", () => {
  test("is the measured headroom plus the decode margin", () => {
    expect(new AutoTarget().value(0.02, 0.033, 0)).toBeCloseTo(0.02 + M, 10);
    expect(new AutoTarget().value(0.06, 0.1, 0)).toBeCloseTo(0.06 + M, 10);
    expect(new AutoTarget().value(0.8, 1, 0)).toBeCloseTo(0.8 + M, 10);
  });

  test("a fragment per frame on a quiet link gives about a tenth of a second, not a fixed floor", () => {
    expect(new AutoTarget().value(1 / 60, 1 / 30, 0)).toBeLessThan(0.13);
  });

  test("a negative headroom counts as none", () => {
    expect(new AutoTarget().value(-0.3, 0.1, 0)).toBeCloseTo(M, 10);
  });

  test("is the interval plus the margin while the headroom is unknown, 0.5 s while the interval is unknown too", () => {
    expect(new AutoTarget().value(Number.NaN, 0.1, 0)).toBeCloseTo(0.1 + M, 10);
    expect(new AutoTarget().value(Number.NaN, 2, 0)).toBeCloseTo(2 + M, 10);
    expect(new AutoTarget().value(Number.NaN, Number.NaN, 0)).toBe(0.5);
    expect(new AutoTarget().value(Number.NaN, 0, 0)).toBe(0.5);
    expect(new AutoTarget().value(Number.NaN, Number.POSITIVE_INFINITY, 0)).toBe(0.5);
  });

  test("is at most 6 s", () => {
    expect(new AutoTarget().value(9, 10, 0)).toBe(6);
    expect(new AutoTarget().value(Number.NaN, 60, 0)).toBe(6);
  });

  test("rises at once with the headroom", () => {
    const t = new AutoTarget();
    expect(t.value(0.02, 0.033, 0)).toBeCloseTo(0.02 + M, 10);
    expect(t.value(0.3, 0.033, 100)).toBeCloseTo(0.3 + M, 10);
  });

  test("falls towards a lower headroom with a half-life of 4 s", () => {
    const t = new AutoTarget();
    t.value(0.5, 0.033, 0);
    expect(t.value(0.02, 0.033, 4000)).toBeCloseTo(0.26 + M, 10);
    expect(t.value(0.02, 0.033, 6000)).toBeCloseTo(0.02 + 0.24 * Math.SQRT1_2 + M, 10);
    expect(t.value(0.02, 0.033, 60_000)).toBeCloseTo(0.02 + M, 4);
  });

  test("a guess (headroom unknown) gives way to the first measurement at once", () => {
    const t = new AutoTarget();
    expect(t.value(Number.NaN, Number.NaN, 0)).toBe(0.5);
    expect(t.value(0.03, 0.033, 10)).toBeCloseTo(0.03 + M, 10);
    // After a new stream the headroom is unknown again: the guess, then the new measurement at once.
    expect(t.value(Number.NaN, 1, 20)).toBeCloseTo(1 + M, 10);
    expect(t.value(0.04, 1, 30)).toBeCloseTo(0.04 + M, 10);
  });
});

describe("AutoTarget underrun penalty", () => {
  /** Underruns `n` times, 3 s apart (each its own episode), ending at `endMs`. */
  function underruns(t: AutoTarget, n: number, endMs: number): void {
    for (let i = n - 1; i >= 0; i--) t.underrun(endMs - i * 3000);
  }

  test("each underrun adds 0.1 s", () => {
    const t = new AutoTarget();
    t.underrun(1000);
    expect(t.value(0.5, 1, 1000)).toBeCloseTo(0.6 + M, 10);
    t.underrun(4000);
    expect(t.penalty(4000)).toBeCloseTo(0.1 * 0.5 ** (3000 / MINUTE) + 0.1, 10);
  });

  test("underruns within 3 s of the last counted one are the same episode", () => {
    const t = new AutoTarget();
    t.underrun(1000);
    t.underrun(1500);
    t.underrun(3999);
    expect(t.penalty(3999)).toBeCloseTo(0.1 * 0.5 ** (2999 / MINUTE), 10);
    t.underrun(4000);
    expect(t.penalty(4000)).toBeCloseTo(0.1 * 0.5 ** (3000 / MINUTE) + 0.1, 10);
  });

  test("the penalty stops at 2 s", () => {
    const t = new AutoTarget();
    underruns(t, 40, 120_000);
    expect(t.penalty(120_000)).toBe(2);
    expect(t.value(0.5, 1, 120_000)).toBeCloseTo(2.5 + M, 10);
    expect(t.value(Number.NaN, Number.NaN, 120_000)).toBeCloseTo(2.5, 10);
  });

  test("the penalty halves every minute without underruns", () => {
    const t = new AutoTarget();
    for (let i = 0; i < 10; i++) t.underrun(0); // one episode: 0.1 s
    expect(t.penalty(0)).toBeCloseTo(0.1, 10);
    underruns(t, 12, 0); // ~1.0 s
    const p = t.penalty(0);
    expect(p).toBeGreaterThan(0.9);
    expect(t.penalty(30_000)).toBeCloseTo(p * Math.SQRT1_2, 10);
    expect(t.penalty(MINUTE)).toBeCloseTo(p / 2, 10);
    expect(t.penalty(2 * MINUTE)).toBeCloseTo(p / 4, 10);
    expect(t.penalty(10 * MINUTE)).toBeCloseTo(p / 1024, 10);
    expect(t.value(0.5, 1, 2 * MINUTE)).toBeCloseTo(0.5 + p / 4 + M, 10);
  });

  test("an underrun adds to the decayed penalty and restarts the decay from there", () => {
    const t = new AutoTarget();
    underruns(t, 12, 0);
    const p = t.penalty(0);
    t.underrun(MINUTE); // p / 2 + 0.1
    expect(t.penalty(MINUTE)).toBeCloseTo(p / 2 + 0.1, 10);
    expect(t.penalty(2 * MINUTE)).toBeCloseTo(p / 4 + 0.05, 10);
  });

  test("the penalty applies on top of the 6 s ceiling", () => {
    const t = new AutoTarget();
    t.underrun(0);
    expect(t.value(100, 100, 0)).toBeCloseTo(6.1, 10);
  });

  test("asking before the last underrun's time does not grow the penalty", () => {
    const t = new AutoTarget();
    t.underrun(MINUTE);
    expect(t.penalty(0)).toBeCloseTo(0.1, 10);
  });
});
