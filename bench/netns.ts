/**
 * Real-network benchmark (issue 13, part 6): viewers behind real links between Linux network
 * namespaces made by the benchmark itself (bench/lib/netns.ts). Needs root, iproute2, ethtool,
 * iputils-ping, python3, ffmpeg and Debian's Chromium.
 *
 *   bun run bench/netns.ts [--seconds 20] [--viewers 500] [--scenarios clean,jitter,loss,cap]
 *                          [--modes frame,100ms] [--loads 3] [--settle 5] [--fanout 100ms,frame,ffmpeg-frame]
 *                          [--wait-load 2] [--out bench/results/netns.md]
 *   bun run bench/netns.ts --cleanup      (only removes namespaces left by a killed run)
 *
 * 1. Browser phase. Sluice runs in the server namespace; one ffmpeg there encodes testsrc2 1280x720
 *    at 30 fps (x264 veryfast zerolatency, 2 s GOP, 3.8 Mbit/s ABR without VBV, so 100 ms windows
 *    peak above 5 Mbit/s, measured in the results; AAC 128k) once and publishes it twice on loopback through ffmpeg's tee
 *    muxer: over RTMP (stream `frame`: Sluice remuxes one fragment per video frame, the default
 *    `--remux-fragment frame`) and as fMP4 with ~100 ms fragments and `-write_prft wallclock` over TCP
 *    (stream `f100`). Chromium runs in the viewer namespace, behind the link emulator
 *    (bench/child/link-emulator.py) and, for `cap`, a `tbf` rate limit. Per scenario and mode:
 *    `--loads` page loads with the HTTP cache cleared (first frame = navigation start → first
 *    presented frame), the last page then settles `--settle` s and is sampled every 250 ms for
 *    `--seconds`: e2e latency p50/p95 (the player's prft-based figure), stalls (`waiting` events
 *    while playing) and freezes (> 250 ms between presented frames) per minute.
 * 2. Fan-out phase. `--viewers` WebSocket viewers (bench/child/clients.ts, 4 processes) in the load
 *    namespace behind a plain veth, against Sluice and then the node + ws baseline relay
 *    (bench/child/baseline-relay.mjs, its listen address widened to 0.0.0.0 by a preload, nothing
 *    else changed), each fed by bench/child/publisher.ts replaying a 4 Mbit/s 720p25 recording on
 *    the server's loopback: server CPU seconds per delivered GB, losses, publisher→viewer latency.
 *    `--fanout` picks the recordings, all the same media: `100ms` (ffmpeg's ~100 ms fragments),
 *    `frame` (Sluice's own per-frame remux of it), `ffmpeg-frame` (ffmpeg's `frag_every_frame`);
 *    `--viewers 0` skips the phase.
 *
 * Results: a markdown file with command, machine, date, load average and commit; logs in
 * `.bench-tmp/logs/netns-*.log`. Namespaces and every process in them are removed at the end, on
 * failure and on SIGINT/SIGTERM/SIGHUP (`--cleanup` after a SIGKILL). Not run by the tests.
 */

import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { BrowserContext, Page } from "playwright-core";
import { createParser } from "../src/container/index.ts";
import type { ClientConfig, ClientResult } from "./child/clients.ts";
import type { PublisherConfig } from "./child/publisher.ts";
import { wallMs } from "./lib/clock.ts";
import { machineInfo } from "./lib/machine.ts";
import {
  type EmulatorCounts,
  inNs,
  type LinkSpec,
  pingRtt,
  rateCapStats,
  requireNetTools,
  setRateCap,
  setUp,
  startEmulator,
  tearDown,
  topology,
} from "./lib/netns.ts";
import { BUN, clientsDone, cpuSeconds, lineReader, machineJiffies, ROOT, spawnChild, stop } from "./lib/processes.ts";
import { ensureRecordings, fragmentsFor, loadPlan, type Plan, TMP } from "./lib/recording.ts";
import { fmt, median, percentile, table } from "./lib/stats.ts";

const { values: opts } = parseArgs({
  options: {
    seconds: { type: "string", default: "20" },
    viewers: { type: "string", default: "500" },
    scenarios: { type: "string", default: "clean,jitter,loss,cap" },
    modes: { type: "string", default: "frame,100ms" },
    loads: { type: "string", default: "3" },
    settle: { type: "string", default: "5" },
    fanout: { type: "string", default: "100ms,frame,ffmpeg-frame" },
    out: { type: "string", default: "bench/results/netns.md" },
    prefix: { type: "string", default: "slnb" },
    cleanup: { type: "boolean", default: false },
    "wait-load": { type: "string", default: "0" },
  },
});
const SECONDS = Number(opts.seconds);
const VIEWERS = Number(opts.viewers);
const LOADS = Math.max(1, Number(opts.loads));
const SETTLE = Number(opts.settle);
const CLIENT_PROCS = 4;
const PROBE_MS = 8000;
const list = (s: string) => s.split(",").filter(Boolean);

