/**
 * Drift-free playback (issue 13 part 4), in Debian's Chromium against a real Sluice fed by ffmpeg over
 * RTMP (a fragment per frame), the player's WebSocket going through a real proxy that can hold, drop
 * or corrupt the server's messages (tests/player/ws-proxy.ts):
 * - a decode error (a fragment naming a track the init does not have) recovers without a reload;
 * - a stalled link (nothing for 3 s, then everything at once) returns to the live edge;
 * - lost fragments (a hole in the buffer) are stepped over;
 * - a background tab returns to the live edge within 1 s of becoming visible, whether the browser
 *   froze the page's scripts meanwhile or paused the video.
 * "Without a reload": the page, its element and its WebSocket stay (a marker set on the page survives,
 * no reconnect is counted).
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { COUNT_STALLS, EMULATE_VISIBILITY, rtmpPublisher, waitLive } from "../player/browser-support.ts";
import { redirectScript, startWsProxy, type WsProxy } from "../player/ws-proxy.ts";
import { openPlayerPage, type PlayerProbe, probe, waitFor } from "./harness.ts";
import { browserSuite } from "./suite.ts";

const suite = browserSuite();
let proxy: WsProxy;

beforeAll(async () => {
  proxy = startWsProxy(`ws://127.0.0.1:${suite.sluice.httpPort}`);
  suite.publish(rtmpPublisher(suite.sluice.rtmpPort!, "recovery"));
  await waitLive(suite.sluice.httpPort, "recovery");
  await Bun.sleep(2500);
}, 30_000);

afterAll(() => proxy.stop());

/** A page playing the stream through the proxy, past its start; `window.__marker` detects a reload. */
async function playing(): Promise<{ page: Page; errors: string[]; start: PlayerProbe }> {
  proxy.rules.binary = undefined;
  const opened = await openPlayerPage(suite.browser.context, `http://127.0.0.1:${suite.sluice.httpPort}/watch/recovery`, [
    redirectScript(`127.0.0.1:${suite.sluice.httpPort}`, proxy.port),
    EMULATE_VISIBILITY,
    COUNT_STALLS,
  ]);
  await waitFor(opened.page, (p) => p.state === "playing" && p.frames > 30, 15_000, "playback");
  await Bun.sleep(4000);
  await opened.page.evaluate(() => {
    (window as unknown as { __marker: number }).__marker = 42;
  });
  return { ...opened, start: await probe(opened.page) };
}

async function sameDocument(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { __marker?: number }).__marker === 42);
}

const stalls = (page: Page) => page.evaluate(() => (window as unknown as { __stalls: number }).__stalls);

/**
 * ms from now until the picture on screen is live again: its e2e latency (the remuxer stamps each
 * fragment with the wallclock its frame reached Sluice) within `slack` of the target, and playing.
 */
async function timeToEdge(page: Page, slack: number, ms: number): Promise<{ ms: number; probe: PlayerProbe }> {
  const t0 = Date.now();
  const p = await waitFor(page, (q) => !q.paused && q.latencyKind === "e2e" && q.latency <= q.target + slack, ms, "the live edge");
  return { ms: Date.now() - t0, probe: p };
}

/** Offset of the u32 track_ID of the first tfhd box (ISO/IEC 14496-12 §8.8.7: size, type, version+flags, track_ID). */
function tfhdTrackIdAt(bytes: Uint8Array): number {
  for (let i = 4; i + 12 <= bytes.byteLength; i++) {
    if (bytes[i] === 0x74 && bytes[i + 1] === 0x66 && bytes[i + 2] === 0x68 && bytes[i + 3] === 0x64) return i + 8;
  }
  return -1;
}

test("a decode error recovers without a reload: a new MediaSource from the next keyframe", async () => {
  const { page, errors, start } = await playing();
  try {
    let corrupted = 0;
    proxy.rules.binary = (bytes) => {
      const at = corrupted === 0 ? tfhdTrackIdAt(bytes) : -1;
      if (at < 0) return bytes;
      corrupted++;
      const bad = bytes.slice();
      new DataView(bad.buffer).setUint32(at, 99); // a track the init segment does not declare
      return bad;
    };
    const p = await waitFor(page, (q) => q.recreations > start.recreations && q.state === "playing", 10_000, "a recreated MediaSource");
    const recovered = await waitFor(page, (q) => q.frames > p.frames + 60 && q.bufferLength < 1, 15_000, "playback after the error");
    console.log(
      `decode error: ${recovered.recreations - start.recreations} MediaSource recreation(s); playing again with ${recovered.bufferLength.toFixed(3)} s buffered`,
    );
    expect(corrupted).toBe(1);
    expect(recovered.state).toBe("playing");
    expect(recovered.reconnects).toBe(start.reconnects);
    expect(await sameDocument(page)).toBe(true);
    // The browser logs the failed append; nothing else may go wrong.
    expect(errors.filter((e) => !/media|append|decode|track/i.test(e))).toEqual([]);
  } finally {
    proxy.rules.binary = undefined;
    await page.close();
  }
}, 60_000);

