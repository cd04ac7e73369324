/**
 * The one support module for everything that drives a real browser, used by the browser tests
 * (tests/browser/*.test.ts, tests/browser/suite.ts) and by the browser benchmark (`bench/browser.ts`):
 * Debian's Chromium driven by playwright-core (never a downloaded browser), ffmpeg publisher commands
 * for the four codec combinations, a page instrumentation script, and small probes of the
 * `<sluice-player>` element. Browser launch and in-page measurement live here only; the benchmark
 * keeps just its scenarios and report.
 *
 * Missing tools are a failure, never a skip: `requireTools()` throws with what to install.
 */

import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";

/** Chromium binary: `SLUICE_CHROMIUM`, else Debian's. */
export const CHROMIUM = process.env.SLUICE_CHROMIUM ?? "/usr/bin/chromium";

/** Where screenshots and traces go (git-ignored). */
const OUTPUT_DIR = resolve(import.meta.dir, "../../test-output/browser");

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  // Playback must not wait for a user gesture, and a hidden/occluded headless page must not be throttled.
  "--autoplay-policy=no-user-gesture-required",
  "--disable-background-timer-throttling",
  "--disable-renderer-backgrounding",
  "--disable-backgrounding-occluded-windows",
];

/** Throws a clear error when Chromium or ffmpeg is missing (the browser tests must fail, not skip). */
function requireTools(): void {
  const problems: string[] = [];
  if (!existsSync(CHROMIUM)) problems.push(`Chromium not found at ${CHROMIUM} (apt-get install chromium, or set SLUICE_CHROMIUM)`);
  const ff = Bun.which("ffmpeg");
  if (!ff) problems.push("ffmpeg not found on PATH (apt-get install ffmpeg)");
  else {
    const enc = Bun.spawnSync(["ffmpeg", "-hide_banner", "-encoders"]).stdout.toString();
    for (const e of ["libx264", "libvpx", "libvpx-vp9", "libsvtav1", "libopus", "aac"]) {
      if (!new RegExp(`\\s${e}\\s`).test(enc)) problems.push(`ffmpeg lacks the ${e} encoder (Debian's ffmpeg has it)`);
    }
  }
  if (problems.length > 0) throw new Error(`browser tests cannot run:\n  - ${problems.join("\n  - ")}\nRun scripts/setup.sh.`);
}

/** A Chromium with its own fresh profile; `close()` also deletes the profile. */
export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  requireTools();
  const profile = mkdtempSync(join(tmpdir(), "sluice-chromium-"));
  let context: BrowserContext;
  try {
    // launchPersistentContext is playwright's way to pass a user data dir (it refuses --user-data-dir in args).
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 800, height: 600 },
      timeout: 30_000,
    });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw new Error(`could not launch Chromium at ${CHROMIUM}: ${(e as Error).message}`);
  }
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export type Codec = "h264" | "vp8" | "vp9" | "av1";

export const CODECS: Array<{ codec: Codec; label: string; format: "fmp4" | "webm"; mime: RegExp }> = [
  { codec: "h264", label: "H.264 + AAC in fMP4", format: "fmp4", mime: /^video\/mp4; codecs="avc1\.[0-9A-F]{6},mp4a\.40\.2"$/ },
  { codec: "vp8", label: "VP8 + Opus in WebM", format: "webm", mime: /^video\/webm; codecs="vp8,opus"$/ },
  { codec: "vp9", label: "VP9 + Opus in WebM", format: "webm", mime: /^video\/webm; codecs="(vp9|vp09\.[.0-9]+),opus"$/ },
  { codec: "av1", label: "AV1 (SVT-AV1) + Opus in fMP4", format: "fmp4", mime: /^video\/mp4; codecs="av01\.[0-9A-Z.]+,opus"$/ },
];

export interface PublishOptions {
  /** Frame size, e.g. "320x240". */
  size?: string;
  /** Frames between keyframes at 25 fps (exact: keyint_min = g, no scene-cut keyframes). */
  gop?: number;
  /** fMP4 only: a `prft` box per fragment (`-write_prft wallclock`). */
  prft?: boolean;
  /** `frame` = a fragment per frame (fMP4 `frag_every_frame`, WebM `-cluster_time_limit 0`; the README's default); else ~100 ms. */
  fragment?: "frame" | "100ms";
  seconds?: number;
  kbps?: number;
}

/**
 * The README's low-latency publisher command for `codec`, as ffmpeg arguments ending in `url`.
 * fMP4: ~100 ms fragments, a keyframe always starting one; WebM: ~100 ms clusters.
 */