const SCENARIOS: Record<string, { label: string; link: LinkSpec }> = {
  clean: { label: "clean, 1 ms", link: { delayMs: 1, jitterMs: 0, loss: 0, capMbit: 0 } },
  jitter: { label: "40 ms ± 10 ms", link: { delayMs: 40, jitterMs: 10, loss: 0, capMbit: 0 } },
  loss: { label: "80 ms, 1 % loss", link: { delayMs: 80, jitterMs: 0, loss: 0.01, capMbit: 0 } },
  cap: { label: "1 ms, 5 Mbit/s cap", link: { delayMs: 1, jitterMs: 0, loss: 0, capMbit: 5 } },
};
const MODES: Record<string, { label: string; stream: string }> = {
  frame: { label: "per-frame (RTMP → remux)", stream: "frame" },
  "100ms": { label: "100 ms (ffmpeg fMP4)", stream: "f100" },
};
for (const s of list(opts.scenarios)) if (!SCENARIOS[s]) throw new Error(`unknown scenario ${s} (${Object.keys(SCENARIOS)})`);
for (const m of list(opts.modes)) if (!MODES[m]) throw new Error(`unknown mode ${m} (${Object.keys(MODES)})`);
const FANOUT_VARIANTS = ["100ms", "frame", "ffmpeg-frame"];
for (const v of list(opts.fanout)) if (!FANOUT_VARIANTS.includes(v)) throw new Error(`unknown fan-out variant ${v} (${FANOUT_VARIANTS})`);

const T = topology(opts.prefix);
const SLUICE_MAIN = process.env.BENCH_SLUICE_MAIN || "src/main.ts";
const HTTP = 8080;
const started = Date.now();
const say = (msg: string) => console.error(`[netns ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${msg}`);

// ---------------------------------------------------------------- servers in the server namespace

async function waitHttp(proc: { exitCode: number | null }, url: string, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (
    !(await fetch(url).then(
      () => true,
      () => false,
    ))
  ) {
    if (proc.exitCode !== null) throw new Error(`${what} exited with ${proc.exitCode} at start`);
    if (Date.now() > deadline) throw new Error(`${what} did not answer ${url} within 30 s`);
    await Bun.sleep(100);
  }
}

const BENCH_LIMITS = ["--max-viewers-per-address", "1000000", "--viewer-total-buffer-bytes", "64GiB", "--log-level", "warn"];

async function startSluice(httpPort: number, args: string[], log: string) {
  const proc = spawnChild(
    inNs(T.srv, [BUN, "run", SLUICE_MAIN, "--http-host", "0.0.0.0", "--http-port", String(httpPort), ...BENCH_LIMITS, ...args]),
    {
      log,
    },
  );
  await waitHttp(proc, `http://${T.srvControl}:${httpPort}/healthz`, "Sluice");
  return proc;
}

/** The baseline binds 127.0.0.1; this preload makes its listeners bind 0.0.0.0 so the load namespace reaches it. */
const BASELINE_ANY_ADDRESS = `import net from "node:net";
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...a) {
  if (a[1] === "127.0.0.1") a[1] = "0.0.0.0";
  return listen.apply(this, a);
};
await import(${JSON.stringify(pathToFileURL(resolve(ROOT, "bench/child/baseline-relay.mjs")).href)});`;

async function startBaseline(httpPort: number, ingestPort: number, log: string) {
  const cmd = ["node", "--input-type=module", "-e", BASELINE_ANY_ADDRESS, "argv1", String(httpPort), String(ingestPort)];
  const proc = spawnChild(inNs(T.srv, cmd), { log });
  await waitHttp(proc, `http://${T.srvControl}:${httpPort}/`, "baseline relay");
  return proc;
}

interface StreamApi {
  live?: boolean;
  bytesIn?: number;
}
const streamApi = (name: string): Promise<StreamApi> =>
  fetch(`http://${T.srvControl}:${HTTP}/api/streams/${name}`).then(
    (r) => (r.ok ? (r.json() as Promise<StreamApi>) : {}),
    () => ({}),
  );

// ---------------------------------------------------------------- the live publisher

const PUBLISHER = [
  "-hide_banner",
  "-loglevel",
  "warning",
  "-nostdin",
  "-re",
  "-f",
  "lavfi",
  "-i",
  "testsrc2=size=1280x720:rate=30:duration=7200",
  "-re",
  "-f",
  "lavfi",
  "-i",
  "sine=frequency=440:sample_rate=48000:duration=7200",
  "-map",
  "0:v",
  "-map",
  "1:a",
  "-c:v",
  "libx264",
  "-preset",
  "veryfast",
  "-tune",
  "zerolatency",
  "-pix_fmt",
  "yuv420p",
  "-g",
  "60",
  "-keyint_min",
  "60",
  "-sc_threshold",
  "0",
  "-b:v",
  "3800k",
  "-c:a",
  "aac",
  "-b:a",
  "128k",
  "-flags",
  "+global_header",
  "-f",
  "tee",
  "[f=flv]rtmp://127.0.0.1:1935/live/frame|[f=mp4:movflags=empty_moov+default_base_moof+frag_keyframe+skip_trailer:frag_duration=100000:write_prft=wallclock]tcp://127.0.0.1:9090",
];

/**
 * A WebSocket viewer in the root namespace over the control link (no emulator) for `ms`: per
 * fragment its bytes, decode time and arrival − the prft wallclock of its first sample (for the
 * remuxed stream Sluice stamps the arrival of the frame; ffmpeg stamps when it writes the fragment).
 */
