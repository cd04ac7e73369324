/**
 * The player's ManagedMediaSource path (Safari 17.1+, iOS 17.1+), *emulated* in Chromium, which has
 * no ManagedMediaSource: an init script removes `window.MediaSource` and provides a
 * `ManagedMediaSource` (a MediaSource subclass with the `streaming` attribute and the
 * `startstreaming` / `endstreaming` events, driven by the test). This proves the player's side of
 * the contract — it picks ManagedMediaSource when MediaSource is absent, appends only while the
 * browser asks for data, keeps just the latest GOP while it does not, and returns to the live edge
 * when streaming resumes — not Safari's behaviour, which is not tested here.
 */

import { expect, test } from "bun:test";
import { openPlayerPage, probe, publisherArgs, waitFor } from "./harness.ts";
import { browserSuite } from "./suite.ts";

/** A scriptable ManagedMediaSource on top of Chromium's MediaSource; `window.__mms.set(bool)` drives it. */
const EMULATE_MMS = `(() => {
  const Native = window.MediaSource;
  const control = (window.__mms = { instances: [], streaming: true, set(on) {
    control.streaming = on;
    for (const ms of control.instances) { ms.streaming = on; ms.dispatchEvent(new Event(on ? "startstreaming" : "endstreaming")); }
  } });
  class ManagedMediaSource extends Native {
    constructor() {
      super();
      this.streaming = false;
      control.instances.push(this);
      // Like Safari: streaming starts once the source is open.
      this.addEventListener("sourceopen", () => { if (control.streaming) { this.streaming = true; this.dispatchEvent(new Event("startstreaming")); } });
    }
  }
  window.ManagedMediaSource = ManagedMediaSource;
  delete window.MediaSource;
})();`;

const suite = browserSuite();

test("with only ManagedMediaSource (emulated): plays, holds appends while the browser does not ask for data, then resumes at the live edge", async () => {
  suite.publish(publisherArgs("h264", `tcp://127.0.0.1:${suite.sluice.ingestPort}`));
  const { page, errors } = await openPlayerPage(suite.browser.context, `http://127.0.0.1:${suite.sluice.httpPort}/watch/live`, [
    EMULATE_MMS,
  ]);
  await waitFor(page, (p) => p.state === "playing" && p.frames > 25, 15_000, "playing through ManagedMediaSource");
  const used = await page.evaluate(() => ({
    mediaSource: typeof (window as unknown as { MediaSource?: unknown }).MediaSource,
    instances: (window as unknown as { __mms: { instances: unknown[] } }).__mms.instances.length,
  }));
  expect(used).toEqual({ mediaSource: "undefined", instances: 1 });

  // The browser stops asking for data for 3 s: nothing is appended, the buffer runs out, the queue keeps one GOP.
  await page.evaluate(() => (window as unknown as { __mms: { set(on: boolean): void } }).__mms.set(false));
  const idleStart = await probe(page);
  const bufferedEnd = () =>
    page.evaluate(() => {
      const b = document.querySelector("sluice-player")!.video.buffered;
      return b.length ? b.end(b.length - 1) : 0;
    });
  const endAtIdle = await bufferedEnd();
  await Bun.sleep(3000);
  const idle = await probe(page);
  expect(await bufferedEnd()).toBeLessThan(endAtIdle + 0.15); // at most the append in flight
  const dropped = await page.evaluate(() => document.querySelector("sluice-player")!.stats.fragmentsDropped);
  expect(dropped).toBeGreaterThan(0); // older GOPs were dropped from the queue, not appended late

  await page.evaluate(() => (window as unknown as { __mms: { set(on: boolean): void } }).__mms.set(true));
  const resumed = await waitFor(
    page,
    (p) => p.frames > idle.frames + 10 && !p.paused && Math.abs(p.latency - p.target) < 0.75,
    10_000,
    "playback back at the live edge",
  );
  console.log(
    `emulated ManagedMediaSource: ${dropped} fragments dropped while idle; frames ${idleStart.frames} → ${idle.frames} (idle) → ${resumed.frames}; latency after resuming ${resumed.latency.toFixed(3)} s`,
  );
  await Bun.sleep(2000);
  const after = await probe(page);
  expect(after.state).toBe("playing");
  expect(after.frames - resumed.frames).toBeGreaterThanOrEqual(30);
  expect(after.recreations).toBe(0);
  expect(errors).toEqual([]);
}, 60_000);
