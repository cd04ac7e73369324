/**
 * Viewer reports: the server's handling of a viewer's `report` messages (untrusted input: clamped,
 * deltas per viewer, one per viewer per interval, oversized or malformed ignored and counted), first
 * as a function, then through a real Sluice with real WebSockets into `/metrics` and `/api/streams`.
 */

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { REPORT_MIN_INTERVAL_MS, type ViewerReport } from "../../src/protocol/messages.ts";
import { ACCEPT_GAP_MS, handleViewerMessage, IgnoredReports, type ReportingViewer } from "../../src/server/viewer-reports.ts";
import { StreamStats } from "../../src/stream/stream-stats.ts";
import { runFfmpeg } from "../helpers/ffmpeg.ts";
import { parseExposition, type Sample, value } from "../helpers/prometheus.ts";
import { startTestSluice, type TestSluice } from "../helpers/sluice.ts";
import { connectViewer, type TestViewer, texts } from "../helpers/ws-viewer.ts";

setDefaultTimeout(60_000);

const T0 = 1_700_000_000_000;
const report = (r: Partial<ViewerReport> = {}): string =>
  JSON.stringify({ type: "report", latency: 0.2, kind: "e2e", stalls: 0, dropped: 0, decoded: 0, ...r });

/** One viewer connected at T0, its stream's stats and the ignored counts; `send` at T0 + `at` ms. */
function setup() {
  const viewer: ReportingViewer = { openedAt: T0 };
  const stats = new StreamStats();
  const ignored = new IgnoredReports();
  const send = (text: string | Uint8Array, at: number) => handleViewerMessage(text, viewer, { listed: true, stats }, ignored, T0 + at);
  const counts = () => Object.fromEntries(ignored.entries());
  const totals = () => ({ stalls: stats.viewerStalls, dropped: stats.viewerDroppedFrames, decoded: stats.viewerDecodedFrames });
  return { viewer, stats, send, counts, totals };
}

