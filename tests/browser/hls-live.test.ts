import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import type { Server } from "bun";
import { type FfmpegRun, runFfmpeg } from "../helpers/ffmpeg.ts";
import { startTestSluice, type TestSluice } from "../helpers/sluice.ts";
import { type Browser, launchBrowser, median, publisherArgs } from "./harness.ts";

setDefaultTimeout(90_000);

/**
 * hls.js (the dev dependency, served by the test) in low-latency mode in Debian's Chromium plays
 * Sluice's LL-HLS stream of a real ffmpeg publisher writing `prft` boxes. Its latency is recorded two
 * ways: hls.js's own (`hls.latency`: live edge of the playlist minus the playhead) and end to end
 * (now minus the EXT-X-PROGRAM-DATE-TIME of the frame shown, which Sluice takes from the publisher's prft).
 */
const HLS_JS = join(import.meta.dir, "../../node_modules/hls.js/dist/hls.min.js");

let sluice: TestSluice;
let browser: Browser;
let page: Server<undefined>;
let ff: FfmpegRun;

beforeAll(async () => {
  sluice = await startTestSluice();
  browser = await launchBrowser();
  page = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/hls.min.js") return new Response(Bun.file(HLS_JS), { headers: { "content-type": "text/javascript" } });
      if (path !== "/") return new Response("not found", { status: 404 });
      const src = `http://127.0.0.1:${sluice.httpPort}/hls/live/index.m3u8`;
      return new Response(
        `<!doctype html><video id="v" muted autoplay playsinline></video><script src="/hls.min.js"></script><script>
const v = document.getElementById("v");
const hls = new Hls({ lowLatencyMode: true, backBufferLength: 10 });
window.__hls = hls;
window.__errors = [];
hls.on(Hls.Events.ERROR, (_e, d) => { if (d.fatal) window.__errors.push(d.type + ":" + d.details); });
hls.loadSource(${JSON.stringify(src)});
hls.attachMedia(v);
v.play().catch(() => {});
</script>`,
        { headers: { "content-type": "text/html" } },
      );
    },
  });
  ff = runFfmpeg(publisherArgs("h264", `tcp://127.0.0.1:${sluice.ingestPort}`, { prft: true, seconds: 60 }));
}, 60_000);

afterAll(async () => {
  ff?.stop();
  await ff?.done;
  page?.stop(true);
  await browser?.close();
  await sluice?.stop();
});

interface HlsProbe {
  time: number;
  frames: number;
  latency: number;
  e2e: number;
  parts: number;
  lowLatency: boolean;
  errors: string[];
}

test("hls.js in low-latency mode plays the live LL-HLS stream in Chromium; its latency is recorded", async () => {
  // The playlist exists once the publisher's first part does (before that: 404, which hls.js takes as fatal).
  const ready = Date.now() + 20_000;
  while ((await fetch(`http://127.0.0.1:${sluice.httpPort}/hls/live/index.m3u8`)).status !== 200) {
    if (Date.now() > ready) throw new Error("no LL-HLS playlist within 20 s");
    await Bun.sleep(100);
  }
  const tab = await browser.context.newPage();
  await tab.goto(`http://127.0.0.1:${page.port}/`);
  const probe = () =>
    tab.evaluate((): HlsProbe => {
      const w = window as unknown as {
        __hls: {
          latency: number;
          playingDate: Date | null;
          lowLatencyMode: boolean;
          levels: Array<{ details?: { partList?: unknown[] | null } }>;
        };
        __errors: string[];
      };
      const v = document.getElementById("v") as HTMLVideoElement;
      const date = w.__hls.playingDate;
      return {
        time: v.currentTime,
        frames: v.getVideoPlaybackQuality().totalVideoFrames,
        latency: w.__hls.latency,
        e2e: date ? (Date.now() - date.getTime()) / 1000 : Number.NaN,
        parts: w.__hls.levels[0]?.details?.partList?.length ?? 0,
        lowLatency: w.__hls.lowLatencyMode,
        errors: w.__errors,
      };
    });
  const end = Date.now() + 30_000;
  let p = await probe();
  while (p.frames < 25 && Date.now() < end) {
    await Bun.sleep(200);
    p = await probe();
  }
  expect(p.errors).toEqual([]);
  expect(p.frames).toBeGreaterThanOrEqual(25);
  // Sample for 8 s once playing.
  const samples: HlsProbe[] = [];
  for (let i = 0; i < 32; i++) {
    await Bun.sleep(250);
    samples.push(await probe());
  }
  const last = samples[samples.length - 1]!;
  expect(last.errors).toEqual([]);
  expect(last.lowLatency).toBe(true);
  expect(last.parts).toBeGreaterThan(0);
  expect(last.time - samples[0]!.time).toBeGreaterThan(6);
  expect(last.frames - samples[0]!.frames).toBeGreaterThan(150);
  const latency = median(samples.map((s) => s.latency));
  const e2e = median(samples.map((s) => s.e2e));
  console.log(
    `hls.js LL-HLS in Chromium: hls.latency p50 ${latency.toFixed(3)} s, e2e (prft/PDT) p50 ${e2e.toFixed(3)} s over ${samples.length} samples`,
  );
  expect(Number.isFinite(latency)).toBe(true);
  expect(Number.isFinite(e2e)).toBe(true);
  await tab.close();
});
