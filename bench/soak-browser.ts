/**
 * Browser soak (issue 13 part 4, a script, not CI): does `<sluice-player>` stay drift-free for long?
 *
 *   bun run bench/soak-browser.ts [--minutes 30] [--modes frame,100ms] [--size 640x360]
 *                                 [--out bench/results/soak-browser.md]
 *
 * One Sluice process (bench/lib/processes.ts; BENCH_SLUICE_MAIN picks another tree), one ffmpeg per
 * fragment mode publishing testsrc2 at 30 fps + a sine as fMP4 with a `prft` per fragment over TCP
 * (`frame`: `frag_every_frame`, one fragment per audio and per video frame; `100ms`: `-frag_duration
 * 100000`; tests/player/browser-support.ts), and one Debian Chromium with a page per mode playing at
 * the automatic target with sound on (`?muted=0`; Playwright's Chromium mutes the output device, not
 * the element). All modes run at the same time for `--minutes`. Every 5 s each page is sampled:
 *
 * - latency: e2e (prft) and buffer latency, the target; the band is the median target + 0.15 s for the
 *   buffer latency, and the share of samples inside it is reported per 5-minute window;
 * - stalls: `waiting` events after playback began and how long each lasted until `playing`; an
 *   *unrecovered* stall is one still open at the end, or longer than 5 s, or a state other than
 *   `playing`; jumps, nudges, MediaSource recreations and reconnects;
 * - memory: the page's JS heap after a forced GC (CDP `HeapProfiler.collectGarbage`, then
 *   `Performance.getMetrics` JSHeapUsedSize), DOM nodes and listeners, and the span of buffered media
 *   (the back buffer is trimmed to 20 s); flat = the heap after minute 2 and at the end differ by
 *   less than 2 MiB;
 * - audio/video alignment: the page parses every fMP4 fragment it receives (moof → traf → tfhd,
 *   tfdt, trun) and keeps the end of the audio and of the video track, compared with each other and
 *   with `video.buffered` (the intersection of both tracks in one SourceBuffer); and with every
 *   presented frame (requestVideoFrameCallback) the frame's media time against `currentTime`, which
 *   follows the audio clock while sound plays.
 *
 * Results: a markdown file with machine, date and command at its top; raw samples in
 * test-output/browser/soak-browser.json. `--minutes 1` is a quick check that it runs.
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { CDPSession, Page } from "playwright-core";
import { CHROMIUM, launchBrowser, openPlayerPage, type PlayerProbe, probe, saveOutput, waitFor } from "../tests/browser/harness.ts";
import { runFfmpeg } from "../tests/helpers/ffmpeg.ts";
import { fmp4Publisher, waitLive } from "../tests/player/browser-support.ts";
import { machineInfo } from "./lib/machine.ts";
import { freePort, killAll, ROOT, startServer, stop } from "./lib/processes.ts";
import { percentile } from "./lib/stats.ts";

const { values: opts } = parseArgs({
  options: {
    minutes: { type: "string", default: "30" },
    modes: { type: "string", default: "frame,100ms" },
    size: { type: "string", default: "640x360" },
    out: { type: "string", default: "bench/results/soak-browser.md" },
  },
});
const MINUTES = Number(opts.minutes);
const MODES = opts.modes.split(",").map((m) => m.trim()) as Array<"frame" | "100ms">;
const SAMPLE_MS = 5000;
const WINDOW_MS = 5 * 60_000;
const LONG_STALL_MS = 5000;

/**
 * Page instrumentation: stall log (start, end), per-track ends of the received fMP4 fragments, and
 * the spread of (presented frame's media time − currentTime) since the last read.
 */
