/**
 * AutoTarget: the automatic target latency — 0.25 + 0.75 × fragment interval within [0.3, 6] s
 * (0.5 s while the interval is unknown), plus 0.25 s per underrun up to 2 s, halving every minute.
 * The interval comes from Cadence (cadence.test.ts); the last tests go through both.
 */

import { describe, expect, test } from "bun:test";
import { AutoTarget } from "../../static/player/auto-target.ts";
import { Cadence } from "../../static/player/cadence.ts";

const MINUTE = 60_000;

describe("AutoTarget base value", () => {
  test("is 0.25 s plus three quarters of the fragment interval", () => {
    const t = new AutoTarget();
    expect(t.value(0.1, 0)).toBeCloseTo(0.325, 10);
    expect(t.value(0.5, 0)).toBeCloseTo(0.625, 10);
    expect(t.value(1, 0)).toBeCloseTo(1.0, 10);
    expect(t.value(2, 0)).toBeCloseTo(1.75, 10);
  });

  test("is 0.5 s while the interval is unknown", () => {
    const t = new AutoTarget();
    expect(t.value(Number.NaN, 0)).toBe(0.5);
    expect(t.value(Number.POSITIVE_INFINITY, 0)).toBe(0.5);
  });

  test("is at least 0.3 s for very short fragments", () => {
    const t = new AutoTarget();
    expect(t.value(0, 0)).toBe(0.3);
    expect(t.value(0.02, 0)).toBe(0.3);
    expect(t.value(0.04, 0)).toBe(0.3); // 0.28 → 0.3
    expect(t.value(0.08, 0)).toBeCloseTo(0.31, 10);
  });

  test("is at most 6 s for very long fragments", () => {
    const t = new AutoTarget();
    expect(t.value(7, 0)).toBeCloseTo(5.5, 10);
    expect(t.value(8, 0)).toBe(6);
    expect(t.value(60, 0)).toBe(6);
  });
});

describe("AutoTarget underrun penalty", () => {
  test("each underrun adds 0.25 s", () => {
    const t = new AutoTarget();
    t.underrun(1000);
    expect(t.value(1, 1000)).toBeCloseTo(1.25, 10);
    t.underrun(1000);
    expect(t.value(1, 1000)).toBeCloseTo(1.5, 10);
  });

  test("the penalty stops at 2 s", () => {
    const t = new AutoTarget();
    for (let i = 0; i < 20; i++) t.underrun(5000);
    expect(t.value(1, 5000)).toBeCloseTo(3.0, 10);
    expect(t.value(Number.NaN, 5000)).toBeCloseTo(2.5, 10);
  });

  test("the penalty halves every minute without underruns", () => {
    const t = new AutoTarget();
    for (let i = 0; i < 4; i++) t.underrun(0); // 1.0 s
    expect(t.value(1, 0)).toBeCloseTo(2.0, 10);
    expect(t.value(1, 30_000)).toBeCloseTo(1 + Math.SQRT1_2, 10);
    expect(t.value(1, MINUTE)).toBeCloseTo(1.5, 10);
    expect(t.value(1, 2 * MINUTE)).toBeCloseTo(1.25, 10);
    expect(t.value(1, 10 * MINUTE)).toBeLessThan(1.001);
  });

  test("an underrun adds to the decayed penalty and restarts the decay from there", () => {
    const t = new AutoTarget();
    for (let i = 0; i < 4; i++) t.underrun(0); // 1.0 s
    t.underrun(MINUTE); // 0.5 + 0.25
    expect(t.value(1, MINUTE)).toBeCloseTo(1.75, 10);
    expect(t.value(1, 2 * MINUTE)).toBeCloseTo(1.375, 10);
  });

  test("the penalty applies with the interval unknown and on top of the 6 s ceiling", () => {
    const t = new AutoTarget();
    t.underrun(0);
    expect(t.value(Number.NaN, 0)).toBeCloseTo(0.75, 10);
    expect(t.value(100, 0)).toBeCloseTo(6.25, 10);
  });

  test("asking before the last underrun's time does not grow the penalty", () => {
    const t = new AutoTarget();
    t.underrun(MINUTE);
    expect(t.value(1, 0)).toBeCloseTo(1.25, 10);
  });
});

describe("AutoTarget from the fragment cadence", () => {
  /** A cadence that saw fragments `interval` s apart. */
  function cadenceOf(interval: number, count = 20, from = 100): Cadence {
    const c = new Cadence();
    for (let i = 0; i < count; i++) c.observe(from + i * interval);
    return c;
  }

  test("100 ms fragments give a 0.325 s target, 1 s fragments 1.0 s, 2 s fragments 1.75 s", () => {
    const t = new AutoTarget();
    expect(t.value(cadenceOf(0.1).interval, 0)).toBeCloseTo(0.325, 6);
    expect(t.value(cadenceOf(1).interval, 0)).toBeCloseTo(1.0, 6);
    expect(t.value(cadenceOf(2).interval, 0)).toBeCloseTo(1.75, 6);
  });

  test("one fragment seen: the interval is unknown and the target is 0.5 s", () => {
    const t = new AutoTarget();
    expect(t.value(cadenceOf(1, 1).interval, 0)).toBe(0.5);
  });

  test("when the fragment interval changes the target follows the smoothed interval", () => {
    const c = cadenceOf(0.2, 20);
    const t = new AutoTarget();
    const before = t.value(c.interval, 0);
    for (let i = 1; i <= 40; i++) c.observe(104 + i * 1.0);
    expect(before).toBeCloseTo(0.4, 6);
    expect(t.value(c.interval, 0)).toBeCloseTo(1.0, 2);
  });
});