describe("handleViewerMessage", () => {
  test("a ping is answered; a report is recorded and answered with nothing", () => {
    const { send, stats, counts } = setup();
    expect(send('{"type":"ping","t":12.5}', 0)).toEqual({ type: "pong", t: 12.5 });
    expect(send(report({ latency: 0.25 }), 5000)).toBeUndefined();
    expect(stats.viewerLatency.summary(T0 + 5000)).toMatchObject({ kind: "e2e", reports: 1 });
    expect(counts()).toEqual({ oversized: 0, malformed: 0, "too-frequent": 0 });
  });

  test("malformed, binary and oversized messages are ignored and counted by reason", () => {
    const { send, stats, counts } = setup();
    for (const bad of ["", "{", "[]", '{"type":"report"}', report({ kind: "gpu" as "e2e" }), '{"type":"hello"}']) {
      expect(send(bad, 10_000)).toBeUndefined();
    }
    send(new Uint8Array([123, 125]), 10_000);
    // 513 bytes of ASCII, and 200 characters that take 600 bytes in UTF-8.
    send(report({ pad: "x".repeat(513 - report({ pad: "" } as never).length) } as never), 10_000);
    send(report({ pad: "€".repeat(200) } as never), 10_000);
    expect(report({ pad: "€".repeat(200) } as never).length).toBeLessThan(512);
    expect(counts()).toEqual({ oversized: 2, malformed: 7, "too-frequent": 0 });
    expect(stats.viewerLatency.summary(T0 + 10_000)).toBeUndefined();
    // A report of exactly 512 bytes is read.
    const exact = report({ pad: "x".repeat(512 - report({ pad: "" } as never).length) } as never);
    expect(exact.length).toBe(512);
    send(exact, 10_000);
    expect(stats.viewerLatency.summary(T0 + 10_000)?.reports).toBe(1);
  });

  test("one report per viewer per interval: a report sooner than the gap is ignored and does not move the baseline", () => {
    const { send, totals, counts, stats } = setup();
    expect(ACCEPT_GAP_MS).toBeLessThan(REPORT_MIN_INTERVAL_MS);
    send(report({ decoded: 100 }), 5000);
    send(report({ decoded: 150 }), 5000 + ACCEPT_GAP_MS - 1);
    send(report({ decoded: 150 }), 5000 + ACCEPT_GAP_MS - 1);
    expect(counts()["too-frequent"]).toBe(2);
    expect(totals().decoded).toBe(100);
    send(report({ decoded: 150 }), 5000 + ACCEPT_GAP_MS);
    expect(totals().decoded).toBe(150);
    expect(stats.viewerLatency.histograms()[0]![1].count).toBe(2);
  });

  test("totals grow by each viewer's deltas: resending adds nothing, a counter going back is a reset", () => {
    const { send, totals } = setup();
    send(report({ stalls: 1, dropped: 3, decoded: 100 }), 5000);
    expect(totals()).toEqual({ stalls: 1, dropped: 3, decoded: 100 });
    send(report({ stalls: 1, dropped: 3, decoded: 100 }), 10_000);
    send(report({ stalls: 1, dropped: 3, decoded: 100 }), 15_000);
    expect(totals()).toEqual({ stalls: 1, dropped: 3, decoded: 100 });
    send(report({ stalls: 2, dropped: 5, decoded: 225 }), 20_000);
    expect(totals()).toEqual({ stalls: 2, dropped: 5, decoded: 225 });
    send(report({ stalls: 0, dropped: 1, decoded: 40 }), 25_000); // reset: all of it is new
    expect(totals()).toEqual({ stalls: 2, dropped: 6, decoded: 265 });
    // Two viewers add up; each has its own baseline.
    const other: ReportingViewer = { openedAt: T0 };
    const { stats } = setup();
    const ignored = new IgnoredReports();
    const stream = { listed: true, stats };
    handleViewerMessage(report({ decoded: 10 }), other, stream, ignored, T0 + 5000);
    handleViewerMessage(report({ decoded: 20 }), { openedAt: T0 }, stream, ignored, T0 + 5000);
    handleViewerMessage(report({ decoded: 30 }), other, stream, ignored, T0 + 10_000);
    expect(stats.viewerDecodedFrames).toBe(50);
  });

  test("numbers are clamped: counters to integers >= 0, growth to what the elapsed time allows, latency to 0..60 s", () => {
    const { send, totals, stats } = setup();
    send(report({ latency: -2, stalls: -5, dropped: 2.9, decoded: 1e300 }), 5000);
    // 5 s since the connection opened: at most 1500 frames and 10 stalls.
    expect(totals()).toEqual({ stalls: 0, dropped: 2, decoded: 1500 });
    send(report({ latency: 1e6, stalls: 1e9, dropped: 2, decoded: 1e300 }), 7000);
    expect(totals()).toEqual({ stalls: 4, dropped: 2, decoded: 1500 }); // 2 s: 4 stalls at most; 1e300 did not grow
    const h = stats.viewerLatency.histograms()[0]![1];
    expect(h.sum).toBe(60);
    expect(h.count).toBe(2);
    expect(stats.viewerLatency.summary(T0 + 7000)).toMatchObject({ p50: 0 });
  });

  test("a report for a stream that is gone, or that nobody published, only moves the viewer's baseline", () => {
    const viewer: ReportingViewer = { openedAt: T0 };
    const ignored = new IgnoredReports();
    expect(handleViewerMessage(report({ decoded: 10 }), viewer, undefined, ignored, T0 + 5000)).toBeUndefined();
    expect(viewer.lastReport).toEqual({ at: T0 + 5000, stalls: 0, dropped: 0, decoded: 10 });
    const stats = new StreamStats();
    handleViewerMessage(report({ decoded: 20 }), viewer, { listed: false, stats }, ignored, T0 + 10_000);
    expect(viewer.lastReport).toEqual({ at: T0 + 10_000, stalls: 0, dropped: 0, decoded: 20 });
    expect(stats.viewerLatency.histograms()).toEqual([]);
    expect(stats.viewerDecodedFrames).toBe(0);
  });

  test("a server clock that stepped back does not lock the viewer out", () => {
    const { send, stats } = setup();
    send(report(), 50_000);
    send(report(), 10_000);
    expect(stats.viewerLatency.histograms()[0]![1].count).toBe(2);
  });
});

