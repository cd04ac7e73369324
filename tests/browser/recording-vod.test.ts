/**
 * A recording played back through the VOD playlist by hls.js (the dev dependency, served by the test)
 * in Chromium: Sluice records a real ffmpeg publish in rotated files, hls.js plays the playlist across
 * the files' discontinuities, then a seek to the middle shows the frame of that time (compared pixel
 * by pixel with the frame ffmpeg decodes from the recording file at the same position).
 */

import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Server } from "bun";
import { LOWLAT_MP4, runFfmpeg } from "../helpers/ffmpeg.ts";
import { startTestSluice, type TestSluice } from "../helpers/sluice.ts";
import { until } from "../record/probe.ts";
import { type Browser, launchBrowser } from "./harness.ts";

setDefaultTimeout(120_000);

const HLS_JS = resolve(import.meta.dir, "../../node_modules/hls.js/dist/hls.min.js");
const SECONDS = 9;
const W = 80;
const H = 60;

let dir: string;
let sluice: TestSluice;
let browser: Browser;
let site: Server<undefined>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sluice-vod-"));
  // Files of ~3 s: the playlist has discontinuities to play across.
  sluice = await startTestSluice(["--record", dir, "--record-rotate-minutes", "0.05"]);
  const ff = runFfmpeg(LOWLAT_MP4(SECONDS, `tcp://127.0.0.1:${sluice.ingestPort}`));
  if ((await ff.done) !== 0) throw new Error(await ff.stderr());
  await until(
    async () => {
      const list = (await (await fetch(`http://127.0.0.1:${sluice.httpPort}/api/recordings/live`)).json()) as {
        recordings: Array<{ recording: boolean }>;
      };
      return list.recordings.length > 0 && list.recordings.every((r) => !r.recording);
    },
    10_000,
    "recording closed",
  );
  // The page comes from another origin than Sluice: the playlist and the byte ranges are fetched with CORS.
  site = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/hls.min.js") return new Response(Bun.file(HLS_JS), { headers: { "content-type": "text/javascript" } });
      return new Response(
        `<!doctype html><video id=v muted playsinline width=320 height=240></video><canvas id=c width=${W} height=${H}></canvas><script src="/hls.min.js"></script>`,
        { headers: { "content-type": "text/html" } },
      );
    },
  });
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  site?.stop(true);
  await sluice?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The playlist's sections: file, media start in the playlist timeline, and total duration. */
function sections(text: string): Array<{ file: string; start: number; duration: number }> {
  const out: Array<{ file: string; start: number; duration: number }> = [];
  let t = 0;
  for (const l of text.split("\n")) {
    const map = /^#EXT-X-MAP:URI="\/recordings\/live\/([^"?]+)/.exec(l);
    if (map) out.push({ file: map[1]!, start: t, duration: 0 });
    const inf = /^#EXTINF:([\d.]+),/.exec(l);
    if (inf) {
      out.at(-1)!.duration += Number(inf[1]);
      t += Number(inf[1]);
    }
  }
  return out;
}

/** The frame ffmpeg decodes from `file` at `seconds` from its start, scaled to W×H RGBA. */
function referenceFrame(file: string, seconds: number): Uint8Array {
  const r = Bun.spawnSync([
    "ffmpeg",
    ...["-v", "error", "-nostdin", "-ss", seconds.toFixed(3), "-i", file, "-frames:v", "1"],
    ...["-vf", `scale=${W}:${H}`, "-f", "rawvideo", "-pix_fmt", "rgba", "-"],
  ]);
  if (r.exitCode !== 0) throw new Error(r.stderr.toString());
  return new Uint8Array(r.stdout);
}

function meanDiff(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < a.length; i += 4) {
    for (let k = 0; k < 3; k++) sum += Math.abs(a[i + k]! - b[i + k]!);
    n += 3;
  }
  return sum / n;
}