test("a stalled link (3 s without data, then all at once) returns to the live edge without a reload", async () => {
  const { page, errors, start } = await playing();
  try {
    const before = await stalls(page);
    proxy.hold();
    await Bun.sleep(3000);
    const dry = await probe(page);
    proxy.release();
    const back = await timeToEdge(page, 0.3, 5000);
    console.log(
      `stalled link: back at the live edge ${back.ms} ms after the data flowed again (e2e ${back.probe.latency.toFixed(3)} s, target ${back.probe.target.toFixed(3)} s)`,
    );
    expect(dry.bufferLength).toBeLessThan(0.1); // the buffer really ran dry
    expect(await stalls(page)).toBeGreaterThan(before);
    // After an underflow Chromium resumes only with 0.4–0.9 s buffered (its audio renderer grows its
    // queue): the jump lands there and the rate takes the rest.
    expect(back.ms).toBeLessThan(4000);
    expect(back.probe.jumps).toBeGreaterThan(start.jumps);
    expect(back.probe.recreations).toBe(start.recreations);
    expect(back.probe.reconnects).toBe(start.reconnects);
    expect(await sameDocument(page)).toBe(true);
    expect(errors).toEqual([]);
  } finally {
    await page.close();
  }
}, 60_000);

test("lost fragments (a hole in the buffer) are stepped over", async () => {
  const { page, errors, start } = await playing();
  try {
    let dropped = 0;
    proxy.rules.binary = (bytes) => {
      // Six fragments in a row (0.2 s of media), skipping keyframe ones (much larger than the others here).
      if (dropped < 6 && bytes.byteLength < 20_000 && tfhdTrackIdAt(bytes) > 0) {
        dropped++;
        return undefined;
      }
      return bytes;
    };
    await Bun.sleep(4000);
    const p = await waitFor(page, (q) => q.frames > start.frames + 150, 15_000, "playback past the hole");
    console.log(
      `hole: ${dropped} fragments dropped; ${p.nudges - start.nudges} nudge(s), ${p.jumps - start.jumps} jump(s); buffer ${p.bufferLength.toFixed(3)} s`,
    );
    expect(dropped).toBe(6);
    expect(p.state).toBe("playing");
    expect(p.bufferLength).toBeLessThan(1);
    expect(p.recreations).toBe(start.recreations);
    expect(await sameDocument(page)).toBe(true);
    expect(errors).toEqual([]);
  } finally {
    proxy.rules.binary = undefined;
    await page.close();
  }
}, 60_000);

test("a background tab returns to the live edge within 1 s of becoming visible", async () => {
  const { page, errors } = await playing();
  try {
    const cdp = await suite.browser.context.newCDPSession(page);
    await cdp.send("Debugger.enable");

    // 1. The browser froze the hidden page's scripts for 4 s (Chromium freezes background tabs): the
    //    media ran dry, the WebSocket's messages waited; the tab becomes visible as the page thaws.
    await page.evaluate(() => (window as unknown as { __setHidden(h: boolean): void }).__setHidden(true));
    await cdp.send("Debugger.pause");
    await Bun.sleep(4000);
    await cdp.send("Debugger.resume");
    await page.evaluate(() => (window as unknown as { __setHidden(h: boolean): void }).__setHidden(false));
    const thawed = await timeToEdge(page, 0.3, 3000);

    // 2. The browser paused the hidden video (background media optimisation) and resumes it when shown.
    await page.evaluate(() => {
      (window as unknown as { __setHidden(h: boolean): void }).__setHidden(true);
      document.querySelector("sluice-player")!.video.pause();
    });
    await Bun.sleep(4000);
    await page.evaluate(() => {
      void document.querySelector("sluice-player")!.video.play();
      (window as unknown as { __setHidden(h: boolean): void }).__setHidden(false);
    });
    const resumed = await timeToEdge(page, 0.3, 3000);

    console.log(
      `background tab: back at the live edge ${thawed.ms} ms after a frozen page became visible, ` +
        `${resumed.ms} ms after a paused video was resumed (e2e ${resumed.probe.latency.toFixed(3)} s)`,
    );
    expect(thawed.ms).toBeLessThan(1000);
    expect(resumed.ms).toBeLessThan(1000);
    expect(await sameDocument(page)).toBe(true);
    expect(errors).toEqual([]);
  } finally {
    await page.close();
  }
}, 60_000);
