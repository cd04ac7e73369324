/**
 * Cadence: the smoothed fragment interval (media seconds per fragment) and the time since the last
 * append, which LiveEdgeController and AutoTarget read.
 */

import { describe, expect, test } from "bun:test";
import { Cadence } from "../../static/player/cadence.ts";

describe("Cadence interval", () => {
  test("is unknown until two fragment starts were seen, then equals their spacing", () => {
    const c = new Cadence();
    expect(c.interval).toBeNaN();
    c.observe(10);
    expect(c.interval).toBeNaN();
    c.observe(10.5);
    expect(c.interval).toBeCloseTo(0.5, 10);
  });

  test("is smoothed: each new spacing weighs 15 %", () => {
    const c = new Cadence();
    c.observe(0);
    c.observe(1); // 1
    c.observe(1.5); // 0.85 × 1 + 0.15 × 0.5
    expect(c.interval).toBeCloseTo(0.925, 10);
    c.observe(2); // 0.85 × 0.925 + 0.15 × 0.5
    expect(c.interval).toBeCloseTo(0.86125, 10);
  });

  test("ignores fragments going back in time (interleaved tracks) and repeated start times", () => {
    const c = new Cadence();
    c.observe(10);
    c.observe(10.5);
    c.observe(10.4); // back: ignored
    c.observe(10.4); // same: ignored
    c.observe(10.9);
    expect(c.interval).toBeCloseTo(0.5, 10);
  });

  test("ignores a single spacing of more than 4 intervals (a skip) and spacings of 1 ms or less", () => {
    const c = new Cadence();
    c.observe(0);
    c.observe(0.5);
    c.observe(30.5); // a 30 s skip
    c.observe(30.5005); // 0.5 ms
    c.observe(31.0005);
    expect(c.interval).toBeCloseTo(0.5, 10);
  });

  test("counts long spacings (GOP-sized fragments) like short ones", () => {
    const c = new Cadence();
    c.observe(0);
    c.observe(8);
    c.observe(9.999);
    expect(c.interval).toBeCloseTo(0.85 * 8 + 0.15 * 1.999, 10);
  });

  test("measures fragments of 10 s and more (no absolute upper bound)", () => {
    const c = new Cadence();
    for (let i = 0; i < 5; i++) c.observe(100 + 12 * i);
    expect(c.interval).toBeCloseTo(12, 10);
    const d = new Cadence();
    d.observe(0);
    d.observe(30);
    expect(d.interval).toBeCloseTo(30, 10);
  });

  test("two long spacings in a row of about the same length are the new cadence, not a skip", () => {
    const c = new Cadence();
    for (let i = 0; i < 10; i++) c.observe(i * 0.1); // 0.1 s fragments
    c.observe(0.9 + 2); // 2 s: a skip?
    expect(c.interval).toBeCloseTo(0.1, 10);
    c.observe(0.9 + 4); // 2 s again: the publisher now sends 2 s fragments
    expect(c.interval).toBeCloseTo(2, 10);
    c.observe(0.9 + 6);
    expect(c.interval).toBeCloseTo(2, 10);
  });

  test("two long spacings of very different lengths are both skips", () => {
    const c = new Cadence();
    for (let i = 0; i < 10; i++) c.observe(i * 0.1);
    c.observe(0.9 + 1);
    c.observe(0.9 + 1 + 10);
    expect(c.interval).toBeCloseTo(0.1, 10);
  });

  test("a normal spacing between two long ones means both were skips", () => {
    const c = new Cadence();
    for (let i = 0; i < 10; i++) c.observe(i * 0.1);
    c.observe(2.9);
    c.observe(3.0);
    c.observe(5.0);
    expect(c.interval).toBeCloseTo(0.1, 10);
  });

  test("ignores fragments without a start time, keeping the last known start", () => {
    const c = new Cadence();
    c.observe(0);
    c.observe(Number.NaN);
    c.observe(Number.POSITIVE_INFINITY);
    c.observe(0.25);
    expect(c.interval).toBeCloseTo(0.25, 10);
  });

  test("a discontinuity keeps the interval but does not compare the next start with the last one", () => {
    const c = new Cadence();
    c.observe(100);
    c.observe(100.5);
    c.discontinuity();
    c.observe(100.6); // a new stream that happens to start 0.1 s later: not a spacing
    expect(c.interval).toBeCloseTo(0.5, 10);
    c.observe(101.1);
    expect(c.interval).toBeCloseTo(0.5, 10);
  });

  test("a discontinuity also restarts the arrival statistics", () => {
    const c = new Cadence();
    for (let i = 0; i < 40; i++) c.appended(1000 + i * 100, 10 + i * 0.1);
    expect(c.arrivals.size).toBe(40);
    c.discontinuity();
    expect(c.arrivals.size).toBe(0);
  });

  test("intervalOr gives the fallback only while the interval is unknown", () => {
    const c = new Cadence();
    expect(c.intervalOr(7)).toBe(7);
    c.observe(1);
    c.observe(1.2);
    expect(c.intervalOr(7)).toBeCloseTo(0.2, 10);
  });
});

describe("Cadence sinceAppend", () => {
  test("is 0 before anything was appended", () => {
    const c = new Cadence();
    c.observe(0);
    c.observe(1);
    expect(c.sinceAppend(5000)).toBe(0);
  });

  test("counts seconds since the last append, at most one interval", () => {
    const c = new Cadence();
    c.observe(0);
    c.observe(1);
    c.appended(10_000);
    expect(c.sinceAppend(10_000)).toBe(0);
    expect(c.sinceAppend(10_400)).toBeCloseTo(0.4, 10);
    expect(c.sinceAppend(13_000)).toBe(1);
    c.appended(13_000);
    expect(c.sinceAppend(13_250)).toBeCloseTo(0.25, 10);
  });

  test("is 0 while the interval is unknown and never negative", () => {
    const c = new Cadence();
    c.appended(10_000);
    expect(c.sinceAppend(10_500)).toBe(0);
    c.observe(0);
    c.observe(1);
    expect(c.sinceAppend(9_000)).toBe(0);
  });
});