async function probeStream(name: string, ms: number) {
  const parser = createParser("fmp4", { maxElementBytes: 64 << 20 });
  const frags: Array<{ bytes: number; t: number; lag: number; key: boolean }> = [];
  const ws = new WebSocket(`ws://${T.srvControl}:${HTTP}/ws/${name}`);
  ws.binaryType = "arraybuffer";
  ws.onmessage = (ev) => {
    if (typeof ev.data === "string") return;
    const at = wallMs();
    for (const e of parser.push(new Uint8Array(ev.data as ArrayBuffer))) {
      if (e.type !== "fragment") continue;
      const stamped =
        e.prftWallclockMs === undefined ? Number.NaN : e.prftWallclockMs + ((e.decodeTime - (e.prftMediaTime ?? 0)) / e.timescale) * 1000;
      frags.push({ bytes: e.bytes.byteLength, t: e.decodeTime / e.timescale, lag: at - stamped, key: e.keyframe });
    }
  };
  await Bun.sleep(ms);
  ws.close();
  // The GOP cache's fragments (up to one 2 s GOP) arrive at once on joining: leave them out.
  const live = frags.filter((f) => f.t > frags[0]!.t + 2.1);
  const span = live.length > 1 ? live.at(-1)!.t - live[0]!.t : Number.NaN;
  const bytes = live.slice(0, -1).reduce((n, f) => n + f.bytes, 0);
  /** Largest rate over any window of `w` seconds of media time (fragment granularity). */
  const peak = (w: number) => {
    let best = 0;
    for (let i = 0, j = 0, sum = 0; i < live.length; i++) {
      sum += live[i]!.bytes;
      while (live[i]!.t - live[j]!.t >= w) sum -= live[j++]!.bytes;
      best = Math.max(best, sum);
    }
    return (best * 8) / w / 1e6;
  };
  return {
    fragmentsPerS: (live.length - 1) / span,
    meanMbps: (bytes * 8) / span / 1e6,
    peak100msMbps: peak(0.1),
    peak1sMbps: peak(1),
    maxKeyframeKB: Math.max(0, ...live.filter((f) => f.key).map((f) => f.bytes)) / 1024,
    lagP50: percentile(
      live.map((f) => f.lag),
      0.5,
    ),
    lagP95: percentile(
      live.map((f) => f.lag),
      0.95,
    ),
  };
}
type StreamProbe = Awaited<ReturnType<typeof probeStream>>;

// ---------------------------------------------------------------- the browser phase

/** Counts `waiting` events while playing (stalls) and gaps of more than 250 ms between presented frames (freezes). */
const STALLS = `(() => {
  const s = (window.__netns = { waiting: 0, stalledMs: 0, waitingAt: NaN, freezes: 0, frozenMs: 0 });
  customElements.whenDefined("sluice-player").then(() => {
    const v = document.querySelector("sluice-player").video;
    let started = false;
    let last = NaN;
    v.addEventListener("playing", () => {
      started = true;
      if (!Number.isNaN(s.waitingAt)) { s.stalledMs += performance.now() - s.waitingAt; s.waitingAt = NaN; }
    });
    v.addEventListener("waiting", () => {
      if (started && !v.seeking && Number.isNaN(s.waitingAt)) { s.waiting++; s.waitingAt = performance.now(); }
    });
    const frame = (_now, meta) => {
      if (!Number.isNaN(last) && meta.presentationTime - last > 250) { s.freezes++; s.frozenMs += meta.presentationTime - last; }
      last = meta.presentationTime;
      v.requestVideoFrameCallback(frame);
    };
    v.requestVideoFrameCallback(frame);
  });
})();`;

interface StallMarks {
  waiting: number;
  stalledMs: number;
  freezes: number;
  frozenMs: number;
}
const stallMarks = (page: Page): Promise<StallMarks> =>
  page.evaluate(() => {
    const s = (window as unknown as { __netns: StallMarks & { waitingAt: number } }).__netns;
    return { ...s, stalledMs: s.stalledMs + (Number.isNaN(s.waitingAt) ? 0 : performance.now() - s.waitingAt) };
  });

interface CaseResult {
  scenario: string;
  mode: string;
  firstFrameMs: number[];
  wsOpenMs: number[];
  e2e: number[];
  fragmentS: number;
  target: number;
  minutes: number;
  stalls: number;
  stalledS: number;
  freezes: number;
  frozenS: number;
  dropped: number;
  decoded: number;
  jumps: number;
  /** Both cores' busy share while sampling (the machine may be shared). */
  busyPct: number;
  errors: string[];
}

type Harness = typeof import("../tests/browser/harness.ts");

async function clearCache(context: BrowserContext): Promise<void> {
  const page = context.pages()[0] ?? (await context.newPage());
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.clearBrowserCache");
  await cdp.detach();
}

const emptyCase = (scenario: string, mode: string): CaseResult => ({
  scenario,
  mode,
  firstFrameMs: [],
  wsOpenMs: [],
  e2e: [],
  fragmentS: Number.NaN,
  target: Number.NaN,
  minutes: 0,
  stalls: 0,
  stalledS: 0,
  freezes: 0,
  frozenS: 0,
  dropped: Number.NaN,
  decoded: Number.NaN,
  jumps: Number.NaN,
  busyPct: Number.NaN,
  errors: [],
});

