/**
 * Browser benchmark: first-frame time after a join and steady-state live latency, per codec, in
 * Debian's headless Chromium against a Sluice process fed by ffmpeg's low-latency commands.
 *
 *   bun run bench/browser.ts [--joins 10] [--seconds 20] [--out bench/browser-results.md]
 *
 * For each scenario (H.264+AAC fMP4 with prft, VP8+Opus WebM, VP9+Opus WebM, AV1+Opus fMP4 with
 * prft, and H.264 again with the page's `?latency=0.3`), ffmpeg publishes testsrc2 640x360 at 25 fps
 * with a 2 s GOP (`-g 50`) over TCP. Then:
 *
 * - joins: `--joins` times, a fresh page opens `/watch/live` at a random point of the GOP (pauses of
 *   0.3–2.3 s between joins) and the page instrumentation (tests/browser/harness.ts) stamps the
 *   WebSocket `open`, the first frame decoded (totalVideoFrames > 0) and the first frame presented
 *   (requestVideoFrameCallback). Reported: p50 / p90 / max of presented − WebSocket open, and of
 *   presented − navigation start (`performance.timeOrigin`; the page and the player module come
 *   from the browser's HTTP cache after the first join, as for a returning viewer).
 * - naive page (first scenario): alternating with those joins, as many joins of a minimal
 *   single-file MSE page (bench/lib/naive-page.ts, served from its own port) that plays the same
 *   Sluice WebSocket; reported side by side: first frame after navigation, goal ≤ 250 ms (p50).
 * - latency: one page, 5 s to settle, then the player is sampled every 250 ms for `--seconds`:
 *   median `player.latency` of kind "e2e" (fMP4 with prft: the frame's display time − the time
 *   ffmpeg wrote its fragment, from the `prft` box), median buffer latency (buffered end −
 *   currentTime), fragment duration, and "encode → display" = e2e + one fragment duration (ffmpeg
 *   stamps prft when it writes a fragment, one fragment after its first frame was encoded; checked
 *   against the arrival times on a TCP socket: arrival − prft ≈ 0–1 ms).
 *
 * Takes about 4 minutes with the defaults (5 scenarios × ~45 s); `--joins 1 --seconds 1` is a
 * quick check that it runs.
 *
 * Results: bench/browser-results.md (or `--out`, a path from the repo root) with the machine, date and
 * command at its top, then the table; also printed to stdout. Raw samples go to
 * test-output/browser/browser-bench.json (git-ignored). Not run by the tests. The browser launch,
 * page instrumentation, player probes and publisher commands are the browser tests' own
 * (tests/browser/harness.ts); Sluice runs as its own process (bench/lib/processes.ts, log in
 * `.bench-tmp/logs/browser-sluice.log`).
 */

import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Page } from "playwright-core";
import {
  CHROMIUM,
  type Codec,
  launchBrowser,
  marks,
  median,
  openPlayerPage,
  publisherArgs,
  sample,
  saveOutput,
  waitFor,
} from "../tests/browser/harness.ts";
import { runFfmpeg } from "../tests/helpers/ffmpeg.ts";
import { machineInfo } from "./lib/machine.ts";
import { startNaivePage } from "./lib/naive-page.ts";
import { killAll, ROOT, startServer, stop } from "./lib/processes.ts";
import { percentile } from "./lib/stats.ts";

const { values: opts } = parseArgs({
  options: {
    joins: { type: "string", default: "10" },
    seconds: { type: "string", default: "20" },
    out: { type: "string", default: "bench/browser-results.md" },
    /** Comma-separated scenario ids to run (default: all): h264-frame, h264, vp8-frame, vp8, vp9, av1, h264-0.3. */
    scenarios: { type: "string", default: "" },
  },
});
const JOINS = Number(opts.joins);
const SECONDS = Number(opts.seconds);

interface Scenario {
  id: string;
  name: string;
  codec: Codec;
  prft: boolean;
  /** Page query string (e.g. a target latency). */
  query: string;
  /** Also join the naive single-file MSE page, alternating with Sluice's page. */
  naive?: boolean;
  /** fMP4: a fragment per frame (the README's default) or ~100 ms. */
  fragment?: "frame" | "100ms";
}