/** Histogram samples (`name_bucket`, `_sum`, `_count`) with `labels`, checked: `le` ascending to +Inf, cumulative, +Inf = count. */
function histogram(text: string, name: string, labels: Record<string, string>) {
  const lines = text.split("\n").filter((l) => l.startsWith(`${name}_`));
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const mine = lines.filter((l) => want.every((w) => l.includes(w)));
  const buckets = mine.flatMap((l) => {
    const m = new RegExp(`^${name}_bucket\\{.*le="([^"]+)".*\\} (\\S+)$`).exec(l);
    return m ? [{ le: m[1] === "+Inf" ? Infinity : Number(m[1]), n: Number(m[2]) }] : [];
  });
  const scalar = (suffix: string) => Number(mine.find((l) => l.startsWith(`${name}_${suffix}{`))?.split(" ")[1]);
  const count = scalar("count");
  for (let i = 1; i < buckets.length; i++) {
    expect(buckets[i]!.le).toBeGreaterThan(buckets[i - 1]!.le);
    expect(buckets[i]!.n).toBeGreaterThanOrEqual(buckets[i - 1]!.n);
  }
  if (buckets.length > 0) expect(buckets.at(-1)).toEqual({ le: Infinity, n: count });
  return { buckets, sum: scalar("sum"), count };
}

