/**
 * ArrivalJitter: the headroom the buffer needs, from when appends move the live edge — a high
 * quantile of the edge's lateness just before each append minus its time average. Synthetic arrivals
 * check the arithmetic; recorded traces (traces/*.json, made by traces/record.ts against a real
 * Sluice, ffmpeg publisher and loopback WebSocket) check what it makes of real arrivals, as the
 * player feeds it: each append completing one at a time, the joined GOP counted with its last append.
 */

import { describe, expect, test } from "bun:test";
import { ArrivalJitter } from "../../static/player/arrival-jitter.ts";
import { AutoTarget } from "../../static/player/auto-target.ts";
import { appendTimes, jittered, loadTrace, steady, type TraceFragment } from "./traces/traces.ts";

/** Feeds `fragments` as the pipeline would; returns the headroom after each caught-up append. */
function feed(j: ArrivalJitter, fragments: TraceFragment[], t0 = 10_000): Array<{ at: number; headroom: number }> {
  const out: Array<{ at: number; headroom: number }> = [];
  const times = appendTimes(fragments);
  fragments.forEach((f, i) => {
    const { done, caughtUp } = times[i]!;
    j.appended(t0 + done, f.end, caughtUp);
    if (caughtUp) out.push({ at: done, headroom: j.headroom(t0 + done) });
  });
  return out;
}