const ALL_SCENARIOS: Scenario[] = [
  { id: "h264-frame", name: "H.264 + AAC, fMP4 per frame (prft)", codec: "h264", prft: true, query: "", naive: true, fragment: "frame" },
  { id: "h264", name: "H.264 + AAC, fMP4 100 ms (prft)", codec: "h264", prft: true, query: "" },
  { id: "vp8-frame", name: "VP8 + Opus, WebM per frame", codec: "vp8", prft: false, query: "", fragment: "frame" },
  { id: "vp8", name: "VP8 + Opus, WebM 100 ms", codec: "vp8", prft: false, query: "" },
  { id: "vp9", name: "VP9 + Opus, WebM", codec: "vp9", prft: false, query: "" },
  { id: "av1", name: "AV1 (SVT-AV1) + Opus, fMP4 100 ms (prft)", codec: "av1", prft: true, query: "" },
  { id: "h264-0.3", name: "H.264 + AAC, fMP4 100 ms (prft), `?latency=0.3`", codec: "h264", prft: true, query: "?latency=0.3" },
];
const wanted = opts.scenarios ? new Set(opts.scenarios.split(",")) : undefined;
const SCENARIOS = ALL_SCENARIOS.filter((s) => !wanted || wanted.has(s.id));
if (SCENARIOS.length === 0) throw new Error(`--scenarios: none of ${opts.scenarios}; ids: ${ALL_SCENARIOS.map((s) => s.id).join(", ")}`);

const PUBLISH = { size: "640x360", gop: 50, kbps: 1000 };

interface JoinResult {
  wsToPresented: number;
  wsToDecoded: number;
  navToPresented: number;
  navToWs: number;
}

interface LatencyResult {
  e2e: number;
  e2eP95: number;
  buffer: number;
  target: number;
  fragment: number;
  kinds: string[];
  dropped: number;
  jumps: number;
  nudges: number;
}

/** Nearest-rank quantile of the finite values (p50 of 10 values: the 5th; p90: the 9th). */
const quantile = (xs: number[], q: number): number => percentile(xs.filter(Number.isFinite), q);

/** p50 of navigation start → first frame presented, in whole ms. */
function navP50(joins: JoinResult[]): string {
  const nav = joins.map((j) => j.navToPresented);
  return quantile(nav, 0.5).toFixed(0);
}

async function waitLive(http: number): Promise<void> {
  const until = Date.now() + 20_000;
  for (;;) {
    const r = await fetch(`http://127.0.0.1:${http}/api/streams/live`).catch(() => undefined);
    if (r?.ok && ((await r.json()) as { live?: boolean }).live) return;
    if (Date.now() > until) throw new Error("the stream did not go live within 20 s");
    await Bun.sleep(100);
  }
}

async function join(context: Parameters<typeof openPlayerPage>[0], url: string): Promise<JoinResult> {
  const { page } = await openPlayerPage(context, url);
  try {
    const until = Date.now() + 10_000;
    for (;;) {
      const m = await marks(page);
      if (Number.isFinite(m.firstPresented) && Number.isFinite(m.firstDecoded)) {
        const nav = await page.evaluate(() => performance.timeOrigin);
        return {
          wsToPresented: m.firstPresented - m.wsOpen,
          wsToDecoded: m.firstDecoded - m.wsOpen,
          navToPresented: m.firstPresented - nav,
          navToWs: m.wsOpen - nav,
        };
      }
      if (Date.now() > until) throw new Error(`no first frame within 10 s: ${JSON.stringify(m)}`);
      await Bun.sleep(20);
    }
  } finally {
    await page.close();
  }
}

async function latency(page: Page): Promise<{ result: LatencyResult; trace: unknown[] }> {
  await waitFor(page, (p) => p.state === "playing" && p.frames > 0, 10_000, "playing");
  await Bun.sleep(5000);
  const trace = await sample(page, SECONDS * 1000);
  const e2e = trace.filter((p) => p.latencyKind === "e2e").map((p) => p.latency);
  const last = trace.at(-1)!;
  const first = trace[0]!;
  return {
    trace,
    result: {
      e2e: median(e2e),
      e2eP95: quantile(e2e, 0.95),
      buffer: median(trace.map((p) => p.bufferLength)),
      target: median(trace.map((p) => p.target)),
      fragment: median(trace.map((p) => p.fragmentInterval)),
      kinds: [...new Set(trace.map((p) => p.latencyKind))],
      dropped: last.dropped - first.dropped,
      jumps: last.jumps - first.jumps,
      nudges: last.nudges - first.nudges,
    },
  };
}

const m = machineInfo();
const machine = {
  nproc: m.nproc,
  cpu: m.cpuModel,
  chromium: Bun.spawnSync([CHROMIUM, "--version"]).stdout.toString().trim().split("\n")[0] ?? "?",
  ffmpeg: m.ffmpeg,
  bun: m.bun,
};

