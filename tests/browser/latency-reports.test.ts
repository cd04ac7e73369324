/**
 * Latency every viewer proves: a real player in Chromium reports its latency, stalls and frame counts
 * over its WebSocket, and the server shows them in `/api/streams` (p50/p95 over the last minute),
 * `/metrics` and the index page's stream list. A publisher with `prft` gives e2e latency, a WebM one
 * buffer latency.
 */

import { expect, test } from "bun:test";
import { parseExposition, value } from "../helpers/prometheus.ts";
import { median, openPlayerPage, publisherArgs, sample, saveOutput, waitFor } from "./harness.ts";
import { browserSuite } from "./suite.ts";

const suite = browserSuite();

/** Keeps every `report` the page sends over a WebSocket in `window.__reports`. */
const RECORD_REPORTS = `(() => {
  const reports = (window.__reports = []);
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    if (typeof data === "string" && data.includes('"report"')) reports.push(JSON.parse(data));
    return send.call(this, data);
  };
})();`;

interface ViewerLatencyJson {
  kind: string;
  p50: number;
  p95: number;
  reports: number;
}

async function viewerLatency(base: string, name: string): Promise<ViewerLatencyJson | null> {
  const s = (await (await fetch(`${base}/api/streams/${name}`)).json()) as { viewerLatency?: ViewerLatencyJson | null };
  return s.viewerLatency ?? null;
}

/** Polls /api/streams/:name until its viewerLatency has `reports` reports; returns it and when it came. */
async function waitReports(base: string, name: string, reports: number, ms: number): Promise<{ v: ViewerLatencyJson; at: number }> {
  const end = Date.now() + ms;
  let v: ViewerLatencyJson | null = null;
  while (Date.now() < end) {
    v = await viewerLatency(base, name);
    if (v && v.reports >= reports) return { v, at: Date.now() };
    await Bun.sleep(100);
  }
  throw new Error(`no ${reports} viewer reports for ${name} within ${ms} ms; last: ${JSON.stringify(v)}`);
}

test("a real player's reports reach /api/streams within 15 s, /metrics and the index page: e2e with prft, buffer for WebM", async () => {
  const base = `http://127.0.0.1:${suite.sluice.httpPort}`;
  suite.publish(publisherArgs("h264", `tcp://127.0.0.1:${suite.sluice.ingestPort}`, { prft: true }));
  suite.publish(publisherArgs("vp8", `${base}/ingest/cam`).toSpliced(-1, 0, "-method", "PUT"));
  const e2ePage = await openPlayerPage(suite.browser.context, `${base}/watch/live`, [RECORD_REPORTS]);
  const bufferPage = await openPlayerPage(suite.browser.context, `${base}/watch/cam`);
  const playing = await Promise.all(
    [e2ePage, bufferPage].map(async ({ page }) => {
      await waitFor(page, (p) => p.state === "playing" && p.frames > 10, 20_000, "playing");
      return Date.now();
    }),
  );
  expect(await viewerLatency(base, "live")).toBeNull();

  // Reports go out every 5 s while playing: the first within ~15 s of playback.
  const [live, cam] = await Promise.all([waitReports(base, "live", 1, 15_000), waitReports(base, "cam", 1, 15_000)]);
  console.log(
    `first report after playing: live ${((live.at - playing[0]!) / 1000).toFixed(1)} s, cam ${((cam.at - playing[1]!) / 1000).toFixed(1)} s`,
  );
  expect(live.v.kind).toBe("e2e");
  expect(cam.v.kind).toBe("buffer");

  // A few more reports, and what the player itself measures meanwhile.
  const samples = await sample(e2ePage.page, 10_000, 500);
  await waitReports(base, "live", 3, 5000);
  const own = median(samples.map((p) => p.latency));
  // The server's p50/p95 are those of exactly the reports the player sent (read both until they agree on the count).
  let sent: Array<{ latency: number; kind: string; target?: number; decoded: number }> = [];
  let later: ViewerLatencyJson | null = null;
  for (let i = 0; i < 20 && (later === null || later.reports !== sent.length); i++) {
    sent = await e2ePage.page.evaluate(() => (window as unknown as { __reports: typeof sent }).__reports);
    later = await viewerLatency(base, "live");
  }
  const lat = sent.map((r) => r.latency).sort((a, b) => a - b);
  const rank = (p: number) => lat[Math.ceil(p * lat.length) - 1]!;
  console.log(
    `live: server p50 ${later!.p50} s, p95 ${later!.p95} s over ${later!.reports} reports; sent ${JSON.stringify(lat)}; the player's median ${own.toFixed(3)} s`,
  );
  expect(later!.reports).toBe(sent.length);
  expect(sent.every((r) => r.kind === "e2e" && r.latency > 0 && r.latency < 3)).toBe(true);
  expect(Math.abs(later!.p50 - rank(0.5))).toBeLessThanOrEqual(rank(0.5) * 0.02 + 0.001);
  expect(Math.abs(later!.p95 - rank(0.95))).toBeLessThanOrEqual(rank(0.95) * 0.02 + 0.001);
  // The decoded-frame counters only grow, report after report.
  expect(sent.every((r, i) => i === 0 || r.decoded >= sent[i - 1]!.decoded)).toBe(true);

  const text = await (await fetch(`${base}/metrics`)).text();
  const count = (kind: string, name: string) =>
    Number(
      / (\S+)$/.exec(
        text.split("\n").find((l) => l.startsWith(`sluice_viewer_latency_seconds_count{stream="${name}",kind="${kind}"}`)) ?? "",
      )?.[1],
    );
  expect(count("e2e", "live")).toBeGreaterThanOrEqual(3);
  expect(count("buffer", "cam")).toBeGreaterThanOrEqual(1);
  const samplesM = parseExposition(
    text
      .split("\n")
      .filter((l) => !/^sluice_viewer_latency_seconds_(bucket|sum|count)\{/.test(l))
      .join("\n"),
  );
  // Decoded frames since the socket opened, as deltas; 25 fps for at least 10 s.
  expect(value(samplesM, "sluice_viewer_decoded_frames_total", { stream: "live" })!).toBeGreaterThan(200);
  expect(value(samplesM, "sluice_viewer_stalls_total", { stream: "live" })).toBeDefined();
  expect(value(samplesM, "sluice_viewer_dropped_frames_total", { stream: "live" })).toBeDefined();
  for (const reason of ["oversized", "malformed", "too-frequent"])
    expect(value(samplesM, "sluice_viewer_reports_ignored_total", { reason })).toBe(0);

  // The index page lists p50/p95 per stream (it refreshes the list every 5 s).
  const listed = await e2ePage.page.waitForFunction(
    () => {
      const li = [...document.querySelectorAll("#streams li")].find((l) => l.querySelector("a")?.textContent === "live");
      return li?.textContent?.includes("latency p50") ? li.textContent : undefined;
    },
    undefined,
    { timeout: 10_000 },
  );
  const line = (await listed.jsonValue()) as string;
  console.log(`index page: ${line}`);
  expect(line).toMatch(/latency p50 \d+\.\d\d s, p95 \d+\.\d\d s \(e2e\)/);
  saveOutput("latency-reports.json", JSON.stringify({ live: later, cam: cam.v, sent, own, samples }, null, 1));
  expect(e2ePage.errors).toEqual([]);
  expect(bufferPage.errors).toEqual([]);
}, 90_000);