test("hls.js plays the VOD playlist across files in Chromium, and a seek to the middle shows that time's frame", async () => {
  const playlistUrl = `http://127.0.0.1:${sluice.httpPort}/hls/live/vod.m3u8`;
  const text = await (await fetch(playlistUrl)).text();
  const parts = sections(text);
  expect(parts.length).toBeGreaterThanOrEqual(3);
  const total = parts.reduce((n, p) => n + p.duration, 0);

  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`http://127.0.0.1:${site.port}/`);
  await page.evaluate((url) => {
    type HlsLike = {
      on(event: string, f: (event: string, data: { fatal: boolean; details: string }) => void): void;
      loadSource(url: string): void;
      attachMedia(v: HTMLVideoElement): void;
    };
    const w = window as unknown as {
      Hls: { new (o: object): HlsLike; Events: { ERROR: string; MANIFEST_PARSED: string } };
      hls: HlsLike;
      hlsErrors: string[];
    };
    w.hlsErrors = [];
    const video = document.getElementById("v") as HTMLVideoElement;
    const hls = new w.Hls({ enableWorker: false });
    w.hls = hls;
    hls.on(w.Hls.Events.ERROR, (_, d) => w.hlsErrors.push(`${d.fatal ? "fatal " : ""}${d.details}`));
    hls.loadSource(url);
    hls.attachMedia(video);
    hls.on(w.Hls.Events.MANIFEST_PARSED, () => void video.play());
  }, playlistUrl);
  const state = () =>
    page.evaluate(() => {
      const v = document.getElementById("v") as HTMLVideoElement;
      const w = window as unknown as { hlsErrors: string[] };
      return { t: v.currentTime, duration: v.duration, ended: v.ended, errors: w.hlsErrors };
    });

  // Plays from the start through the first discontinuity (the second file).
  const boundary = parts[1]!.start;
  const end = Date.now() + 30_000;
  let s = await state();
  while (s.t < boundary + 0.5) {
    if (Date.now() > end || s.errors.some((e) => e.startsWith("fatal"))) throw new Error(`playback stuck: ${JSON.stringify(s)}`);
    await Bun.sleep(100);
    s = await state();
  }
  expect(Math.abs(s.duration - total)).toBeLessThan(0.25);

  // Seek to the middle, paused, and read the frame shown.
  const target = total / 2;
  const shown = await page.evaluate(
    async ({ target, W, H }) => {
      const v = document.getElementById("v") as HTMLVideoElement;
      v.pause();
      const frame = new Promise<number>((r) => v.requestVideoFrameCallback((_, m) => r(m.mediaTime)));
      v.currentTime = target;
      await new Promise((r) => v.addEventListener("seeked", r, { once: true }));
      const mediaTime = await Promise.race([frame, new Promise<number>((r) => setTimeout(() => r(v.currentTime), 2000))]);
      const c = document.getElementById("c") as HTMLCanvasElement;
      const ctx = c.getContext("2d", { willReadFrequently: true })!;
      ctx.drawImage(v, 0, 0, W, H);
      return { mediaTime, currentTime: v.currentTime, pixels: Array.from(ctx.getImageData(0, 0, W, H).data) };
    },
    { target, W, H },
  );
  expect(Math.abs(shown.currentTime - target)).toBeLessThan(0.05);
  expect(Math.abs(shown.mediaTime - target)).toBeLessThan(0.1);
  const part = parts.find((p) => shown.mediaTime >= p.start && shown.mediaTime < p.start + p.duration)!;
  const inFile = shown.mediaTime - part.start;
  const file = join(dir, "live", part.file);
  const pixels = new Uint8Array(shown.pixels);
  const right = meanDiff(pixels, referenceFrame(file, inFile));
  // The scaled colours differ a little between Chromium and ffmpeg; the right frame is still the closest one,
  // closer than the frames one 25 fps frame before and after it, and much closer than frames 0.5-1 s away.
  const adjacent = [-0.04, 0.04].filter((d) => inFile + d >= 0).map((d) => meanDiff(pixels, referenceFrame(file, inFile + d)));
  const others = [-0.5, 0.5, -1, 1]
    .map((d) => inFile + d)
    .filter((t) => t >= 0 && t < part.duration - 0.05)
    .map((t) => meanDiff(pixels, referenceFrame(file, t)));
  console.log(
    `VOD via hls.js: ${parts.length} files, ${total.toFixed(2)} s; seek to ${target.toFixed(2)} s shows media time ${shown.mediaTime.toFixed(3)} ` +
      `(file ${part.file} at ${inFile.toFixed(2)} s): pixel difference ${right.toFixed(2)} vs ${others.map((d) => d.toFixed(2)).join(", ")} for frames 0.5-1 s away, ${adjacent.map((d) => d.toFixed(2)).join(", ")} for the adjacent frames`,
  );
  expect(others.length).toBeGreaterThanOrEqual(2);
  expect(right).toBeLessThan(Math.min(...adjacent));
  expect(right * 2).toBeLessThan(Math.min(...others));
  expect((await state()).errors.filter((e) => e.startsWith("fatal"))).toEqual([]);
  expect(errors).toEqual([]);
  await page.close();
});