export function publisherArgs(codec: Codec, url: string, o: PublishOptions = {}): string[] {
  const size = o.size ?? "320x240";
  const gop = String(o.gop ?? 25);
  const seconds = o.seconds ?? 600;
  const rate = `${o.kbps ?? 400}k`;
  const input = [
    "-re",
    "-f",
    "lavfi",
    "-i",
    `testsrc2=size=${size}:rate=25:duration=${seconds}`,
    "-re",
    "-f",
    "lavfi",
    "-i",
    `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
  ];
  const keys = ["-g", gop, "-keyint_min", gop];
  const fmp4 = [
    "-f",
    "mp4",
    "-movflags",
    ...(o.fragment === "frame"
      ? ["empty_moov+default_base_moof+frag_keyframe+skip_trailer+frag_every_frame"]
      : ["empty_moov+default_base_moof+frag_keyframe+skip_trailer", "-frag_duration", "100000"]),
    ...(o.prft ? ["-write_prft", "wallclock"] : []),
  ];
  // `-cluster_time_limit 0`: a Cluster whenever the timestamp moves (each audio packet / video frame).
  const webm = ["-f", "webm", "-live", "1", "-cluster_time_limit", o.fragment === "frame" ? "0" : "100"];
  switch (codec) {
    case "h264":
      return [
        ...input,
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-tune",
        "zerolatency",
        ...keys,
        "-sc_threshold",
        "0",
        "-pix_fmt",
        "yuv420p",
        "-b:v",
        rate,
        "-c:a",
        "aac",
        "-b:a",
        "64k",
        ...fmp4,
        url,
      ];
    case "vp8":
      return [
        ...input,
        "-c:v",
        "libvpx",
        "-b:v",
        rate,
        "-deadline",
        "realtime",
        "-cpu-used",
        "8",
        ...keys,
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "libopus",
        "-b:a",
        "64k",
        ...webm,
        url,
      ];
    case "vp9":
      return [
        ...input,
        "-c:v",
        "libvpx-vp9",
        "-b:v",
        rate,
        "-deadline",
        "realtime",
        "-cpu-used",
        "8",
        "-row-mt",
        "1",
        "-lag-in-frames",
        "0",
        ...keys,
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "libopus",
        "-b:a",
        "64k",
        ...webm,
        url,
      ];
    case "av1":
      return [
        ...input,
        "-c:v",
        "libsvtav1",
        "-preset",
        "12",
        ...keys,
        "-b:v",
        rate,
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "libopus",
        "-b:a",
        "64k",
        ...fmp4,
        url,
      ];
  }
}

/**
 * Records when the server saw each keyframe fragment of `name` (wall-clock ms), by polling the
 * in-process registry: the GOP cache's first fragment changes exactly when a keyframe fragment arrives.
 */
export function watchKeyframes(getFirstSeq: () => number | undefined, everyMs = 5): { times: number[]; stop(): void } {
  const times: number[] = [];
  let last: number | undefined;
  const timer = setInterval(() => {
    const seq = getFirstSeq();
    if (seq !== undefined && seq !== last) times.push(Date.now());
    last = seq;
  }, everyMs);
  return { times, stop: () => clearInterval(timer) };
}

/**
 * Page instrumentation, installed before any page script runs. Wall-clock times (ms): the first
 * WebSocket `open`, the first video frame presented (requestVideoFrameCallback's presentation time)
 * and the first frame decoded (totalVideoFrames > 0, polled every 5 ms); and every `statechange`
 * of the player (captured on window: the event does not bubble).
 */
const INSTRUMENT = `(() => {
  const wall = (t) => performance.timeOrigin + t;
  const s = (window.__sluice = { wsOpen: NaN, firstPresented: NaN, firstDecoded: NaN, states: [] });
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("open", () => { if (Number.isNaN(s.wsOpen)) s.wsOpen = wall(performance.now()); });
    }
  };
  window.addEventListener("statechange", (e) => s.states.push({ at: Date.now(), state: e.detail.state, message: e.detail.message }), true);
  customElements.whenDefined("sluice-player").then(() => {
    const v = document.querySelector("sluice-player").video;
    v.requestVideoFrameCallback((_now, meta) => { s.firstPresented = wall(meta.presentationTime); });
    const poll = () => {
      if (v.getVideoPlaybackQuality().totalVideoFrames > 0) { s.firstDecoded = Date.now(); return; }
      setTimeout(poll, 5);
    };
    poll();
  });
})();`;

export interface PageMarks {
  wsOpen: number;
  firstPresented: number;
  firstDecoded: number;
  states: Array<{ at: number; state: string; message: string }>;
}

/** What the tests read from the player in one round trip. */
export interface PlayerProbe {
  state: string;
  latency: number;
  latencyKind: string;
  target: number;
  frames: number;
  dropped: number;
  currentTime: number;
  paused: boolean;
  bufferLength: number;
  playbackRate: number;
  mime: string;
  restarts: number;
  recreations: number;
  reconnects: number;
  jumps: number;
  nudges: number;
  /** Media seconds per fragment. */
  fragmentInterval: number;
  width: number;
  height: number;
}

/**
 * Opens a fresh page on `url` with `initScripts` and the instrumentation installed; returns the
 * page, the wall-clock time just before navigation, and a list that collects page errors.
 */
export async function openPlayerPage(
  context: BrowserContext,
  url: string,
  initScripts: string[] = [],
): Promise<{ page: Page; openedAt: number; errors: string[] }> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  // Console errors, except the browser's own note for an HTTP error (reported below with its URL).
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(m.text());
  });
  // Sluice serves no favicon; any other HTTP error is worth reporting.
  page.on("response", (r) => {
    if (r.status() >= 400 && !r.url().endsWith("/favicon.ico")) errors.push(`HTTP ${r.status()} for ${r.url()}`);
  });
  for (const script of [...initScripts, INSTRUMENT]) await page.addInitScript(script);
  const openedAt = Date.now();
  await page.goto(url, { waitUntil: "domcontentloaded" });
  return { page, openedAt, errors };
}

export async function marks(page: Page): Promise<PageMarks> {
  return page.evaluate(() => (window as unknown as { __sluice: PageMarks }).__sluice);
}

export async function probe(page: Page): Promise<PlayerProbe> {
  return page.evaluate(() => {
    const p = document.querySelector("sluice-player")!;
    const s = p.stats;
    return {
      state: p.state,
      latency: p.latency,
      latencyKind: p.latencyKind,
      target: p.targetLatency,
      frames: s.decodedFrames,
      dropped: s.droppedFrames,
      currentTime: p.video.currentTime,
      paused: p.video.paused,
      bufferLength: s.bufferLength,
      playbackRate: s.playbackRate,
      mime: s.mime,
      restarts: s.restarts,
      recreations: s.recreations,
      reconnects: s.reconnects,
      jumps: s.jumps,
      nudges: s.nudges,
      fragmentInterval: s.fragmentInterval,
      width: s.width,
      height: s.height,
    };
  });
}

/** Polls `probe` until `ok` holds; throws with the last probe after `ms`. */
export async function waitFor(page: Page, ok: (p: PlayerProbe) => boolean, ms: number, what: string): Promise<PlayerProbe> {
  const end = Date.now() + ms;
  let last: PlayerProbe | undefined;
  while (Date.now() < end) {
    last = await probe(page);
    if (ok(last)) return last;
    await Bun.sleep(100);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}; last player probe: ${JSON.stringify(last)}`);
}

