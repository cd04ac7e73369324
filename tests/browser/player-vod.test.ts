/**
 * `<sluice-player src="….m3u8">` plays a recording through its VOD loader (static/player/vod-player.ts)
 * in real Chromium with MediaSource: a VOD playlist of EXT-X-BYTERANGE segments written by real ffmpeg,
 * served with `Range` support and a viewer token demanded on every request (the player carries the
 * playlist URL's token onto the relative segment URIs). Checked: the duration is the playlist's, only
 * the segments around the playhead are fetched (with Range), a seek to the middle lands there and
 * plays on, EXT-X-DISCONTINUITY with a new EXT-X-MAP (another resolution) plays through to the end,
 * and broken or refused playlists end in a clear error state.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { mintViewerToken } from "../../src/access/secrets.ts";
import { type MediaPlaylist, parseMediaPlaylist } from "../../src/hls/playlist-parse.ts";
import { runFfmpeg } from "../helpers/ffmpeg.ts";
import { startTestSluice } from "../helpers/sluice.ts";
import { type Browser, launchBrowser, openPlayerPage, probe, publisherArgs, waitFor } from "./harness.ts";
import { recordVod, startVodServer, type VodServer } from "./vod-fixture.ts";

const TOKEN = "t0k3n";
let browser: Browser;
let server: VodServer;
let long: MediaPlaylist;

beforeAll(async () => {
  browser = await launchBrowser();
  server = await startVodServer(TOKEN);
  const [longText, a, b] = await Promise.all([
    recordVod(server.dir, "long", { seconds: 60, size: "256x144" }),
    recordVod(server.dir, "a", { seconds: 8, size: "320x240" }),
    recordVod(server.dir, "b", { seconds: 8, size: "256x144" }),
  ]);
  long = parseMediaPlaylist(longText);
  // Two recordings in one playlist, like a time range spanning two files: the second after EXT-X-DISCONTINUITY
  // with its own EXT-X-MAP, each with EXT-X-PROGRAM-DATE-TIME, the second's URIs absolute paths.
  const body = (text: string) => text.split("\n").filter((l) => /^#EXT(INF|-X-BYTERANGE|-X-MAP)|^[^#]/.test(l) && l.trim() !== "");
  const disc = [
    "#EXTM3U",
    "#EXT-X-VERSION:7",
    "#EXT-X-TARGETDURATION:2",
    "#EXT-X-PLAYLIST-TYPE:VOD",
    "#EXT-X-INDEPENDENT-SEGMENTS",
    "#EXT-X-PROGRAM-DATE-TIME:2026-12-01T10:00:00.000Z",
    ...body(a),
    "#EXT-X-DISCONTINUITY",
    "#EXT-X-PROGRAM-DATE-TIME:2026-12-01T11:00:00.000Z",
    ...body(b).map((l) => l.replace(/^b\.mp4$/, "/vod/b.mp4").replace('URI="b.mp4"', 'URI="/vod/b.mp4"')),
    "#EXT-X-ENDLIST",
  ];
  await server.write("disc.m3u8", `${disc.join("\n")}\n`);
  await server.write("garbage.m3u8", "<html>not a playlist</html>\n");
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const pageFor = (src: string) => `http://127.0.0.1:${server.port}/?src=${encodeURIComponent(src)}`;

const videoState = (page: Page) =>
  page.evaluate(() => {
    const p = document.querySelector("sluice-player")!;
    const v = p.video;
    return {
      duration: v.duration,
      controls: v.controls,
      seeking: v.seeking,
      width: v.videoWidth,
      ended: v.ended,
      message: p.shadowRoot!.querySelector(".status")!.textContent,
    };
  });

/** The media time of the next frame presented (requestVideoFrameCallback). */
const presentedMediaTime = (page: Page) =>
  page.evaluate(
    () =>
      new Promise<number>((done) => document.querySelector("sluice-player")!.video.requestVideoFrameCallback((_t, m) => done(m.mediaTime))),
  );

