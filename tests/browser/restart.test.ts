/**
 * Publisher restarts in a real browser: ffmpeg stops and starts again on the same stream, first
 * with the same codec (H.264 fMP4), then switching container and codec (fMP4 → VP8 WebM), then
 * back (WebM → fMP4). The page is never reloaded and its WebSocket stays open; after every switch
 * the player is "playing" again and frames and currentTime advance.
 */

import { expect, test } from "bun:test";
import { CODECS, type Codec, marks, openPlayerPage, probe, publisherArgs, videoFrameStats, waitFor } from "./harness.ts";
import { browserSuite } from "./suite.ts";

const suite = browserSuite();

const mimeOf = (codec: Codec) => CODECS.find((c) => c.codec === codec)!.mime;

test("the publisher restarts (same codec), then switches fMP4 → WebM and back: playback resumes each time without a page reload", async () => {
  const ingest = `tcp://127.0.0.1:${suite.sluice.ingestPort}`;
  let ff = suite.publish(publisherArgs("h264", ingest));
  const { page, errors } = await openPlayerPage(suite.browser.context, `http://127.0.0.1:${suite.sluice.httpPort}/watch/live`);
  await waitFor(page, (p) => p.state === "playing" && p.frames > 25, 15_000, "the first publisher playing");
  // A reload would lose this.
  await page.evaluate(() => ((window as unknown as { pageToken: number }).pageToken = 4242));

  const steps: Array<{ codec: Codec; what: string }> = [
    { codec: "h264", what: "restart with the same codec (H.264 fMP4)" },
    { codec: "vp8", what: "switch fMP4 → WebM (VP8 + Opus)" },
    { codec: "h264", what: "switch WebM → fMP4 (H.264 + AAC)" },
  ];
  for (const step of steps) {
    ff.stop();
    await ff.done; // SIGINT: ffmpeg finishes its output and exits (code 255)
    await waitFor(page, (p) => p.state === "ended", 5000, `state "ended" before: ${step.what}`);
    const before = await probe(page);
    const startedAt = Date.now();
    ff = suite.publish(publisherArgs(step.codec, ingest));
    const resumed = await waitFor(
      page,
      (p) =>
        p.state === "playing" &&
        mimeOf(step.codec).test(p.mime) &&
        p.frames >= before.frames + 5 &&
        p.currentTime > before.currentTime + 0.2 &&
        !p.paused,
      15_000,
      `playback after: ${step.what}`,
    );
    await Bun.sleep(3000);
    const after = await probe(page);
    console.log(
      `${step.what}: frames advancing ${Date.now() - startedAt - 3000} ms after ffmpeg started; then +${after.frames - resumed.frames} frames, +${(after.currentTime - resumed.currentTime).toFixed(2)} s in 3 s; latency ${after.latency.toFixed(3)} s; restarts ${after.restarts}, recreations ${after.recreations}, reconnects ${after.reconnects}`,
    );
    expect(after.state).toBe("playing");
    expect(after.frames - resumed.frames).toBeGreaterThanOrEqual(50);
    expect(after.currentTime - resumed.currentTime).toBeGreaterThan(2.4);
    expect(Math.abs(after.latency - after.target)).toBeLessThan(0.75);
  }

  const last = await probe(page);
  expect(await page.evaluate(() => (window as unknown as { pageToken?: number }).pageToken)).toBe(4242);
  expect(last.reconnects).toBe(0); // one WebSocket throughout
  // Every publisher change was handled once, in the same page (new init in the SourceBuffer, or a new MediaSource).
  expect(last.restarts + last.recreations).toBe(3);
  const states = (await marks(page)).states.map((s) => s.state).filter((s, i, all) => s !== all[i - 1]);
  expect(states.slice(-7)).toEqual(["playing", "ended", "playing", "ended", "playing", "ended", "playing"]);
  const frame = await videoFrameStats(page);
  expect(frame.distinctColours).toBeGreaterThan(100);
  expect(errors).toEqual([]);
}, 90_000);
