/**
 * Real browser, real publisher: for each codec combination (H.264+AAC fMP4, VP8+Opus WebM,
 * VP9+Opus WebM, AV1+Opus fMP4) ffmpeg publishes the README's low-latency command (320x240, 25 fps)
 * with a 4 s GOP to an in-process Sluice, and Debian's Chromium opens the player page one second
 * after a keyframe. One page session per codec proves, in order:
 *
 * 1. the mid-GOP join: the first frame is on screen well before the next keyframe could arrive
 *    (GOP cache + the player's seek into it);
 * 2. playback: decoded frames and currentTime advance;
 * 3. the picture is not blank (canvas pixels and a screenshot, saved under test-output/browser/);
 * 4. the live-edge controller: 20 s after opening, the latency sits near the target;
 * 5. a lag injected by pausing the video for 3 s is caught up.
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { type FfmpegRun, runFfmpeg } from "../helpers/ffmpeg.ts";
import { startTestSluice, type TestSluice } from "../helpers/sluice.ts";
import {
  type Browser,
  CODECS,
  dataUrlBytes,
  launchBrowser,
  marks,
  median,
  openPlayerPage,
  outputPath,
  pngStats,
  probe,
  publisherArgs,
  sample,
  saveOutput,
  videoFrameStats,
  waitFor,
  watchKeyframes,
} from "./harness.ts";

const STREAM = "live";
/** 4 s at 25 fps: keyframes far apart, so a first frame within 1.5 s can only come from the GOP cache. */
const GOP_FRAMES = 100;
const GOP_MS = 4000;

let sluice: TestSluice;
let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
  sluice = await startTestSluice();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await sluice?.stop();
}, 30_000);