/** Segments of `pl` that some recorded request's byte range overlapped. */
function segmentsRequested(pl: MediaPlaylist, file: string): Set<number> {
  const hit = new Set<number>();
  for (const r of server.requests.filter((q) => q.path === `/vod/${file}` && q.status === 206)) {
    const [, a, b] = /bytes=(\d+)-(\d+)/.exec(r.range)!.map(Number) as [number, number, number];
    pl.segments.forEach((s, i) => {
      const o = s.byteRange!.offset;
      if (o <= b && o + s.byteRange!.length - 1 >= a) hit.add(i);
    });
  }
  return hit;
}

test("plays a VOD playlist of byte ranges: the playlist's duration, only the segments near the playhead fetched, a seek to the middle lands and plays on", async () => {
  const { page, errors } = await openPlayerPage(browser.context, pageFor(`/vod/long.m3u8?token=${TOKEN}`));
  await waitFor(page, (p) => p.state === "playing" && p.currentTime > 1 && p.frames > 25, 15_000, "the recording playing");
  const before = await videoState(page);
  expect(Math.abs(before.duration - long.duration)).toBeLessThan(0.25);
  expect(before.controls).toBe(true); // the seek bar
  expect(before.message).toBe(""); // no "● playing" live badge on a recording
  const media = server.requests.filter((r) => r.path === "/vod/long.mp4");
  expect(media.length).toBeGreaterThan(0);
  expect(media.every((r) => r.range !== "" && r.status === 206)).toBe(true);
  const early = segmentsRequested(long, "long.mp4");
  expect(Math.max(...early)).toBeLessThan(long.segments.findIndex((s) => s.start >= 30)); // not the whole file

  await page.evaluate(() => {
    document.querySelector("sluice-player")!.video.currentTime = 40;
  });
  const landed = await waitFor(
    page,
    (p) => p.currentTime >= 40.2 && p.currentTime < 45 && !p.paused,
    10_000,
    "playback after the seek to 40 s",
  );
  const mediaTime = await presentedMediaTime(page);
  expect(mediaTime).toBeGreaterThanOrEqual(40);
  expect(mediaTime).toBeLessThan(43);
  await Bun.sleep(1000);
  const after = await probe(page);
  expect(after.frames).toBeGreaterThan(landed.frames + 10); // frames keep coming after the seek
  expect(after.currentTime).toBeGreaterThan(landed.currentTime + 0.5);
  expect(after.state).toBe("playing");
  // What lies between the first load and the seek target was never fetched.
  const all = segmentsRequested(long, "long.mp4");
  const skipped = long.segments.findIndex((s) => s.start >= 30);
  expect(all.has(skipped)).toBe(false);
  expect(all.has(long.segments.findIndex((s) => s.start >= 40))).toBe(true);
  console.log(
    `VOD: ${early.size} segments fetched before the seek, ${all.size} of ${long.segments.length} in all; media time after the seek ${mediaTime.toFixed(3)} s`,
  );
  expect(errors).toEqual([]);
  await page.close();
}, 60_000);

test("seeks in quick succession (30, 5, 60 and 0 ms apart) end where the last one asked, and play on", async () => {
  const { page, errors } = await openPlayerPage(browser.context, pageFor(`/vod/long.m3u8?token=${TOKEN}`));
  await waitFor(page, (p) => p.state === "playing" && p.currentTime > 0.3, 15_000, "the recording playing");
  for (const [t, pause] of [
    [50, 30],
    [12, 5],
    [57, 60],
    [33, 0],
  ] as const) {
    await page.evaluate((to) => {
      document.querySelector("sluice-player")!.video.currentTime = to;
    }, t);
    await Bun.sleep(pause);
  }
  const landed = await waitFor(page, (p) => p.currentTime >= 33.2 && !p.paused, 10_000, "playback after the last seek (33 s)");
  expect(landed.currentTime).toBeLessThan(37);
  await Bun.sleep(1000);
  const after = await probe(page);
  expect(after.frames).toBeGreaterThan(landed.frames + 10);
  expect(after.state).toBe("playing");
  expect(errors).toEqual([]);
  await page.close();
}, 60_000);