const server = await startServer("sluice", [], "browser-sluice.log");
const sluice = { http: server.httpPort, ingest: server.ingestPort };
const browser = await launchBrowser();
const naivePage = startNaivePage(`ws://127.0.0.1:${sluice.http}/ws/live`);
const rows: Array<{ s: Scenario; joins: JoinResult[]; naive: JoinResult[]; lat: LatencyResult }> = [];
const raw: Record<string, unknown> = {};
try {
  for (const s of SCENARIOS) {
    const ff = runFfmpeg(publisherArgs(s.codec, `tcp://127.0.0.1:${sluice.ingest}`, { ...PUBLISH, prft: s.prft, fragment: s.fragment }));
    try {
      await waitLive(sluice.http);
      await Bun.sleep(4000); // past encoder start-up
      const url = `http://127.0.0.1:${sluice.http}/watch/live${s.query}`;
      const joins: JoinResult[] = [];
      const naive: JoinResult[] = [];
      for (let i = 0; i < JOINS; i++) {
        joins.push(await join(browser.context, url));
        await Bun.sleep(300 + Math.random() * 2000);
        if (!s.naive) continue;
        naive.push(await join(browser.context, naivePage.url));
        await Bun.sleep(300 + Math.random() * 2000);
      }
      const { page } = await openPlayerPage(browser.context, url);
      const { result, trace } = await latency(page);
      await page.close();
      rows.push({ s, joins, naive, lat: result });
      raw[s.name] = { joins, naive, latency: result, trace };
      const ws = joins.map((j) => j.wsToPresented);
      if (s.naive)
        console.log(`${s.name}: first frame after navigation p50: Sluice's page ${navP50(joins)} ms, naive page ${navP50(naive)} ms`);
      console.log(
        `${s.name}: first frame p50 ${quantile(ws, 0.5).toFixed(0)} ms after WS open; e2e ${result.e2e.toFixed(3)} s, buffer ${result.buffer.toFixed(3)} s (target ${result.target.toFixed(2)})`,
      );
    } finally {
      ff.stop();
      await ff.done;
      await Bun.sleep(500);
    }
  }
} finally {
  await browser.close();
  naivePage.stop();
  await stop(server.proc);
  await killAll();
}

saveOutput("browser-bench.json", JSON.stringify({ machine, raw }, null, 1));

const ms = (x: number) => (Number.isFinite(x) ? `${Math.round(x)}` : "–");
const sec = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : "–");
const table = [
  "| scenario | first frame after WS open, ms: p50 / p90 / max | first frame after navigation start, ms: p50 / p90 | live latency e2e (prft), s: median / p95 | encode → display (e2e + fragment), s | buffer latency, s (median) | target, s | fragment, s | dropped frames / jumps / nudges during the window |",
  "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ...rows.map(({ s, joins, lat }) => {
    const ws = joins.map((j) => j.wsToPresented);
    const nav = joins.map((j) => j.navToPresented);
    return `| ${s.name} | ${ms(quantile(ws, 0.5))} / ${ms(quantile(ws, 0.9))} / ${ms(Math.max(...ws))} | ${ms(quantile(nav, 0.5))} / ${ms(quantile(nav, 0.9))} | ${sec(lat.e2e)} / ${sec(lat.e2eP95)} | ${sec(lat.e2e + lat.fragment)} | ${sec(lat.buffer)} | ${sec(lat.target)} | ${sec(lat.fragment)} | ${lat.dropped} / ${lat.jumps} / ${lat.nudges} |`;
  }),
];
const firstFrame = [
  "| page | navigation → first frame presented, ms: p50 / p90 / max | navigation → WebSocket open, ms: p50 | WebSocket open → first frame, ms: p50 |",
  "| --- | --- | --- | --- |",
  ...rows
    .filter((r) => r.s.naive)
    .flatMap(({ s, joins, naive }) =>
      [
        [`Sluice's \`/watch/live\` (${s.name})`, joins],
        ["naive single-file MSE page, same stream", naive],
      ].map(([label, js]) => {
        const j = js as JoinResult[];
        const nav = j.map((x) => x.navToPresented);
        const navToWs = j.map((x) => x.navToWs);
        const wsToPresented = j.map((x) => x.wsToPresented);
        return `| ${label} | ${ms(quantile(nav, 0.5))} / ${ms(quantile(nav, 0.9))} / ${ms(Math.max(...nav))} | ${ms(quantile(navToWs, 0.5))} | ${ms(quantile(wsToPresented, 0.5))} |`;
      }),
    ),
];
const decoded = rows
  .map(
    ({ s, joins }) =>
      `${s.id} ${ms(
        quantile(
          joins.map((j) => j.wsToDecoded),
          0.5,
        ),
      )}`,
  )
  .join(", ");