function median(xs: number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Median headroom from `fromMs` of the run on. */
function settled(series: Array<{ at: number; headroom: number }>, fromMs = 5000): number {
  return median(series.filter((x) => x.at >= fromMs).map((x) => x.headroom));
}

describe("ArrivalJitter arithmetic", () => {
  test("no estimate before 6 samples spanning a second", () => {
    const j = new ArrivalJitter();
    for (let i = 0; i < 5; i++) j.appended(1000 + i * 300, 10 + i * 0.3);
    expect(j.headroom(2500)).toBeNaN();
    const k = new ArrivalJitter();
    for (let i = 0; i < 20; i++) k.appended(1000 + i * 10, 10 + i * 0.01);
    expect(k.headroom(1200)).toBeNaN();
    k.appended(2100, 10.3);
    expect(k.headroom(2100)).not.toBeNaN();
  });

  for (const interval of [1 / 30, 0.1, 0.5, 2]) {
    test(`perfectly regular ${interval.toFixed(3)} s fragments need half a fragment`, () => {
      const j = new ArrivalJitter();
      const series = feed(j, steady(interval, Math.ceil(30 / interval)));
      expect(series.at(-1)!.headroom).toBeCloseTo(interval / 2, 3);
    });
  }

  test("the clock offset between publisher and viewer cancels out", () => {
    const a = new ArrivalJitter();
    const b = new ArrivalJitter();
    const frags = jittered(steady(0.1, 200), 50, 3);
    const sa = feed(a, frags, 10_000);
    const sb = feed(
      b,
      frags.map((f) => ({ ...f, start: f.start + 5000, end: f.end + 5000 })),
      987_654,
    );
    expect(sb.at(-1)!.headroom).toBeCloseTo(sa.at(-1)!.headroom, 9);
  });

  test("late arrivals raise it: uniform 0–80 ms delays on 30 fps fragments add the late half of the spread", () => {
    // The mean lateness is already paid by the average buffer; the headroom covers the quantile above it.
    const clean = feed(new ArrivalJitter(), steady(1 / 30, 900)).at(-1)!.headroom;
    const late = feed(new ArrivalJitter(), jittered(steady(1 / 30, 900), 80, 5)).at(-1)!.headroom;
    expect(clean).toBeCloseTo(1 / 60, 3);
    expect(late - clean).toBeGreaterThan(0.025);
    expect(late - clean).toBeLessThan(0.06);
  });

  test("one late fragment in a hundred is left to the margin and the penalty (quantile 0.97), one in twenty is covered", () => {
    const lateEvery = (n: number) => steady(0.1, 300).map((f, i) => (i % n === n - 1 ? { ...f, at: f.at + 250 } : f));
    // Order is kept: the fragment after a late one arrives on time, so delivery stays monotonic.
    const rare = feed(new ArrivalJitter(), lateEvery(100)).at(-1)!.headroom;
    const often = feed(new ArrivalJitter(), lateEvery(20)).at(-1)!.headroom;
    expect(rare).toBeLessThan(0.06);
    expect(often).toBeGreaterThan(0.25);
  });

  test("the joined GOP (appends that catch up with a queue) is not taken for lateness", () => {
    const j = new ArrivalJitter();
    const series = feed(j, steady(0.1, 300, 20)); // 20 fragments (2 s) at once, then live
    expect(series.at(-1)!.headroom).toBeCloseTo(0.05, 3);
  });

  test("samples older than the window are forgotten: a jittery minute followed by a calm one", () => {
    const j = new ArrivalJitter(20_000);
    const rough = jittered(steady(0.1, 600), 300, 9);
    const calm = steady(0.1, 600).map((f) => ({ ...f, at: f.at + 60_000 + 400, start: f.start + 60, end: f.end + 60 }));
    const series = feed(j, [...rough, ...calm]);
    expect(series.find((x) => x.at > 55_000)!.headroom).toBeGreaterThan(0.12);
    expect(series.at(-1)!.headroom).toBeCloseTo(0.05, 3);
  });

  test("appends that do not move the edge (audio behind video) are not samples", () => {
    const j = new ArrivalJitter();
    for (let i = 0; i < 40; i++) {
      j.appended(1000 + i * 100, 10 + i * 0.1);
      j.appended(1000 + i * 100 + 50, 10 + i * 0.1);
    }
    expect(j.size).toBe(40);
    expect(j.headroom(4900)).toBeCloseTo(0.05, 6);
  });

  test("an edge that moves back (a new timeline) starts over; reset() does too", () => {
    const j = new ArrivalJitter();
    for (let i = 0; i < 40; i++) j.appended(1000 + i * 100, 50 + i * 0.1);
    j.appended(5000, 3);
    expect(j.size).toBe(1);
    for (let i = 1; i < 40; i++) j.appended(5000 + i * 100, 3 + i * 0.1);
    expect(j.size).toBe(40);
    j.reset();
    expect(j.size).toBe(0);
    expect(j.headroom(9000)).toBeNaN();
  });

  test("keeps at most maxSamples", () => {
    const j = new ArrivalJitter(1e9, 0.97, 100);
    for (let i = 0; i < 1000; i++) j.appended(i * 20, i * 0.02);
    expect(j.size).toBe(100);
    expect(j.headroom(20_000)).toBeCloseTo(0.01, 6);
  });

  test("ignores non-finite input", () => {
    const j = new ArrivalJitter();
    j.appended(1000, Number.NaN);
    j.appended(Number.NaN, 3);
    expect(j.size).toBe(0);
  });
});

describe("ArrivalJitter on recorded arrivals", () => {
  const target = (headroom: number) => new AutoTarget().value(headroom, Number.NaN, 0);

  test("RTMP remuxed to a fragment per frame on loopback: a target near 0.1 s", () => {
    const { fragments } = loadTrace("rtmp-frame");
    const h = settled(feed(new ArrivalJitter(), fragments));
    expect(target(h)).toBeLessThan(0.15);
    expect(target(h)).toBeGreaterThan(0.07);
  });

  test("ffmpeg's fMP4 with a fragment per frame (audio and video fragments apart): near 0.1 s as well", () => {
    const { fragments } = loadTrace("fmp4-frame");
    const h = settled(feed(new ArrivalJitter(), fragments));
    expect(target(h)).toBeLessThan(0.15);
    expect(target(h)).toBeGreaterThan(0.06);
  });

  test("ffmpeg's fMP4 with 100 ms fragments: near 0.2 s", () => {
    const { fragments } = loadTrace("fmp4-100ms");
    const h = settled(feed(new ArrivalJitter(), fragments));
    expect(target(h)).toBeGreaterThan(0.13);
    expect(target(h)).toBeLessThan(0.27);
  });

  test("the same per-frame arrivals behind a jittery link need more headroom, the more the jitter", () => {
    // In-order delivery of fragments 33 ms apart smooths part of the added delays, and the
    // recording's own jitter (a busy 2-core machine) already covers some of it.
    const { fragments } = loadTrace("rtmp-frame");
    const clean = settled(feed(new ArrivalJitter(), fragments));
    const h80 = settled(feed(new ArrivalJitter(), jittered(fragments, 80, 11)));
    const h150 = settled(feed(new ArrivalJitter(), jittered(fragments, 150, 11)));
    expect(h80).toBeGreaterThan(clean + 0.005);
    expect(h150).toBeGreaterThan(h80 + 0.015);
    expect(h150).toBeLessThan(clean + 0.1);
  });

  test("a lasting step of the delay is not lateness: 1.5 s more from the middle on", () => {
    const frags = steady(0.1, 600).map((f, i) => (i >= 300 ? { ...f, at: f.at + 1500 } : f));
    const series = feed(new ArrivalJitter(), frags);
    expect(Math.max(...series.filter((x) => x.at > 31_500).map((x) => x.headroom))).toBeLessThan(0.06);
  });

  test("a single outage (2 s without data, then a burst) is left to the underrun penalty: the headroom stays", () => {
    const frags = steady(0.1, 600).map((f, i) => (i >= 300 && i < 320 ? { ...f, at: 32_000 } : f));
    const series = feed(new ArrivalJitter(), frags);
    const after = series.filter((x) => x.at >= 32_000).map((x) => x.headroom);
    expect(Math.max(...after)).toBeLessThan(0.06);
    expect(Math.min(...after)).toBeGreaterThan(0.04);
  });
});