describe("through a real server and real WebSockets", () => {
  let sluice: TestSluice;
  let base: string;
  const viewers: TestViewer[] = [];
  const HIST = "sluice_viewer_latency_seconds";

  /** /metrics: the histogram's own lines checked by `histogram`, everything else by the strict checker. */
  async function metrics(): Promise<{ text: string; samples: Sample[] }> {
    const text = await (await fetch(`${base}/metrics`)).text();
    const rest = text
      .split("\n")
      .filter((l) => !/^sluice_viewer_latency_seconds_(bucket|sum|count)\{/.test(l))
      .join("\n");
    return { text, samples: parseExposition(rest) };
  }
  async function streamJson(name: string): Promise<Record<string, unknown>> {
    return (await (await fetch(`${base}/api/streams/${name}`)).json()) as Record<string, unknown>;
  }

  beforeAll(async () => {
    sluice = await startTestSluice();
    base = `http://127.0.0.1:${sluice.httpPort}`;
    // A short real publisher, so `live` is a listed stream (in /api/streams and /metrics).
    const ff = runFfmpeg([
      "-f",
      "lavfi",
      "-i",
      "testsrc2=size=160x120:rate=25:duration=1",
      "-c:v",
      "libvpx",
      "-deadline",
      "realtime",
      "-f",
      "webm",
      "-live",
      "1",
      `tcp://127.0.0.1:${sluice.ingestPort}`,
    ]);
    expect(await ff.done).toBe(0);
    await sluice.waitLog(/stream-live/);
    for (let i = 0; i < 4; i++) viewers.push(await connectViewer(`ws://127.0.0.1:${sluice.httpPort}/ws/live`));
    // Growth is capped by the time since the connection (2 stalls a second): let the counters below fit.
    await Bun.sleep(2000);
  });
  afterAll(async () => {
    for (const v of viewers) v.close();
    await sluice.stop();
  });

  test("before any report: viewerLatency is null, the histogram has no samples, the ignored counters are 0", async () => {
    expect((await streamJson("live")).viewerLatency).toBeNull();
    const { text, samples } = await metrics();
    expect(text).toContain(`# TYPE ${HIST} histogram`);
    expect(text).not.toContain(`${HIST}_bucket`);
    for (const reason of ["oversized", "malformed", "too-frequent"])
      expect(value(samples, "sluice_viewer_reports_ignored_total", { reason })).toBe(0);
    expect(value(samples, "sluice_viewer_stalls_total", { stream: "live" })).toBe(0);
  });

  test("viewers' reports reach /api/streams (p50/p95 over the last minute) and /metrics (histogram, counters)", async () => {
    const latencies = [0.12, 0.2, 0.31, 0.9];
    viewers.forEach((v, i) => v.ws.send(report({ latency: latencies[i]!, stalls: i, dropped: 2, decoded: 50 })));
    let json: Record<string, unknown> = {};
    const end = Date.now() + 5000;
    while (Date.now() < end) {
      json = await streamJson("live");
      if ((json.viewerLatency as { reports?: number } | null)?.reports === 4) break;
      await Bun.sleep(20);
    }
    const vl = json.viewerLatency as { kind: string; p50: number; p95: number; reports: number };
    expect(vl.kind).toBe("e2e");
    expect(vl.reports).toBe(4);
    expect(Math.abs(vl.p50 / 0.2 - 1)).toBeLessThanOrEqual(0.02);
    expect(Math.abs(vl.p95 / 0.9 - 1)).toBeLessThanOrEqual(0.02);
    const list = (await (await fetch(`${base}/api/streams`)).json()) as Array<Record<string, unknown>>;
    expect(list.find((s) => s.name === "live")?.viewerLatency).toEqual(vl);

    const { text, samples } = await metrics();
    const h = histogram(text, HIST, { stream: "live", kind: "e2e" });
    expect(h.count).toBe(4);
    expect(h.sum).toBeCloseTo(0.12 + 0.2 + 0.31 + 0.9, 6);
    expect(h.buckets.map((b) => b.le)).toEqual([0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, Infinity]);
    expect(h.buckets.find((b) => b.le === 0.2)?.n).toBe(2);
    expect(h.buckets.find((b) => b.le === 0.5)?.n).toBe(3);
    expect(value(samples, "sluice_viewer_stalls_total", { stream: "live" })).toBe(0 + 1 + 2 + 3);
    expect(value(samples, "sluice_viewer_dropped_frames_total", { stream: "live" })).toBe(8);
    expect(value(samples, "sluice_viewer_decoded_frames_total", { stream: "live" })).toBe(200);
  });

  test("bad reports are ignored and counted, and the socket keeps working", async () => {
    const before = (await metrics()).samples;
    const v = viewers[0]!;
    v.ws.send(report({ latency: 9, stalls: 100, dropped: 100, decoded: 100 })); // too soon after the last
    v.ws.send("{not json");
    v.ws.send(report({ kind: "wallclock" as "e2e" }));
    v.ws.send(new Uint8Array([1, 2, 3]));
    v.ws.send(report({ pad: "x".repeat(1000) } as never)); // over 512 bytes, under --max-viewer-message-bytes
    v.ws.send('{"type":"ping","t":7}');
    await v.until((m) => texts(m, "pong").some((p) => p.t === 7), 5000, "pong after the bad messages");
    const after = (await metrics()).samples;
    const delta = (reason: string) =>
      value(after, "sluice_viewer_reports_ignored_total", { reason })! - value(before, "sluice_viewer_reports_ignored_total", { reason })!;
    expect({ tooFrequent: delta("too-frequent"), malformed: delta("malformed"), oversized: delta("oversized") }).toEqual({
      tooFrequent: 1,
      malformed: 3,
      oversized: 1,
    });
    expect(value(after, "sluice_viewer_stalls_total", { stream: "live" })).toBe(6);
    expect(((await streamJson("live")).viewerLatency as { reports: number }).reports).toBe(4);
  });

  test("a viewer of a name nobody published reports into nothing: no stream, no series, nothing ignored", async () => {
    const before = (await metrics()).samples;
    const v = await connectViewer(`ws://127.0.0.1:${sluice.httpPort}/ws/nobody`);
    await v.until((m) => texts(m, "waiting").length > 0, 5000, "waiting");
    v.ws.send(report({ latency: 0.5 }));
    v.ws.send('{"type":"ping","t":1}');
    await v.until((m) => texts(m, "pong").length > 0, 5000, "pong");
    const { text, samples } = await metrics();
    expect(text).not.toContain('stream="nobody"');
    for (const reason of ["oversized", "malformed", "too-frequent"]) {
      expect(value(samples, "sluice_viewer_reports_ignored_total", { reason })).toBe(
        value(before, "sluice_viewer_reports_ignored_total", { reason })!,
      );
    }
    expect((await fetch(`${base}/api/streams/nobody`)).status).toBe(404);
    v.close();
  });

  test("resending the same counters after the interval adds nothing; a buffer-kind report is its own histogram", async () => {
    await Bun.sleep(ACCEPT_GAP_MS + 100);
    const v = viewers[3]!;
    v.ws.send(report({ latency: 0.4, kind: "buffer", stalls: 3, dropped: 2, decoded: 50 }));
    const end = Date.now() + 5000;
    let text = "";
    while (Date.now() < end && !text.includes('kind="buffer"')) {
      text = (await metrics()).text;
      await Bun.sleep(20);
    }
    expect(histogram(text, HIST, { stream: "live", kind: "buffer" }).count).toBe(1);
    expect(histogram(text, HIST, { stream: "live", kind: "e2e" }).count).toBe(4);
    const { samples } = await metrics();
    expect(value(samples, "sluice_viewer_stalls_total", { stream: "live" })).toBe(6);
    expect(value(samples, "sluice_viewer_decoded_frames_total", { stream: "live" })).toBe(200);
    // e2e still has the most reports in the minute.
    expect((await streamJson("live")).viewerLatency).toMatchObject({ kind: "e2e", reports: 4 });
  });
});