async function runCase(h: Harness, context: BrowserContext, r: CaseResult): Promise<void> {
  const url = `http://${T.srvViaEmu}:${HTTP}/watch/${MODES[r.mode]!.stream}`;
  let page: Page | undefined;
  try {
    for (let i = 0; i < LOADS; i++) {
      await clearCache(context);
      const opened = await h.openPlayerPage(context, url, [STALLS]);
      page = opened.page;
      const until = Date.now() + 20_000;
      let m = await h.marks(page);
      while (!Number.isFinite(m.firstPresented) && Date.now() < until) {
        await Bun.sleep(100);
        m = await h.marks(page);
      }
      r.firstFrameMs.push(m.firstPresented - opened.openedAt);
      r.wsOpenMs.push(m.wsOpen - opened.openedAt);
      r.errors.push(...opened.errors);
      if (i < LOADS - 1) {
        await page.close();
        page = undefined;
        await Bun.sleep(300 + Math.random() * 1500); // join at another point of the GOP
      }
    }
    await h.waitFor(page!, (p) => p.state === "playing" && p.frames > 0, 20_000, "playing");
    await Bun.sleep(SETTLE * 1000);
    const s0 = await stallMarks(page!);
    const j0 = machineJiffies();
    const trace = await h.sample(page!, SECONDS * 1000);
    const j1 = machineJiffies();
    const s1 = await stallMarks(page!);
    r.busyPct = (100 * (j1.busy - j0.busy)) / (j1.total - j0.total);
    const a = trace[0]!;
    const b = trace.at(-1)!;
    r.e2e = trace.filter((p) => p.latencyKind === "e2e" && Number.isFinite(p.latency)).map((p) => p.latency);
    r.fragmentS = median(trace.map((p) => p.fragmentInterval));
    r.target = median(trace.map((p) => p.target));
    r.minutes = (b.at - a.at) / 60_000;
    r.stalls = s1.waiting - s0.waiting;
    r.stalledS = (s1.stalledMs - s0.stalledMs) / 1000;
    r.freezes = s1.freezes - s0.freezes;
    r.frozenS = (s1.frozenMs - s0.frozenMs) / 1000;
    r.dropped = b.dropped - a.dropped;
    r.decoded = b.frames - a.frames;
    r.jumps = b.jumps - a.jumps;
  } finally {
    await page?.close();
  }
}

interface ScenarioLink {
  scenario: string;
  ping: ReturnType<typeof pingRtt>;
  counts: Record<string, EmulatorCounts>;
  emulatorCpuPct: number;
  cap: string;
}