test("plays through EXT-X-DISCONTINUITY into a file with another EXT-X-MAP (another resolution) to the end", async () => {
  const disc = parseMediaPlaylist(await Bun.file(`${server.dir}/disc.m3u8`).text());
  const { page, errors } = await openPlayerPage(browser.context, pageFor(`/vod/disc.m3u8?token=${TOKEN}`));
  await waitFor(page, (p) => p.state === "playing" && p.width === 320, 15_000, "the first file playing");
  expect(Math.abs((await videoState(page)).duration - disc.duration)).toBeLessThan(0.25);
  await page.evaluate(() => {
    document.querySelector("sluice-player")!.video.currentTime = 6.5;
  });
  const second = await waitFor(page, (p) => p.currentTime > 9 && p.width === 256, 10_000, "the second file (256x144) after the boundary");
  expect(second.state).toBe("playing");
  const end = await waitFor(page, (p) => p.state === "ended", 15_000, "the end of the recording");
  const v = await videoState(page);
  expect(v.ended).toBe(true);
  expect(v.message).toBe("end of the recording");
  expect(Math.abs(end.currentTime - disc.duration)).toBeLessThan(0.25);
  expect(server.requests.some((r) => r.path === "/vod/b.mp4" && r.status === 206)).toBe(true);
  expect(errors).toEqual([]);
  await page.close();
}, 60_000);

test("a playlist that is not one, or refused without the token, ends in a clear error state", async () => {
  for (const [src, message] of [
    [`/vod/garbage.m3u8?token=${TOKEN}`, /not an HLS playlist/],
    ["/vod/long.m3u8", /HTTP 401/],
  ] as const) {
    const { page } = await openPlayerPage(browser.context, pageFor(src));
    const p = await waitFor(page, (q) => q.state === "error", 10_000, `an error for ${src}`);
    expect(p.state).toBe("error");
    expect((await videoState(page)).message).toMatch(message);
    await page.close();
  }
}, 30_000);

test("a real Sluice recording (two publisher sessions, viewer tokens on) plays from /hls/<stream>/vod.m3u8 across the file boundary to the end", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sluice-rec-"));
  const secret = "vod-test-viewer-secret";
  const sluice = await startTestSluice(["--record", dir, "--viewer-secret", secret]);
  try {
    const from = Date.now() - 1000;
    for (const seconds of [6, 5]) {
      const run = runFfmpeg(publisherArgs("h264", `tcp://127.0.0.1:${sluice.ingestPort}`, { seconds }));
      expect(await run.done).toBe(0);
      await Bun.sleep(300);
    }
    const token = await mintViewerToken(secret, "live", Date.now() / 1000 + 300);
    const playlistUrl = `http://127.0.0.1:${sluice.httpPort}/hls/live/vod.m3u8?from=${from}&to=${Date.now() + 1000}&token=${token}`;
    const pl = parseMediaPlaylist(await (await fetch(playlistUrl)).text());
    expect(pl.segments.filter((x) => x.discontinuity)).toHaveLength(1);
    // The page is Sluice's own; the player element is pointed at the recording.
    const { page, errors } = await openPlayerPage(browser.context, `http://127.0.0.1:${sluice.httpPort}/watch/live?token=${token}`);
    await page.evaluate((src) => document.querySelector("sluice-player")!.setAttribute("src", src), playlistUrl);
    await waitFor(page, (p) => p.state === "playing" && p.currentTime > 0.3, 15_000, "the recording playing");
    expect(Math.abs((await videoState(page)).duration - pl.duration)).toBeLessThan(0.25);
    const boundary = pl.segments.find((x) => x.discontinuity)!.start;
    await page.evaluate((t) => {
      document.querySelector("sluice-player")!.video.currentTime = t;
    }, boundary - 1.5);
    await waitFor(page, (p) => p.currentTime > boundary + 0.5, 10_000, "playback past the file boundary");
    const end = await waitFor(page, (p) => p.state === "ended", 15_000, "the end of the recording");
    expect(Math.abs(end.currentTime - pl.duration)).toBeLessThan(0.25);
    expect(end.frames).toBeGreaterThan(100);
    // The page's own WebSocket to the (ended) live stream was closed when src changed; nothing failed.
    expect(errors).toEqual([]);
    await page.close();
  } finally {
    await sluice.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}, 90_000);
