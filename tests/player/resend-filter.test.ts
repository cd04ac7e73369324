/**
 * ResendFilter: after a reconnect to the same publisher the server resends its cached GOP; the
 * fragments the player already took are dropped, the first new one and everything after pass.
 */

import { describe, expect, test } from "bun:test";
import type { FragmentInfo } from "../../static/player/fragment-info.ts";
import { ResendFilter } from "../../static/player/resend-filter.ts";

const info = (start: number, sync = false): FragmentInfo => ({ keyframe: sync, syncPoint: sync, start });

/** A filter that took fragments starting at `starts` (sizes 1000 + index). */
function tookFragments(starts: number[]): ResendFilter {
  const f = new ResendFilter();
  starts.forEach((s, i) => f.taken(info(s, i === 0), 1000 + i));
  return f;
}

/** Feeds fragments through the filter like the pipeline does; returns the starts that passed. */
function feed(f: ResendFilter, frags: Array<[start: number, size: number]>): number[] {
  const passed: number[] = [];
  for (const [start, size] of frags) {
    if (f.duplicate(info(start), size)) continue;
    f.taken(info(start), size);
    passed.push(start);
  }
  return passed;
}

describe("ResendFilter", () => {
  test("passes everything while not armed", () => {
    const f = tookFragments([10, 10.5, 11]);
    expect(f.duplicate(info(10.5), 1001)).toBe(false);
    expect(f.duplicate(info(11), 1002)).toBe(false);
  });

  test("armed after a reconnect, drops the resent GOP up to and including the last fragment taken, then passes the rest", () => {
    const f = tookFragments([10, 10.5, 11, 11.5]); // last taken: 11.5, size 1003
    f.arm();
    const passed = feed(f, [
      [10, 1000],
      [10.5, 1001],
      [11, 1002],
      [11.5, 1003],
      [12, 1004],
      [12.5, 1005],
    ]);
    expect(passed).toEqual([12, 12.5]);
  });

  test("a resend that does not reach the last fragment taken is dropped up to the first later fragment", () => {
    const f = tookFragments([10, 10.5, 11, 11.5]);
    f.arm();
    // The server's cache ended at 11; the publisher's next fragment is newer than anything taken.
    expect(
      feed(f, [
        [10.5, 1001],
        [11, 1002],
        [12, 1004],
        [12.5, 1005],
      ]),
    ).toEqual([12, 12.5]);
  });

  test("a fragment with the last start but another size is dropped and the filter stays armed", () => {
    const f = tookFragments([10, 10.5]);
    f.arm();
    expect(f.duplicate(info(10.5), 999)).toBe(true);
    expect(f.duplicate(info(10.5), 1001)).toBe(true); // the real copy ends the overlap
    expect(f.duplicate(info(10.5), 1001)).toBe(false);
  });

  test("disarms when the first fragment after the init starts within the stream's first 0.5 s (a restarted publisher)", () => {
    const f = tookFragments([100, 100.5]);
    f.arm();
    expect(
      feed(f, [
        [0.4, 500],
        [0.9, 501],
        [100, 1000],
      ]),
    ).toEqual([0.4, 0.9, 100]);
  });

  test("a restarted publisher is recognised even when the old stream was younger than 15 s", () => {
    const f = tookFragments([10, 10.5]);
    f.arm();
    expect(
      feed(f, [
        [0.5, 500],
        [1, 501],
        [10.5, 1001],
      ]),
    ).toEqual([0.5, 1, 10.5]);
  });

  test("disarms when the first fragment starts more than 15 s before the last one taken", () => {
    const f = tookFragments([100]);
    f.arm();
    expect(f.duplicate(info(84.9), 10)).toBe(false);
    expect(f.duplicate(info(100), 1000)).toBe(false);
  });

  test("exactly 15 s before the last fragment taken still counts as a resend", () => {
    const f = tookFragments([100]);
    f.arm();
    expect(f.duplicate(info(85), 10)).toBe(true);
  });

  test("only the first fragment after arming is checked for a plausible resend", () => {
    const f = tookFragments([100, 100.5]);
    f.arm();
    expect(f.duplicate(info(99), 10)).toBe(true);
    // Later fragments are compared to the last one taken only (this one is 20 s earlier).
    expect(f.duplicate(info(80), 10)).toBe(true);
  });

  test("a fragment without a start time disarms the filter and passes", () => {
    const f = tookFragments([10, 10.5]);
    f.arm();
    expect(f.duplicate(info(10), 1000)).toBe(true);
    expect(f.duplicate(info(Number.NaN), 5)).toBe(false);
    expect(f.duplicate(info(10.5), 1001)).toBe(false);
  });

  test("a first fragment without a start time disarms the filter", () => {
    const f = tookFragments([10]);
    f.arm();
    expect(f.duplicate(info(Number.NaN), 5)).toBe(false);
    expect(f.duplicate(info(10), 1000)).toBe(false);
  });

  test("fragments without a start time are not remembered as taken", () => {
    const f = tookFragments([10]);
    f.taken(info(Number.NaN), 7);
    f.arm();
    expect(f.duplicate(info(10), 1000)).toBe(true); // still armed with the fragment at 10
  });

  test("arming before anything was taken does nothing", () => {
    const f = new ResendFilter();
    f.arm();
    expect(f.duplicate(info(10), 1000)).toBe(false);
  });

  test("reset forgets the last fragment taken and disarms", () => {
    const armed = tookFragments([10, 10.5]);
    armed.arm();
    armed.reset();
    expect(armed.duplicate(info(10), 1000)).toBe(false);
    const later = tookFragments([10, 10.5]);
    later.reset();
    later.arm();
    expect(later.duplicate(info(10), 1000)).toBe(false);
  });

  test("a second reconnect arms the filter again with what was taken since", () => {
    const f = tookFragments([10, 10.5]);
    f.arm();
    expect(
      feed(f, [
        [10, 1000],
        [10.5, 1001],
        [11, 2000],
      ]),
    ).toEqual([11]);
    f.arm();
    expect(
      feed(f, [
        [10.5, 1001],
        [11, 2000],
        [11.5, 2001],
      ]),
    ).toEqual([11.5]);
  });
});
