/**
 * PlaybackReporter: the player's periodic `report` — one per interval while the latency is known,
 * counters since the socket opened (frame counters only grow, across a media element reset).
 */

import { describe, expect, test } from "bun:test";
import { decodeViewerMessage, encodeViewerMessage, REPORT_INTERVAL_MS, REPORT_MIN_INTERVAL_MS } from "../../src/protocol/messages.ts";
import { type PlaybackReading, PlaybackReporter, reportInterval } from "../../static/player/playback-report.ts";

const reading = (latency: number, dropped: number, decoded: number, target = 0.3): PlaybackReading => ({
  latency: { latency, kind: "e2e" },
  target,
  frames: { dropped, decoded },
});

describe("reportInterval", () => {
  test("defaults, is never below the minimum, and 0 or less turns reports off", () => {
    expect(reportInterval(undefined)).toBe(REPORT_INTERVAL_MS);
    expect(reportInterval(Number.NaN)).toBe(REPORT_INTERVAL_MS);
    expect(reportInterval(10_000)).toBe(10_000);
    expect(reportInterval(100)).toBe(REPORT_MIN_INTERVAL_MS);
    expect(reportInterval(0)).toBe(Number.POSITIVE_INFINITY);
    expect(reportInterval(-1)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe("PlaybackReporter", () => {
  test("the first report is due one interval after the socket opened, then one per interval", () => {
    const r = new PlaybackReporter(5000);
    r.opened(1000, { dropped: 10, decoded: 500 });
    expect(r.due(5999, reading(0.2, 10, 600))).toBeUndefined();
    const first = r.due(6000, reading(0.2134, 12, 625, 0.15))!;
    // Counted from the socket's opening, not from the element's creation; rounded to the ms.
    expect(first).toEqual({ type: "report", latency: 0.213, kind: "e2e", target: 0.15, stalls: 0, dropped: 2, decoded: 125 });
    expect(decodeViewerMessage(encodeViewerMessage(first))).toEqual(first);
    expect(r.due(10_999, reading(0.2, 12, 700))).toBeUndefined();
    expect(r.due(11_000, reading(0.2, 12, 750))).toMatchObject({ decoded: 250 });
  });

  test("no report while the latency is unknown; it goes out on the next tick that knows it", () => {
    const r = new PlaybackReporter(5000);
    r.opened(0, undefined);
    expect(r.due(5000, reading(Number.NaN, 0, 0))).toBeUndefined();
    expect(r.due(5250, reading(0.4, 0, 10))).toMatchObject({ latency: 0.4, decoded: 10 });
    expect(r.due(6000, reading(0.4, 0, 20))).toBeUndefined();
  });

  test("stalls are counted; a reopened socket starts its counters from zero", () => {
    const r = new PlaybackReporter(2000);
    r.opened(0, { dropped: 0, decoded: 0 });
    r.stalled();
    r.stalled();
    expect(r.due(2000, reading(0.3, 1, 50))).toMatchObject({ stalls: 2, dropped: 1, decoded: 50 });
    r.opened(3000, { dropped: 1, decoded: 60 });
    expect(r.due(5000, reading(0.3, 1, 70))).toMatchObject({ stalls: 0, dropped: 0, decoded: 10 });
  });

  test("frame counters that went back (a new media resource) add their new counts", () => {
    const r = new PlaybackReporter(2000);
    r.opened(0, { dropped: 5, decoded: 900 });
    r.due(1000, reading(0.3, 6, 1000)); // +1, +100
    r.due(1500, reading(0.3, 0, 30)); // reset: +0, +30
    expect(r.due(2000, reading(0.3, 2, 80))).toMatchObject({ dropped: 3, decoded: 180 });
  });

  test("an unknown target is left out", () => {
    const r = new PlaybackReporter(2000);
    r.opened(0, undefined);
    expect(r.due(2000, reading(0.3, 0, 0, Number.NaN))).not.toHaveProperty("target");
  });
});
