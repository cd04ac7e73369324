/**
 * The player where neither MediaSource nor ManagedMediaSource exists but the browser plays HLS itself
 * (Safari on iOS before 17.1, for instance). Debian's Chromium 156 has a native HLS player
 * (`canPlayType("application/vnd.apple.mpegurl")` is "maybe"), so with MediaSource deleted by an init
 * script these runs are real end to end: the live stream through Sluice's LL-HLS endpoint, and a
 * recording's VOD playlist (ffmpeg-made, byte ranges) through the browser's HLS. Without native HLS
 * either (canPlayType patched to ""), the player says it cannot play.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mintViewerToken } from "../../src/access/secrets.ts";
import { parseMediaPlaylist } from "../../src/hls/playlist-parse.ts";
import { marks, openPlayerPage, probe, publisherArgs, waitFor } from "./harness.ts";
import { browserSuite } from "./suite.ts";
import { recordVod, startVodServer, type VodServer } from "./vod-fixture.ts";

/** No MSE of any kind; WebSocket constructions counted in `window.__wsCount`. */
const NO_MSE = `(() => {
  delete window.MediaSource;
  delete window.ManagedMediaSource;
  window.__wsCount = 0;
  const Native = window.WebSocket;
  window.WebSocket = class extends Native { constructor(...a) { super(...a); window.__wsCount++; } };
})();`;
const NO_NATIVE_HLS = `HTMLMediaElement.prototype.canPlayType = function (t) { return /mpegurl/i.test(t) ? "" : "maybe"; };`;

const SECRET = "native-hls-test-viewer-secret";
/** With viewer tokens on: the LL-HLS playlist and every URI in it need the token the player carries over. */
const suite = browserSuite(["--viewer-secret", SECRET]);
let vod: VodServer;
let rec: ReturnType<typeof parseMediaPlaylist>;

beforeAll(async () => {
  vod = await startVodServer();
  rec = parseMediaPlaylist(await recordVod(vod.dir, "rec", { seconds: 30, size: "256x144" }));
}, 60_000);

afterAll(async () => {
  await vod?.stop();
});

const inPage = {
  src: () => document.querySelector("sluice-player")!.video.src,
  sockets: () => (window as unknown as { __wsCount: number }).__wsCount,
};

test("live without MediaSource/ManagedMediaSource: the video plays /hls/<stream>/index.m3u8 of the WebSocket's origin natively, the token carried, no WebSocket opened", async () => {
  const port = suite.sluice.httpPort;
  const token = await mintViewerToken(SECRET, "live", Date.now() / 1000 + 300);
  suite.publish(publisherArgs("h264", `tcp://127.0.0.1:${suite.sluice.ingestPort}`));
  const { page, errors } = await openPlayerPage(suite.browser.context, `http://127.0.0.1:${port}/watch/live?token=${token}`, [NO_MSE]);
  expect(
    await page.evaluate(() => [
      typeof (window as unknown as { MediaSource?: unknown }).MediaSource,
      document.createElement("video").canPlayType("application/vnd.apple.mpegurl"),
    ]),
  ).toEqual(["undefined", "maybe"]);
  const playing = await waitFor(page, (p) => p.state === "playing" && p.frames > 25, 30_000, "native HLS playing the live stream");
  expect(await page.evaluate(inPage.src)).toBe(`http://127.0.0.1:${port}/hls/live/index.m3u8?token=${token}`);
  expect(playing.mime).toBe("application/vnd.apple.mpegurl");
  await Bun.sleep(2000);
  const later = await probe(page);
  expect(later.frames).toBeGreaterThan(playing.frames + 25);
  expect(later.state).toBe("playing");
  expect(await page.evaluate(inPage.sockets)).toBe(0);
  const states = (await marks(page)).states.map(
    (s) => `${s.state}${s.message.includes("(") ? ` ${s.message.slice(s.message.indexOf("("))}` : ""}`,
  );
  console.log(
    `native LL-HLS in Chromium: states ${states.join(" → ")}; buffer latency ${later.latency.toFixed(2)} s (${later.latencyKind}), ${later.frames} frames`,
  );
  // The player's first look at the playlist may come before the publisher is live: a 404, shown as "waiting".
  const notLiveYet = errors.filter((e) => e === `HTTP 404 for http://127.0.0.1:${port}/hls/live/index.m3u8?token=${token}`);
  if (notLiveYet.length > 0) expect(states).toContain("waiting");
  // The video gets the playlist once it lists three complete segments: Chromium's HLS never failed and was retried.
  expect(states.filter((s) => s.includes("media error"))).toEqual([]);
  expect(errors.filter((e) => !notLiveYet.includes(e))).toEqual([]);
  await page.close();
}, 60_000);

test("a recording without MediaSource: the video plays the VOD playlist natively, with its duration, and seeks", async () => {
  const { page, errors } = await openPlayerPage(
    suite.browser.context,
    `http://127.0.0.1:${vod.port}/?src=${encodeURIComponent("/vod/rec.m3u8")}`,
    [NO_MSE],
  );
  await waitFor(page, (p) => p.state === "playing" && p.currentTime > 0.5, 15_000, "native HLS playing the recording");
  expect(await page.evaluate(inPage.src)).toBe(`http://127.0.0.1:${vod.port}/vod/rec.m3u8`);
  const duration = await page.evaluate(() => document.querySelector("sluice-player")!.video.duration);
  expect(Math.abs(duration - rec.duration)).toBeLessThan(0.25);
  await page.evaluate(() => {
    document.querySelector("sluice-player")!.video.currentTime = 15;
  });
  const landed = await waitFor(page, (p) => p.currentTime >= 15.2 && p.currentTime < 19 && !p.paused, 10_000, "playback after the seek");
  await Bun.sleep(1000);
  const after = await probe(page);
  expect(after.frames).toBeGreaterThan(landed.frames + 10);
  expect(await page.evaluate(inPage.sockets)).toBe(0);
  expect(errors).toEqual([]);
  await page.close();
}, 60_000);

test("live without MSE and without the viewer token: the server's refusal is shown as an error", async () => {
  const { page } = await openPlayerPage(suite.browser.context, `http://127.0.0.1:${suite.sluice.httpPort}/watch/live`, [NO_MSE]);
  const p = await waitFor(page, (q) => q.state === "error", 10_000, "the error state");
  expect(p.state).toBe("error");
  expect(await page.evaluate(() => document.querySelector("sluice-player")!.shadowRoot!.querySelector(".status")!.textContent)).toMatch(
    /HTTP 401/,
  );
  expect(await page.evaluate(inPage.src)).toBe("");
  expect(await page.evaluate(inPage.sockets)).toBe(0);
  await page.close();
}, 30_000);

test("with neither MSE nor native HLS the player says so and opens nothing", async () => {
  const { page } = await openPlayerPage(suite.browser.context, `http://127.0.0.1:${suite.sluice.httpPort}/watch/live`, [
    NO_MSE,
    NO_NATIVE_HLS,
  ]);
  const p = await waitFor(page, (q) => q.state === "unsupported", 5000, "the unsupported state");
  expect(p.state).toBe("unsupported");
  expect(await page.evaluate(inPage.src)).toBe("");
  expect(await page.evaluate(inPage.sockets)).toBe(0);
  await page.close();
}, 30_000);
