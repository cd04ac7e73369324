/**
 * Remuxed sources in a real browser: ffmpeg encodes H.264 + AAC live (lavfi, -re, -tune zerolatency,
 * ~10 s) and publishes it over RTMP and as MPEG-TS over TCP; Debian's Chromium plays each through
 * Sluice's page. Decoded frames must advance without page errors, and since the remuxer writes a
 * `prft` per fragment (stamped when the frame's last byte reached Sluice) the player reports latency
 * of kind "e2e": its median is printed for the record and bounded generously (not a timing target).
 */

import { describe, expect, test } from "bun:test";
import type { IngestFormat } from "../../src/container/types.ts";
import { median, openPlayerPage, sample, saveOutput, waitFor } from "./harness.ts";
import { browserSuite } from "./suite.ts";

const suite = browserSuite();

/** Generous: a broken latency measurement or a player stuck behind shows up; jitter does not. */
const MAX_E2E_SECONDS = 1.0;
const SECONDS = 10;

/** ffmpeg's live H.264 + AAC encode (320x240@30, a keyframe every second), without the output. */
function liveEncode(): string[] {
  return [
    ...["-re", "-f", "lavfi", "-i", `testsrc2=size=320x240:rate=30:duration=${SECONDS}`],
    ...["-re", "-f", "lavfi", "-i", `sine=frequency=440:sample_rate=48000:duration=${SECONDS}`],
    ...["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "30", "-keyint_min", "30", "-sc_threshold", "0"],
    ...["-pix_fmt", "yuv420p", "-b:v", "400k", "-c:a", "aac", "-b:a", "64k"],
  ];
}

const CASES: Array<{ label: string; stream: string; format: IngestFormat; output: () => string[] }> = [
  {
    label: "RTMP",
    stream: "rtmpcam",
    format: "rtmp",
    output: () => ["-f", "flv", `rtmp://127.0.0.1:${suite.sluice.rtmpPort}/live/rtmpcam`],
  },
  {
    label: "MPEG-TS over TCP",
    stream: "live",
    format: "mpegts",
    output: () => ["-f", "mpegts", `tcp://127.0.0.1:${suite.sluice.ingestPort}`],
  },
];

describe("Chromium plays H.264 + AAC remuxed from", () => {
  for (const c of CASES) {
    test(c.label, async () => {
      const { page, errors } = await openPlayerPage(suite.browser.context, `http://127.0.0.1:${suite.sluice.httpPort}/watch/${c.stream}`);
      const ff = suite.publish([...liveEncode(), ...c.output()]);
      const playing = await waitFor(page, (p) => p.state === "playing" && p.frames > 15, 15_000, "playing");
      expect(playing.mime).toMatch(/^video\/mp4; codecs="avc1\.[0-9A-F]{6},mp4a\.40\.2"$/);
      expect(suite.sluice.registry.get(c.stream)?.describe()?.format).toBe(c.format);
      // Let the player settle on its target, then sample 4 s of the stream.
      await Bun.sleep(2000);
      const samples = await sample(page, 4000, 200);
      saveOutput(`remuxed-playback-${c.format}.json`, JSON.stringify(samples, null, 1));
      const e2e = median(samples.map((p) => p.latency));
      const last = samples.at(-1)!;
      console.log(
        `${c.label}: median e2e latency ${e2e.toFixed(3)} s over ${samples.length} samples ` +
          `(min ${Math.min(...samples.map((p) => p.latency)).toFixed(3)}, max ${Math.max(...samples.map((p) => p.latency)).toFixed(3)}), ` +
          `target ${last.target.toFixed(3)} s, buffer ${median(samples.map((p) => p.bufferLength)).toFixed(3)} s, ` +
          `frames ${last.frames} (dropped ${last.dropped}), fragment interval ${last.fragmentInterval.toFixed(3)} s`,
      );
      expect(samples.every((p) => p.state === "playing")).toBe(true);
      expect(samples.every((p) => p.latencyKind === "e2e")).toBe(true);
      // Decoded frames and the clock advance: ~4 s at 30 fps between the first and last sample.
      expect(last.frames - samples[0]!.frames).toBeGreaterThan(60);
      expect(last.currentTime - samples[0]!.currentTime).toBeGreaterThan(3);
      expect(e2e).toBeGreaterThan(0);
      expect(e2e).toBeLessThan(MAX_E2E_SECONDS);
      expect(last.width).toBe(320);
      expect(last.height).toBe(240);
      expect(await ff.done).toBe(0);
      expect(await ff.stderr()).toBe("");
      await waitFor(page, (p) => p.state === "ended", 5000, "ended");
      expect(errors).toEqual([]);
      await page.close();
    }, 40_000);
  }
});