const navToWs = ms(
  quantile(
    rows.flatMap((r) => r.joins.map((j) => j.navToWs)),
    0.5,
  ),
);

const cmd = `${process.env.BENCH_SLUICE_MAIN ? `BENCH_SLUICE_MAIN=${process.env.BENCH_SLUICE_MAIN} ` : ""}bun run bench/browser.ts${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(" ")}` : ""}`;
const md = `# Browser benchmark: first frame and live latency

Measured by \`bench/browser.ts\` (not by the tests): Debian's headless Chromium (playwright-core) plays
a Sluice process fed over TCP by ffmpeg with the README's low-latency commands; everything on loopback.

- Date: ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC
- Machine: ${machine.nproc} cores, ${machine.cpu}
- ${machine.chromium}; ${machine.ffmpeg}; Bun ${machine.bun}
- Command: \`${cmd}\` (${JOINS} joins and ${SECONDS} s of latency samples per scenario)
- Publisher: testsrc2 ${PUBLISH.size} at 25 fps + a 440 Hz sine, ${PUBLISH.kbps} kbit/s video, keyframe every 2 s (\`-g 50 -keyint_min 50\`),
  \`tests/browser/harness.ts\` \`publisherArgs()\`: x264 \`-preset veryfast -tune zerolatency\`, fMP4
  \`empty_moov+default_base_moof+frag_keyframe+skip_trailer\` with \`+frag_every_frame\` ("per frame", the README's default) or
  \`-frag_duration 100000\` ("100 ms"), + \`-write_prft wallclock\`;
  libvpx / libvpx-vp9 \`-deadline realtime -cpu-used 8\` (VP9: \`-row-mt 1 -lag-in-frames 0\`), WebM \`-live 1 -cluster_time_limit 0\` (per frame) or \`100\`;
  libsvtav1 \`-preset 12\`. The player's target latency is automatic (measured arrival lateness + a decode margin: static/player/auto-target.ts) unless the row says otherwise.

${table.join("\n")}

## First frame after navigation: Sluice's page and a naive single-file MSE page

${JOINS} joins of each, alternating, same publisher, same browser profile (Sluice's page and player module
from the HTTP cache after its first join, the naive page never cached). The naive page
(\`bench/lib/naive-page.ts\`) opens the same WebSocket and a MediaSource at once, appends everything in order
and plays from the start of what is buffered (the GOP's keyframe): no live-edge control.
Goal: Sluice's page ≤ 250 ms (p50).

${firstFrame.join("\n")}

Goals: first frame under 0.5 s after the WebSocket opens; live latency under 0.5 s encode-to-display
with the low-latency commands (the best comparable relays sit at about 1 s).

How to read it:

- *First frame*: from the WebSocket \`open\` event to the first frame presented (requestVideoFrameCallback's
  presentation time) in a fresh page joining at a random point of the 2 s GOP; the server sends the init
  segment and the GOP cache at once and the player seeks into it. First frame *decoded* (totalVideoFrames > 0),
  p50 in ms: ${decoded}. Navigation start → WebSocket open: p50 ${navToWs} ms (page and player module from the
  HTTP cache after the first join).
- *e2e* is what the player reports as \`latency\` with kind "e2e": the display time of the frame on screen
  minus the wallclock ffmpeg wrote into the \`prft\` box of its fragment. ffmpeg stamps \`prft\` when it writes the
  fragment, one fragment after the fragment's first frame left the encoder, so *encode → display* adds one
  fragment duration. Neither includes time spent inside the encoder (none for x264 \`zerolatency\` and libvpx
  with no lag; SVT-AV1's default random-access structure holds a mini-GOP of frames —
  \`-svtav1-params pred-struct=1\` is its low-delay mode). WebM has no \`prft\`: only the buffer latency.
- *Buffer latency*: buffered end − currentTime, the part the player controls (target ± the sawtooth of
  fragment arrivals).
- Publisher, relay, browser and the benchmark share ${machine.nproc} cores.
`;
await Bun.write(resolve(ROOT, opts.out), md);
console.log(md);