const SOAK_SCRIPT = `(() => {
  const s = (window.__soak = { stalls: [], tracks: new Map(), ends: {}, av: [] });
  // fMP4 boxes: [size u32][type 4cc]...; moov → trak → tkhd (track id) / mdia → mdhd (timescale), hdlr (kind).
  const u32 = (b, p) => ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
  const type = (b, p) => String.fromCharCode(b[p + 4], b[p + 5], b[p + 6], b[p + 7]);
  const boxes = (b, start, end, f) => { for (let p = start; p + 8 <= end; ) { const n = u32(b, p); if (n < 8 || p + n > end) return; f(type(b, p), p + 8, p + n); p += n; } };
  const readInit = (b) => boxes(b, 0, b.length, (t, s0, e0) => t === "moov" && boxes(b, s0, e0, (t1, s1, e1) => {
    if (t1 !== "trak") return;
    const tr = {};
    boxes(b, s1, e1, (t2, s2, e2) => {
      if (t2 === "tkhd") tr.id = u32(b, s2 + (b[s2] === 1 ? 20 : 12));
      if (t2 === "mdia") boxes(b, s2, e2, (t3, s3) => {
        if (t3 === "mdhd") tr.timescale = u32(b, s3 + (b[s3] === 1 ? 20 : 12));
        if (t3 === "hdlr") tr.kind = String.fromCharCode(b[s3 + 8], b[s3 + 9], b[s3 + 10], b[s3 + 11]);
      });
    });
    s.tracks.set(tr.id, tr);
  }));
  const readFragment = (b) => boxes(b, 0, b.length, (t, s0, e0) => t === "moof" && boxes(b, s0, e0, (t1, s1, e1) => {
    if (t1 !== "traf") return;
    let tr, dflt = 0, base = 0, sum = 0;
    boxes(b, s1, e1, (t2, s2) => {
      const flags = u32(b, s2) & 0xffffff;
      if (t2 === "tfhd") { tr = s.tracks.get(u32(b, s2 + 4)); let q = s2 + 8; if (flags & 1) q += 8; if (flags & 2) q += 4; if (flags & 8) dflt = u32(b, q); }
      if (t2 === "tfdt") base = b[s2] === 1 ? u32(b, s2 + 4) * 4294967296 + u32(b, s2 + 8) : u32(b, s2 + 4);
      if (t2 === "trun") {
        const n = u32(b, s2 + 4); let q = s2 + 8; if (flags & 1) q += 4; if (flags & 4) q += 4;
        const per = ((flags & 0x100) ? 4 : 0) + ((flags & 0x200) ? 4 : 0) + ((flags & 0x400) ? 4 : 0) + ((flags & 0x800) ? 4 : 0);
        for (let i = 0; i < n; i++) { sum += (flags & 0x100) ? u32(b, q) : dflt; q += per; }
      }
    });
    if (tr && tr.timescale) s.ends[tr.kind] = Math.max(s.ends[tr.kind] ?? 0, (base + sum) / tr.timescale);
  }));
  let nextIsInit = false;
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...a) {
      super(...a);
      this.addEventListener("message", (ev) => {
        if (typeof ev.data === "string") { if (ev.data.includes('"type":"stream"')) nextIsInit = true; return; }
        const b = new Uint8Array(ev.data);
        try { if (nextIsInit) { nextIsInit = false; s.tracks.clear(); s.ends = {}; readInit(b); } else readFragment(b); } catch {}
      });
    }
  };
  customElements.whenDefined("sluice-player").then(() => {
    const v = document.querySelector("sluice-player").video;
    let played = false;
    v.addEventListener("playing", () => {
      played = true;
      const open = s.stalls[s.stalls.length - 1];
      if (open && open.end === undefined) open.end = Date.now();
    });
    v.addEventListener("waiting", () => {
      const open = s.stalls[s.stalls.length - 1];
      if (played && !v.seeking && !(open && open.end === undefined)) s.stalls.push({ start: Date.now() });
    });
    const onFrame = (_now, meta) => {
      if (!v.paused && v.playbackRate === 1) s.av.push(meta.mediaTime - v.currentTime);
      if (s.av.length > 2000) s.av.splice(0, 1000);
      v.requestVideoFrameCallback(onFrame);
    };
    v.requestVideoFrameCallback(onFrame);
  });
})();`;

interface Sample extends PlayerProbe {
  at: number;
  muted: boolean;
  heap: number;
  nodes: number;
  listeners: number;
  bufferedSpan: number;
  videoEnd: number;
  audioEnd: number;
  bufferedEnd: number;
  /** Spread of presented frame media time − currentTime since the last sample (s). */
  avP50: number;
  avMin: number;
  avMax: number;
  stalls: Array<{ start: number; end?: number }>;
}

interface Watcher {
  mode: string;
  page: Page;
  cdp: CDPSession;
  errors: string[];
  samples: Sample[];
}