async function browserPhase(): Promise<{
  cases: CaseResult[];
  links: ScenarioLink[];
  probes: Record<string, StreamProbe>;
  chromium: string;
}> {
  const cases: CaseResult[] = [];
  const links: ScenarioLink[] = [];
  const probes: Record<string, StreamProbe> = {};
  say("Sluice and the ffmpeg publisher in the server namespace");
  const sluice = await startSluice(
    HTTP,
    ["--ingest-host", "127.0.0.1", "--ingest-port", "9090", "--ingest-stream", "f100", "--rtmp-host", "127.0.0.1", "--rtmp-port", "1935"],
    "netns-sluice.log",
  );
  const ff = spawnChild(inNs(T.srv, ["ffmpeg", ...PUBLISHER]), { log: "netns-ffmpeg.log" });
  // Chromium runs in the viewer namespace: playwright talks to it over a pipe, which crosses namespaces.
  const wrapper = resolve(TMP, "netns-chromium.sh");
  mkdirSync(TMP, { recursive: true });
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${T.view} ${process.env.SLUICE_CHROMIUM ?? "/usr/bin/chromium"} "$@"\n`);
  chmodSync(wrapper, 0o755);
  process.env.SLUICE_CHROMIUM = wrapper;
  const h: Harness = await import("../tests/browser/harness.ts");
  const chromium = Bun.spawnSync([wrapper, "--version"]).stdout.toString().trim();
  let browser: Awaited<ReturnType<Harness["launchBrowser"]>> | undefined;
  let emu: Awaited<ReturnType<typeof startEmulator>> | undefined;
  try {
    const until = Date.now() + 30_000;
    while (!(await streamApi("frame")).live || !(await streamApi("f100")).live) {
      if (ff.exitCode !== null) throw new Error(`ffmpeg exited with ${ff.exitCode} (see .bench-tmp/logs/netns-ffmpeg.log)`);
      if (Date.now() > until) throw new Error("the streams were not live within 30 s");
      await Bun.sleep(200);
    }
    await Bun.sleep(2000);
    for (const m of list(opts.modes)) {
      say(`stream probe ${m} (${PROBE_MS / 1000} s, control link)`);
      probes[m] = await probeStream(MODES[m]!.stream, PROBE_MS);
    }
    browser = await h.launchBrowser();
    for (const s of list(opts.scenarios)) {
      const { link, label } = SCENARIOS[s]!;
      setRateCap(T, link.capMbit);
      emu = await startEmulator(T, link, `netns-emulator-${s}.log`);
      const ping = pingRtt(T, 20);
      say(`${label}: ping ${ping.min}/${ping.avg}/${ping.max} ms, loss ${(ping.loss * 100).toFixed(0)} %`);
      for (const m of list(opts.modes)) {
        say(`  ${MODES[m]!.label}`);
        const r = emptyCase(s, m);
        cases.push(r);
        try {
          await runCase(h, browser.context, r);
          say(
            `    first frame ${r.firstFrameMs.map((x) => x.toFixed(0)).join("/")} ms, e2e p50/p95 ${fmt(percentile(r.e2e, 0.5), 3)}/${fmt(percentile(r.e2e, 0.95), 3)} s, stalls ${r.stalls}, freezes ${r.freezes}`,
          );
        } catch (e) {
          r.errors.push((e as Error).message.split("\n")[0]!);
          say(`    FAILED: ${r.errors.at(-1)}`);
        }
      }
      const cap = rateCapStats(T);
      const stopped = await emu.stop();
      links.push({ scenario: s, ping, counts: stopped.counts, emulatorCpuPct: stopped.cpuPct, cap });
      emu = undefined;
      setRateCap(T, 0);
    }
  } finally {
    await emu?.stop();
    await browser?.close();
    await stop(ff);
    await stop(sluice);
  }
  return { cases, links, probes, chromium };
}

// ---------------------------------------------------------------- the fan-out phase

interface FanRow {
  server: "sluice" | "baseline";
  variant: string;
  opened: number;
  fragmentsPerS: number;
  deliveredGB: number;
  deliveredMBps: number;
  cpuS: number;
  cpuPerGB: number;
  missing: number;
  corrupt: number;
  latency: { p50: number; p99: number };
  machineBusyPct: number;
  clientCpuS: number;
}

const split = (n: number, k: number) => Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0)).filter((x) => x > 0);
let nextPort = 8100;

async function fanout(server: "sluice" | "baseline", variant: string, plan: Plan): Promise<FanRow> {
  const tag = `netns-fanout-${variant}-${server}`;
  const httpPort = nextPort++;
  const ingestPort = nextPort++;
  const frags = fragmentsFor(plan, SECONDS);
  const proc =
    server === "sluice"
      ? await startSluice(
          httpPort,
          ["--ingest-host", "127.0.0.1", "--ingest-port", String(ingestPort), "--rtmp-port", "off"],
          `${tag}-server.log`,
        )
      : await startBaseline(httpPort, ingestPort, `${tag}-server.log`);
  const clients: Array<{ proc: ReturnType<typeof spawnChild>; lines: ReturnType<typeof lineReader>; out: string }> = [];
  let publisher: ReturnType<typeof spawnChild> | undefined;
  try {
    const url = server === "sluice" ? `ws://${T.srvViaLoad}:${httpPort}/ws` : `ws://${T.srvViaLoad}:${httpPort}/`;
    split(VIEWERS, CLIENT_PROCS).forEach((count, i) => {
      const out = resolve(TMP, `${tag}-clients${i}.json`);
      const cfg: ClientConfig = {
        url,
        count,
        mode: server,
        recording: plan.path,
        seconds: SECONDS,
        out,
        hardTimeoutMs: (SECONDS + 120) * 1000,
      };
      const p = spawnChild(inNs(T.load, [BUN, "bench/child/clients.ts", JSON.stringify(cfg)]), {
        stdin: "pipe",
        stdout: "pipe",
        log: `${tag}-clients${i}.log`,
      });
      clients.push({ proc: p, lines: lineReader(p), out });
    });
    const ready = await Promise.all(clients.map((c) => c.lines.next((l) => l.startsWith("ready"), 90_000, "clients ready")));
    const opened = ready.reduce((n, l) => n + Number(l.split(" ")[1]), 0);
    await Bun.sleep(1000);
    const cpu0 = cpuSeconds(proc.pid);
    const m0 = machineJiffies();
    const pubOut = resolve(TMP, `${tag}-publisher.json`);
    const pcfg: PublisherConfig = { recording: plan.path, port: ingestPort, seconds: SECONDS, out: pubOut };
    publisher = spawnChild(inNs(T.srv, [BUN, "bench/child/publisher.ts", JSON.stringify(pcfg)]), { log: `${tag}-publisher.log` });
    const timer = setTimeout(() => publisher?.kill(), (SECONDS + 30) * 1000);
    const code = await publisher.exited;
    clearTimeout(timer);
    if (code !== 0) throw new Error(`publisher failed (.bench-tmp/logs/${tag}-publisher.log)`);
    await clientsDone(clients);
    const cpu1 = cpuSeconds(proc.pid);
    const m1 = machineJiffies();
    await Promise.all(clients.map((c) => Promise.race([c.proc.exited, Bun.sleep(10_000)])));
    const pub = (await Bun.file(pubOut).json()) as { start: number; written: Array<[number, number]> };
    const results = await Promise.all(clients.map(async (c) => (await Bun.file(c.out).json()) as ClientResult));
    const written = new Map(pub.written);
    const lat: number[] = [];
    let last = pub.start;
    for (const res of results) {
      for (const arr of res.arrivals) {
        arr.forEach((t, i) => {
          if (t === null) return;
          last = Math.max(last, t);
          if (frags[i]!.time >= 2) lat.push(t - written.get(frags[i]!.seq)!);
        });
      }
    }
    const delivered = results.reduce((n, x) => n + x.bytes, 0);
    const cpuS = cpu1.user + cpu1.sys - cpu0.user - cpu0.sys;
    return {
      server,
      variant,
      opened,
      fragmentsPerS: frags.length / SECONDS,
      deliveredGB: delivered / 1e9,
      deliveredMBps: delivered / 1e6 / ((last - pub.start) / 1000),
      cpuS,
      cpuPerGB: cpuS / (delivered / 1e9),
      missing: results.reduce((n, x) => n + x.missing, 0) + (VIEWERS - opened) * frags.length,
      corrupt: results.reduce((n, x) => n + x.corrupt, 0),
      latency: { p50: percentile(lat, 0.5), p99: percentile(lat, 0.99) },
      machineBusyPct: (100 * (m1.busy - m0.busy)) / (m1.total - m0.total),
      clientCpuS: results.reduce((n, x) => n + x.cpuSeconds, 0),
    };
  } finally {
    if (publisher) await stop(publisher);
    await Promise.all(clients.map((c) => stop(c.proc)));
    await stop(proc);
  }
}