describe.each(CODECS)("$label", ({ codec, mime }) => {
  let ff: FfmpegRun;
  let keys: ReturnType<typeof watchKeyframes>;
  let page: Page;
  let openedAt = 0;
  let errors: string[] = [];

  beforeAll(async () => {
    keys = watchKeyframes(() => sluice.registry.get(STREAM)?.gop.fragments[0]?.seq);
    ff = runFfmpeg(publisherArgs(codec, `tcp://127.0.0.1:${sluice.ingestPort}`, { gop: GOP_FRAMES }));
    // Wait for the second keyframe (the stream is steady by then), then open the page 1 s into its GOP.
    const until = Date.now() + 20_000;
    while (keys.times.length < 2) {
      if (Date.now() > until || ff.proc.exitCode !== null) {
        throw new Error(
          `${codec}: no second keyframe within 20 s (ffmpeg exit ${ff.proc.exitCode}): ${ff.proc.exitCode !== null ? await ff.stderr() : ""}`,
        );
      }
      await Bun.sleep(10);
    }
    await Bun.sleep(Math.max(0, keys.times[1]! + 1000 - Date.now()));
    ({ page, openedAt, errors } = await openPlayerPage(browser.context, `http://127.0.0.1:${sluice.httpPort}/watch/${STREAM}`));
  }, 40_000);

  afterAll(async () => {
    await page?.close();
    ff?.stop();
    await ff?.done;
    keys?.stop();
    // The next codec starts on the same stream name: wait until this publisher is gone.
    const until = Date.now() + 5000;
    while (sluice.registry.get(STREAM)?.live && Date.now() < until) await Bun.sleep(20);
  }, 20_000);

  test("a viewer joining 1 s into a 4 s GOP sees its first frame within 1.5 s, long before the next keyframe", async () => {
    // The keyframe schedule as the server saw it: the last keyframe before the page opened, and the next one.
    const before = keys.times.filter((t) => t <= openedAt).at(-1)!;
    const intoGop = openedAt - before;
    expect(intoGop).toBeGreaterThanOrEqual(900);
    expect(intoGop).toBeLessThan(1600);
    await waitFor(page, (p) => p.frames > 0, 5000, "a first decoded frame");
    const m = await marks(page);
    const presented = Number.isFinite(m.firstPresented) ? m.firstPresented : m.firstDecoded;
    const firstFrameMs = presented - openedAt;
    const decodedMs = m.firstDecoded - openedAt;
    // The next keyframe is due GOP_MS after the last one, ~3 s after the page opened.
    const nextKeyDue = before + GOP_MS;
    console.log(
      `${codec}: page opened ${intoGop} ms into the GOP; WebSocket open +${(m.wsOpen - openedAt).toFixed(0)} ms, first frame decoded +${decodedMs.toFixed(0)} ms, presented +${firstFrameMs.toFixed(0)} ms; next keyframe due +${nextKeyDue - openedAt} ms`,
    );
    expect(errors).toEqual([]);
    expect(Number.isFinite(m.firstDecoded)).toBe(true);
    expect(decodedMs).toBeLessThan(1500);
    expect(firstFrameMs).toBeLessThan(1500);
    expect(presented).toBeLessThan(nextKeyDue - 1000);
    // And the server's clock agrees: the next keyframe did arrive about when it was due, after the first frame.
    const next = await waitUntilDefined(() => keys.times.find((t) => t > openedAt), 6000);
    expect(next).toBeGreaterThan(presented + 1000);
  }, 20_000);

  test("plays: decoded frames and currentTime advance over 3 s, at the stream's type and size", async () => {
    const p0 = await waitFor(page, (p) => p.state === "playing" && !p.paused, 5000, "state playing, video not paused");
    await Bun.sleep(3000);
    const p1 = await probe(page);
    expect(p1.state).toBe("playing");
    expect(p1.mime).toMatch(mime);
    expect([p1.width, p1.height]).toEqual([320, 240]);
    expect(p1.frames - p0.frames).toBeGreaterThanOrEqual(50); // 75 at 25 fps
    expect(p1.currentTime - p0.currentTime).toBeGreaterThan(2.4);
    expect(p1.latencyKind).toBe("buffer"); // no prft box in this stream
  }, 15_000);

  test("the picture is not blank: the video frame on a canvas and a screenshot of the player", async () => {
    const frame = await videoFrameStats(page);
    saveOutput(`${codec}-frame.png`, dataUrlBytes(frame.png));
    const box = (await page.locator("sluice-player").boundingBox())!;
    const shot = await page.screenshot({ clip: box });
    saveOutput(`${codec}-player.png`, shot);
    await page.screenshot({ path: outputPath(`${codec}-page.png`) });
    const onScreen = await pngStats(page, shot);
    console.log(
      `${codec}: frame ${frame.width}x${frame.height} ${frame.distinctColours} colours, luma sd ${frame.lumaStdDev.toFixed(1)}; player screenshot ${onScreen.distinctColours} colours, luma sd ${onScreen.lumaStdDev.toFixed(1)}`,
    );
    expect([frame.width, frame.height]).toEqual([320, 240]);
    // testsrc2 is a colourful pattern (~500-1500 colours here); the player with no picture (black,
    // status overlay, buttons) measured 16 colours and a luma deviation of 12.
    expect(frame.distinctColours).toBeGreaterThan(100);
    expect(frame.lumaStdDev).toBeGreaterThan(25);
    expect(onScreen.distinctColours).toBeGreaterThan(100);
    expect(onScreen.lumaStdDev).toBeGreaterThan(25);
  }, 15_000);

  test("the latency controller holds the live latency near the target 20 s after joining", async () => {
    await Bun.sleep(Math.max(0, openedAt + 18_000 - Date.now()));
    const trace = await sample(page, 2000);
    saveOutput(`${codec}-latency.json`, JSON.stringify(trace, null, 1));
    const latency = median(trace.map((p) => p.latency));
    const target = median(trace.map((p) => p.target));
    console.log(
      `${codec}: latency ${latency.toFixed(3)} s (${trace.at(-1)!.latencyKind}), target ${target.toFixed(2)} s, jumps ${trace.at(-1)!.jumps}`,
    );
    expect(trace.every((p) => p.state === "playing" && !p.paused)).toBe(true);
    expect(Math.abs(latency - target)).toBeLessThan(0.75);
  }, 30_000);

  test("a 3 s pause (injected lag) is caught up: latency back near the target within 10 s", async () => {
    const before = await probe(page);
    await page.evaluate(() => document.querySelector("sluice-player")!.video.pause());
    await Bun.sleep(3000);
    const paused = await probe(page);
    // While paused, data kept arriving: the playhead fell about 3 s behind the live edge.
    expect(paused.paused).toBe(true);
    expect(paused.latency - before.latency).toBeGreaterThan(2.5);
    const resumedAt = Date.now();
    await page.evaluate(() => document.querySelector("sluice-player")!.video.play());
    let near = 0;
    let caught: Awaited<ReturnType<typeof probe>> | undefined;
    while (Date.now() - resumedAt < 10_000) {
      const p = await probe(page);
      near = !p.paused && Math.abs(p.latency - p.target) < 0.75 ? near + 1 : 0;
      if (near === 2) {
        caught = p;
        break;
      }
      await Bun.sleep(100);
    }
    console.log(
      `${codec}: lag ${paused.latency.toFixed(2)} s after the pause; caught up in ${caught ? Date.now() - resumedAt : "> 10000"} ms (latency ${caught?.latency.toFixed(3)}, target ${caught?.target})`,
    );
    expect(caught).toBeDefined();
    const f0 = caught!.frames;
    await Bun.sleep(1000);
    const after = await probe(page);
    expect(after.frames - f0).toBeGreaterThanOrEqual(15);
    expect(after.state).toBe("playing");
    expect(errors).toEqual([]); // no page error or failed request during the whole session
  }, 20_000);
});

async function waitUntilDefined<T>(get: () => T | undefined, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`nothing within ${ms} ms`);
    await Bun.sleep(20);
  }
}