async function read(w: Watcher, gc: boolean): Promise<Sample> {
  if (gc) await w.cdp.send("HeapProfiler.collectGarbage");
  const { metrics } = await w.cdp.send("Performance.getMetrics");
  const metric = (name: string) => metrics.find((m) => m.name === name)?.value ?? Number.NaN;
  const p = await probe(w.page);
  const page = await w.page.evaluate(() => {
    const s = (
      window as unknown as { __soak: { stalls: Array<{ start: number; end?: number }>; ends: Record<string, number>; av: number[] } }
    ).__soak;
    const v = document.querySelector("sluice-player")!.video;
    const b = v.buffered;
    const av = s.av.splice(0).sort((x, y) => x - y);
    return {
      muted: v.muted,
      span: b.length ? b.end(b.length - 1) - b.start(0) : 0,
      bufferedEnd: b.length ? b.end(b.length - 1) : Number.NaN,
      videoEnd: s.ends.vide ?? Number.NaN,
      audioEnd: s.ends.soun ?? Number.NaN,
      av,
      stalls: s.stalls.slice(),
    };
  });
  const q = (x: number) => (page.av.length ? page.av[Math.min(page.av.length - 1, Math.floor(x * page.av.length))]! : Number.NaN);
  return {
    ...p,
    at: Date.now(),
    muted: page.muted,
    heap: metric("JSHeapUsedSize"),
    nodes: metric("Nodes"),
    listeners: metric("JSEventListeners"),
    bufferedSpan: page.span,
    videoEnd: page.videoEnd,
    audioEnd: page.audioEnd,
    bufferedEnd: page.bufferedEnd,
    avP50: q(0.5),
    avMin: q(0),
    avMax: q(0.999),
    stalls: page.stalls,
  };
}

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : "–");
const mib = (x: number) => (x / 1048576).toFixed(1);

function report(w: Watcher, t0: number): { rows: string[]; summary: string } {
  const s = w.samples;
  const last = s.at(-1)!;
  const band = percentile(
    s.map((x) => x.target),
    0.5,
  );
  const rows: string[] = [];
  for (let from = t0; from < last.at; from += WINDOW_MS) {
    const win = s.filter((x) => x.at >= from && x.at < from + WINDOW_MS);
    if (win.length === 0) continue;
    const e2e = win.filter((x) => x.latencyKind === "e2e").map((x) => x.latency);
    const buf = win.map((x) => x.bufferLength);
    const inBand = buf.filter((b) => b <= band + 0.15).length / buf.length;
    const stallsIn = last.stalls.filter((x) => x.start >= from && x.start < from + WINDOW_MS);
    const stallMs = stallsIn.reduce((n, x) => n + ((x.end ?? last.at) - x.start), 0);
    const first = win[0]!;
    const end = win.at(-1)!;
    const avSkew = win.map((x) => x.videoEnd - x.audioEnd).filter(Number.isFinite);
    rows.push(
      `| ${w.mode} | ${((from - t0) / 60_000).toFixed(0)}–${((Math.min(from + WINDOW_MS, last.at) - t0) / 60_000).toFixed(0)} min | ` +
        `${f3(percentile(e2e, 0.5))} / ${f3(percentile(e2e, 0.95))} | ${f3(percentile(buf, 0.5))} / ${f3(percentile(buf, 0.95))} | ${f3(
          percentile(
            win.map((x) => x.target),
            0.5,
          ),
        )} | ` +
        `${(inBand * 100).toFixed(0)} % | ${stallsIn.length} (${(stallMs / 1000).toFixed(1)} s) | ${end.jumps - first.jumps} / ${end.nudges - first.nudges} | ` +
        `${end.dropped - first.dropped} / ${end.frames - first.frames} | ${mib(end.heap)} MiB, ${end.nodes} nodes | ${end.bufferedSpan.toFixed(1)} s | ` +
        `${f3(percentile(avSkew, 0.5))} (${f3(Math.min(...avSkew))}…${f3(Math.max(...avSkew))}) | ${f3(
          percentile(
            win.map((x) => x.avP50),
            0.5,
          ),
        )} (${f3(Math.min(...win.map((x) => x.avMin)))}…${f3(Math.max(...win.map((x) => x.avMax)))}) |`,
    );
  }
  const afterWarmup = s.filter((x) => x.at >= t0 + 2 * 60_000);
  const heapStart = (afterWarmup[0] ?? s[0]!).heap;
  const stalls = last.stalls.filter((x) => x.start >= t0);
  const unrecovered = stalls.filter((x) => (x.end ?? last.at) - x.start > LONG_STALL_MS);
  const open = stalls.filter((x) => x.end === undefined);
  const flat = Math.abs(last.heap - heapStart) < 2 * 1048576;
  const summary =
    `- **${w.mode}** (sound ${s.every((x) => !x.muted) ? "on" : "OFF in some samples"}): ${stalls.length} stalls after the start (${last.stalls.length - stalls.length} before), ${unrecovered.length} longer than ${LONG_STALL_MS / 1000} s, ${open.length} still open at the end; ` +
    `state at the end \`${last.state}\`; ${last.recreations} MediaSource recreations, ${last.reconnects} reconnects; ` +
    `JS heap after GC ${mib(heapStart)} MiB after minute 2 → ${mib(last.heap)} MiB at the end (${flat ? "flat" : "NOT flat"}); ` +
    `buffered span at most ${Math.max(...s.map((x) => x.bufferedSpan)).toFixed(1)} s; page errors: ${w.errors.length ? w.errors.slice(0, 3).join("; ") : "none"}.`;
  return { rows, summary };
}