/**
 * The fan-out recordings, all the same coded media (the bench's 720p25 H.264 + AAC, 4 Mbit/s):
 * - `100ms`: as made by bench/lib/recording.ts (ffmpeg, ~100 ms fragments);
 * - `frame`: Sluice's own per-frame remux (`--remux-fragment frame`, what an RTMP or MPEG-TS
 *   publisher's viewers get): the media copied to MPEG-TS by ffmpeg, then cut by Sluice's MPEG-TS
 *   parser into one fMP4 fragment per video frame, written out as a file;
 * - `ffmpeg-frame`: ffmpeg's `frag_every_frame` (a fragment at every packet, audio packets too).
 * Made once into .bench-tmp/.
 */
async function fanoutRecording(variant: string, src: string): Promise<string> {
  if (variant === "100ms") return src;
  const path = resolve(TMP, `netns-h264-aac-720p-${variant}.mp4`);
  if (await Bun.file(path).exists()) return path;
  const ffmpeg = (args: string[]) => {
    const r = Bun.spawnSync(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", src, "-c", "copy", ...args], { timeout: 120_000 });
    if (r.exitCode !== 0) throw new Error(`ffmpeg for the ${variant} recording: ${r.stderr.toString()}`);
    return r.stdout;
  };
  if (variant === "ffmpeg-frame") {
    ffmpeg(["-f", "mp4", "-movflags", "empty_moov+default_base_moof+frag_every_frame+skip_trailer", path]);
  } else if (variant === "frame") {
    const ts = ffmpeg(["-f", "mpegts", "pipe:1"]);
    const parser = createParser("mpegts", { maxElementBytes: 64 << 20, remuxFragment: "frame" });
    const events = [...parser.push(new Uint8Array(ts)), ...parser.end()];
    writeFileSync(path, Buffer.concat(events.map((e) => e.bytes)));
  } else throw new Error(`unknown fan-out variant ${variant} (100ms, frame, ffmpeg-frame)`);
  return path;
}

async function fanoutPhase(): Promise<FanRow[]> {
  const rows: FanRow[] = [];
  const paths = await ensureRecordings();
  for (const variant of list(opts.fanout)) {
    const plan = await loadPlan(await fanoutRecording(variant, paths.fmp4Small));
    for (const server of ["sluice", "baseline"] as const) {
      say(`fan-out ${variant}: ${VIEWERS} viewers in the load namespace, ${server}`);
      try {
        const r = await fanout(server, variant, plan);
        say(
          `  ${r.cpuPerGB.toFixed(2)} cpu-s/GB, ${r.deliveredMBps.toFixed(0)} MB/s, lost ${r.missing + r.corrupt}, machine ${r.machineBusyPct.toFixed(0)} % busy`,
        );
        rows.push(r);
      } catch (e) {
        say(`  FAILED: ${(e as Error).message}`);
      }
    }
  }
  return rows;
}

// ---------------------------------------------------------------- report

function report(b: Awaited<ReturnType<typeof browserPhase>> | undefined, fan: FanRow[], load0: number[], load1: number[]): string {
  const m = machineInfo();
  const sh = (c: string) => Bun.spawnSync(["bash", "-c", c], { cwd: ROOT }).stdout.toString().trim();
  const commit = `${sh("git rev-parse --short HEAD")}${sh("git status --porcelain src static | head -1") ? " + uncommitted changes in src/ or static/" : ""}`;
  const cmd = `bun run bench/netns.ts${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(" ")}` : ""}`;
  const out: string[] = [
    "# Real-network benchmark: viewers behind emulated links (network namespaces)",
    "",
    `- Date: ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC; ${((Date.now() - started) / 60_000).toFixed(1)} min`,
    `- Command: \`${cmd}\` (as root; ${SECONDS} s sampled per case after ${SETTLE} s to settle, ${LOADS} cold page loads per case)`,
    `- Machine: ${m.nproc} cores, ${m.cpuModel}, kernel ${m.kernel}; Bun ${m.bun}, node ${m.node}, ws ${m.ws}; ${m.ffmpeg}; ${b?.chromium ?? "Chromium not run"}`,
    `- Load average (1 min) at start / end: ${load0[0]!.toFixed(2)} / ${load1[0]!.toFixed(2)} — the machine is shared with other work; figures are from one run each`,
    `- Sluice: ${SLUICE_MAIN} at ${commit}`,
    "",
  ];
  if (b) {
    const probe = b.probes.frame ?? b.probes["100ms"];
    out.push(
      "## Browser: first frame, e2e latency and stalls",
      "",
      "Publisher (server namespace, loopback): one ffmpeg, testsrc2 1280x720 at 30 fps, x264 veryfast zerolatency,",
      "2 s GOP, 3.8 Mbit/s ABR with no VBV cap + AAC 128 kbit/s, `-re`, published twice through the tee muxer:",
      "RTMP to Sluice (stream `frame`, remuxed to one fragment per video frame) and fMP4 with",
      "`-movflags empty_moov+default_base_moof+frag_keyframe+skip_trailer -frag_duration 100000 -write_prft wallclock`",
      "over TCP (stream `f100`). Player: `/watch/<stream>` with its automatic target, in Chromium in the viewer namespace.",
      "",
    );
    if (probe) {
      out.push(
        `Stream as seen by a viewer on the server's control link (${Object.keys(b.probes).join(", ")}; ${PROBE_MS / 1000} s each, the joining GOP left out): mean ${fmt(probe.meanMbps, 2)} Mbit/s,`,
        `peaks ${fmt(probe.peak100msMbps, 1)} Mbit/s over 100 ms and ${fmt(probe.peak1sMbps, 2)} Mbit/s over 1 s, keyframes up to ${fmt(probe.maxKeyframeKB, 0)} KiB;`,
        ...Object.entries(b.probes).map(
          ([k, p]) =>
            `${MODES[k]!.label}: ${fmt(p.fragmentsPerS, 1)} fragments/s, arrival − prft stamp of the fragment's first sample p50 ${fmt(p.lagP50, 1)} ms, p95 ${fmt(p.lagP95, 1)} ms.`,
        ),
        "",
      );
    }
    const rows = b.cases.map((r) => {
      const enc = r.mode === "100ms" && Number.isFinite(r.fragmentS) ? r.fragmentS - 1 / 30 : 0;
      return [
        SCENARIOS[r.scenario]!.label,
        MODES[r.mode]!.label,
        r.firstFrameMs.length ? `${fmt(median(r.firstFrameMs), 0)} (${r.firstFrameMs.map((x) => fmt(x, 0)).join(", ")})` : "–",
        r.wsOpenMs.length ? fmt(median(r.wsOpenMs), 0) : "–",
        `${fmt(percentile(r.e2e, 0.5), 3)} / ${fmt(percentile(r.e2e, 0.95), 3)}`,
        `${fmt(percentile(r.e2e, 0.5) + enc, 3)} / ${fmt(percentile(r.e2e, 0.95) + enc, 3)}`,
        fmt(r.target, 2),
        r.minutes ? `${fmt(r.stalls / r.minutes, 1)} (${r.stalls}, ${fmt(r.stalledS, 2)} s)` : "–",
        r.minutes ? `${fmt(r.freezes / r.minutes, 1)} (${fmt(r.frozenS, 2)} s)` : "–",
        Number.isFinite(r.decoded) ? `${r.dropped} / ${r.decoded}` : "–",
        fmt(r.jumps, 0),
        `${fmt(r.busyPct, 0)} %`,
        [
          // The publisher makes 30 frames/s: far fewer decoded means Chromium was starved of CPU, not of data.
          r.minutes && r.decoded < 0.9 * 30 * 60 * r.minutes
            ? `CPU-starved: ${fmt((100 * r.decoded) / (30 * 60 * r.minutes), 0)} % of frames decoded`
            : "",
          ...r.errors.slice(0, 2),
        ]
          .filter(Boolean)
          .join("; ")
          .replaceAll("|", "/")
          .slice(0, 200),
      ];
    });
    out.push(
      table(
        [
          "link",
          "fragments",
          "first frame, ms: p50 (each load)",
          "WS open, ms",
          "e2e s: p50 / p95",
          "encoder out → display s: p50 / p95",
          "target s",
          "stalls/min (n, stalled)",
          "freezes/min (frozen)",
          "dropped / decoded",
          "jumps",
          "machine busy",
          "notes",
        ],
        rows,
      ),
      "",
      "- first frame: navigation start → first frame presented (requestVideoFrameCallback), HTTP cache cleared before",
      "  each load (page, player module and WebSocket all cross the emulated link; an open HTTP connection may be reused).",
      "- e2e: the player's own figure, display time − the prft wallclock of the frame. Sluice stamps a remuxed frame when",
      "  its last byte arrives; ffmpeg stamps an fMP4 fragment when it writes it (arrival − stamp above is ~0 for both), so",
      "  for 100 ms fragments the frames are older than e2e says by up to one fragment: the next column adds",
      "  (fragment duration − one frame) to the 100 ms rows; for per-frame rows it equals e2e. Neither includes encoding.",
      "- stalls: `waiting` events of the video element after playback started (not while seeking) during the sampled",
      "  window, with the time until `playing`; freezes: more than 250 ms between two presented frames (stalls,",
      "  seeks to the live edge and decoder hiccups alike). Per minute of the sampled window.",
      "- machine busy: both cores' busy share while sampling, this benchmark's own ffmpeg encode, Chromium decode,",
      "  Sluice and emulator included; 'CPU-starved' marks rows where Chromium decoded under 90 % of the 30 frames/s,",
      "  i.e. the figures there describe a starved browser more than the link.",
      "",
      "### The links",
      "",
      table(
        [
          "link",
          "ping RTT ms min / avg / max (20)",
          "emulator: frames lost (server→viewer, viewer→server)",
          "emulator lateness ms p50 / p99",
          "emulator CPU, % of a core",
          "tbf on server→viewer",
        ],
        b.links.map((l) => {
          const c = Object.values(l.counts);
          return [
            SCENARIOS[l.scenario]!.label,
            `${l.ping.min} / ${l.ping.avg} / ${l.ping.max}`,
            c.length === 2 ? `${c[0]!.lost} of ${c[0]!.frames}, ${c[1]!.lost} of ${c[1]!.frames}` : "–",
            c.length === 2 ? `${c[0]!.lateMs.p50} / ${c[0]!.lateMs.p99}` : "–",
            fmt(l.emulatorCpuPct, 1),
            l.cap || "none",
          ];
        }),
      ),
      "",
    );
  }
  if (fan.length) {
    out.push(
      `## Fan-out across the namespace boundary: ${VIEWERS} viewers`,
      "",
      `Server in the server namespace, ${VIEWERS} WebSocket viewers in ${CLIENT_PROCS} bench/child/clients.ts processes in the load`,
      "namespace over a direct veth pair (kernel only, offloads on, no emulator), bench/child/publisher.ts replaying",
      `${SECONDS} s of the bench's 720p25 H.264 + AAC recording (4 Mbit/s, \`-maxrate 4M -bufsize 1M\`) on the server's loopback.`,
      "`100ms`: the recording as made (100 ms fragments); `frame`: the same media cut by Sluice's own per-frame remuxer",
      "(copied to MPEG-TS, then Sluice's MPEG-TS parser with `remuxFragment: frame`: one fragment per video frame, what",
      "RTMP and MPEG-TS publishers' viewers get); `ffmpeg-frame`: the same media re-fragmented by ffmpeg with",
      "`-movflags empty_moov+default_base_moof+frag_every_frame+skip_trailer` (a fragment at every packet, audio too).",
      "Every variant is published as fMP4 over TCP, so Sluice relays the fragments as they are (no remux at run time).",
      "Baseline: bench/child/baseline-relay.mjs (node + ws) in the same run, its listen address widened to 0.0.0.0 by a",
      "preload (nothing else changed). CPU: the server process's user + system seconds from /proc while the publisher runs.",
      "",
      table(
        [
          "fragments",
          "server",
          "viewers open",
          "fragments/s",
          "delivered GB",
          "MB/s",
          "server CPU s",
          "CPU s per GB",
          "lost / corrupt",
          "latency ms p50 / p99",
          "machine busy",
          "client CPU s",
        ],
        fan.map((r) => [
          r.variant,
          r.server === "sluice" ? "Sluice" : "node + ws baseline",
          String(r.opened),
          fmt(r.fragmentsPerS, 1),
          fmt(r.deliveredGB, 2),
          fmt(r.deliveredMBps, 0),
          fmt(r.cpuS, 1),
          fmt(r.cpuPerGB, 2),
          `${r.missing} / ${r.corrupt}`,
          `${fmt(r.latency.p50, 1)} / ${fmt(r.latency.p99, 1)}`,
          `${fmt(r.machineBusyPct, 0)} %`,
          fmt(r.clientCpuS, 1),
        ]),
      ),
      "",
      "Latency here: publisher's write of a fragment's last byte → a viewer's receipt, fragments after the first 2 s.",
      "With both cores busy (see 'machine busy') the viewers' own CPU competes with the server's.",
      "",
    );
  }
  out.push(
    "## How the emulated link differs from a real one",
    "",
    "- Delay, jitter and loss come from bench/child/link-emulator.py, a user-space two-port wire in a middle namespace",
    "  (AF_PACKET raw sockets, frames copied unchanged; real-time priority). The stated delay is one-way and applies in",
    "  both directions (RTT = 2 × delay, see ping). Jitter is uniform per frame but a frame never leaves before the one",
    "  in front of it (no reordering, unlike netem's default), so the delay distribution is skewed above the mean.",
    "  Loss is independent per frame in both directions (1 % each way), with no bursts; a real lossy path loses in bursts.",
    "- The emulator adds its own scheduling error (lateness column; larger when the machine is loaded) and copies every",
    "  frame through user space. TSO/GSO/GRO and checksum offload are off on that path so frames are MTU-sized and",
    "  carry real checksums: the stacks do more per-packet work than with a real NIC. No serialisation delay except",
    "  under tbf; MTU 1500.",
    "- The 5 Mbit/s cap is a tbf on the emulator's egress towards the viewer (bucket 15140 bytes, queue ~100 ms,",
    "  tail drop), i.e. a shallow-buffered bottleneck; the reverse direction is uncapped.",
    "- All namespaces share one kernel and two cores with Chromium, ffmpeg, Sluice and the emulator: CPU contention is",
    "  part of what is measured, and one run per case is no distribution over runs.",
    "",
  );
  return out.join("\n");
}