/** Samples the player every `everyMs` for `ms`. */
export async function sample(page: Page, ms: number, everyMs = 250): Promise<Array<PlayerProbe & { at: number }>> {
  const out: Array<PlayerProbe & { at: number }> = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    out.push({ ...(await probe(page)), at: Date.now() });
    await Bun.sleep(everyMs);
  }
  return out;
}

export function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Colour statistics of an RGBA pixel array: distinct colours (4 bits per channel) and luma deviation. */
export interface PixelStats {
  width: number;
  height: number;
  distinctColours: number;
  lumaStdDev: number;
}

/**
 * Draws the player's current video frame into a canvas in the page and measures it; also returns
 * the frame as a PNG data URL.
 */
export async function videoFrameStats(page: Page): Promise<PixelStats & { png: string }> {
  return canvasStats(page, undefined);
}

/** Measures a PNG (e.g. a page screenshot) the same way, decoding it in the page. */
export async function pngStats(page: Page, png: Uint8Array): Promise<PixelStats> {
  const { png: _, ...stats } = await canvasStats(page, Buffer.from(png).toString("base64"));
  return stats;
}

/**
 * Draws the player's video (no `pngBase64`) or a decoded PNG into a canvas in the page and measures
 * it: distinct colours (4 bits per channel) and the spread of luma. Returns the canvas as a PNG too.
 */
function canvasStats(page: Page, pngBase64: string | undefined): Promise<PixelStats & { png: string }> {
  return page.evaluate(async (data) => {
    let source: HTMLVideoElement | HTMLImageElement = document.querySelector("sluice-player")!.video;
    if (data) {
      const img = new Image();
      img.src = `data:image/png;base64,${data}`;
      await img.decode();
      source = img;
    }
    const c = document.createElement("canvas");
    c.width = source instanceof HTMLVideoElement ? source.videoWidth : source.naturalWidth;
    c.height = source instanceof HTMLVideoElement ? source.videoHeight : source.naturalHeight;
    const g = c.getContext("2d")!;
    g.drawImage(source, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    const seen = new Set<number>();
    let sum = 0;
    let sq = 0;
    const n = d.length / 4;
    for (let i = 0; i < d.length; i += 4) {
      seen.add(((d[i]! >> 4) << 8) | ((d[i + 1]! >> 4) << 4) | (d[i + 2]! >> 4));
      const y = 0.299 * d[i]! + 0.587 * d[i + 1]! + 0.114 * d[i + 2]!;
      sum += y;
      sq += y * y;
    }
    const mean = sum / n;
    return {
      width: c.width,
      height: c.height,
      distinctColours: seen.size,
      lumaStdDev: Math.sqrt(Math.max(0, sq / n - mean * mean)),
      png: c.toDataURL("image/png"),
    };
  }, pngBase64);
}

/** Path of `name` in the test output folder (created if needed). */
export function outputPath(name: string): string {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  return join(OUTPUT_DIR, name);
}

/** Writes a file under the test output folder; returns its path. */
export function saveOutput(name: string, data: Uint8Array | string): string {
  const path = outputPath(name);
  writeFileSync(path, data);
  return path;
}

/** Bytes of a `data:image/png;base64,…` URL. */
export function dataUrlBytes(url: string): Uint8Array {
  return Buffer.from(url.slice(url.indexOf(",") + 1), "base64");
}