const m = machineInfo();
/** A TCP ingest port and stream per mode. */
const streams = MODES.map((mode) => ({ mode, name: `soak-${mode.replace(/[^a-z0-9]/g, "")}`, port: freePort() }));
const server = await startServer(
  "sluice",
  streams.flatMap((x) => ["--ingest", `${x.port}=${x.name}`]),
  "soak-browser-sluice.log",
);
const browser = await launchBrowser();
const watchers: Watcher[] = [];
const publishers: Array<ReturnType<typeof runFfmpeg>> = [];
let t0 = Date.now();
try {
  for (const x of streams) {
    const seconds = MINUTES * 60 + 120;
    publishers.push(runFfmpeg(fmp4Publisher(x.port, x.mode, { size: opts.size, seconds, kbps: 1000 })));
  }
  for (const x of streams) await waitLive(server.httpPort, x.name);
  await Bun.sleep(3000);
  for (const x of streams) {
    const { page, errors } = await openPlayerPage(browser.context, `http://127.0.0.1:${server.httpPort}/watch/${x.name}?muted=0`, [
      SOAK_SCRIPT,
    ]);
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send("Performance.enable");
    await waitFor(page, (p) => p.state === "playing" && p.frames > 0, 20_000, `playback (${x.mode})`);
    watchers.push({ mode: x.mode, page, cdp, errors, samples: [] });
  }
  t0 = Date.now();
  const until = t0 + MINUTES * 60_000;
  let n = 0;
  while (Date.now() < until) {
    await Bun.sleep(SAMPLE_MS);
    const gc = n++ % 12 === 0; // a forced GC once a minute, before that minute's heap reading
    for (const w of watchers) w.samples.push(await read(w, gc));
    const line = watchers
      .map((w) => {
        const x = w.samples.at(-1)!;
        return `${w.mode}: e2e ${f3(x.latency)} buf ${f3(x.bufferLength)} target ${f3(x.target)} stalls ${x.stalls.length} heap ${mib(x.heap)} MiB`;
      })
      .join(" | ");
    console.log(`${((Date.now() - t0) / 60_000).toFixed(1)} min  ${line}`);
  }
  for (const w of watchers) w.samples.push(await read(w, true));
} finally {
  for (const p of publishers) p.stop();
  await Promise.all(publishers.map((p) => p.done));
  await browser.close().catch(() => undefined);
  await stop(server.proc);
  await killAll();
}

saveOutput("soak-browser.json", JSON.stringify(watchers.map((w) => ({ mode: w.mode, errors: w.errors, samples: w.samples }))));
const reports = watchers.map((w) => report(w, t0));
const cmd = `bun run bench/soak-browser.ts${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(" ")}` : ""}`;
const md = `# Browser soak: drift-free playback

- Date: ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC
- Machine: ${m.nproc} cores, ${m.cpuModel}; ${Bun.spawnSync([CHROMIUM, "--version"]).stdout.toString().trim()}; ${m.ffmpeg}; Bun ${m.bun}
- Command: \`${cmd}\` (${MINUTES} min, a sample every ${SAMPLE_MS / 1000} s per mode, all modes at once); loopback; one Sluice process
- Publisher: testsrc2 ${opts.size} at 30 fps, x264 veryfast zerolatency, 2 s GOP, 1 Mbit/s + AAC 64 kbit/s as fMP4 with prft; the page plays with sound on at the automatic target

${reports.map((r) => r.summary).join("\n")}

| mode | window | e2e, s: p50 / p95 | buffer latency, s: p50 / p95 | target, s | buffer in band (≤ median target + 0.15 s) | stalls (time) | jumps / nudges | dropped / decoded frames | JS heap after GC, DOM nodes (end of window) | buffered span | video − audio end, s: median (min…max) | frame media time − currentTime, s: median (min…max) |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${reports.flatMap((r) => r.rows).join("\n")}

How to read it: *video − audio end* is how far the last received video sample ends after the last
audio sample (both from the fragments the page received); it stays within a frame or two when the
tracks are aligned, and a trend would be drift. *Frame media time − currentTime* compares each
presented frame (requestVideoFrameCallback's mediaTime) with the element's clock, which follows the
audio output while sound plays: its median is the A/V offset the viewer sees, the range the jitter of
one frame. A stall is a \`waiting\` event after playback began, until the next \`playing\`.
`;
const out = resolve(ROOT, opts.out);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, md);
console.log(`\nwritten to ${opts.out}`);