// ---------------------------------------------------------------- main

function cleanUp(): void {
  tearDown(T);
}
process.on("exit", cleanUp);
process.on("SIGHUP", () => process.exit(129));

if (opts.cleanup) {
  cleanUp();
  console.error("namespaces removed");
  process.exit(0);
}

requireNetTools();
const WAIT_LOAD = Number(opts["wait-load"]);
if (WAIT_LOAD > 0) {
  // A shared machine: wait (at most 15 min) for the 1-minute load average to drop below the bound.
  const until = Date.now() + 15 * 60_000;
  while (loadavg()[0]! >= WAIT_LOAD && Date.now() < until) {
    say(`load average ${loadavg()[0]!.toFixed(2)} ≥ ${WAIT_LOAD}: waiting`);
    await Bun.sleep(15_000);
  }
}
const load0 = loadavg();
say(`namespaces ${T.srv}, ${T.emu}, ${T.view}, ${T.load}`);
setUp(T);
let browser: Awaited<ReturnType<typeof browserPhase>> | undefined;
let fan: FanRow[] = [];
try {
  if (list(opts.scenarios).length && list(opts.modes).length) browser = await browserPhase();
  if (VIEWERS > 0 && list(opts.fanout).length) fan = await fanoutPhase();
} finally {
  cleanUp();
}
const md = report(browser, fan, load0, loadavg());
const outPath = resolve(ROOT, opts.out);
mkdirSync(dirname(outPath), { recursive: true });
writeFileSync(outPath, md);
console.log(md);
console.error(`written to ${opts.out}`);
process.exit(0);
