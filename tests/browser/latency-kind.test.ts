/**
 * The latency measurement in a real browser. With `-write_prft wallclock` (a `prft` box per fMP4
 * fragment: publisher wallclock ↔ media time) the player reports encode-to-display latency
 * (`latencyKind` "e2e"); when the publisher restarts without prft the player falls back to the
 * buffer latency (`latencyKind` "buffer") instead of applying the old stream's anchors.
 */

import { expect, test } from "bun:test";
import { median, openPlayerPage, publisherArgs, sample, saveOutput, waitFor } from "./harness.ts";
import { browserSuite } from "./suite.ts";

const suite = browserSuite();

test("with prft the player reports e2e latency (0 < latency < 3 s); after a restart without prft, buffer latency", async () => {
  const ingest = `tcp://127.0.0.1:${suite.sluice.ingestPort}`;
  let ff = suite.publish(publisherArgs("h264", ingest, { prft: true }));
  const { page, errors } = await openPlayerPage(suite.browser.context, `http://127.0.0.1:${suite.sluice.httpPort}/watch/live`);
  await waitFor(page, (p) => p.state === "playing" && p.frames > 25, 15_000, "playing");
  // The `latency` event carries the same value and kind.
  const event = await page.evaluate(
    () =>
      new Promise<{ latency: number; kind: string }>((resolve) =>
        document.querySelector("sluice-player")!.addEventListener("latency", (e) => resolve((e as CustomEvent).detail), { once: true }),
      ),
  );
  expect(event.kind).toBe("e2e");
  await Bun.sleep(2000);
  const withPrft = await sample(page, 3000);
  const e2e = median(withPrft.map((p) => p.latency));
  const buffer = median(withPrft.map((p) => p.bufferLength));
  console.log(`with prft: latency ${e2e.toFixed(3)} s (${withPrft.at(-1)!.latencyKind}), buffer ${buffer.toFixed(3)} s`);
  expect(withPrft.every((p) => p.latencyKind === "e2e")).toBe(true);
  expect(e2e).toBeGreaterThan(0);
  expect(e2e).toBeLessThan(3);
  // The player measures its round trip to the server (ping → pong) for the stats.
  const roundTrip = await page.evaluate(
    () => (document.querySelector("sluice-player") as unknown as { stats: { roundTrip: number } }).stats.roundTrip,
  );
  expect(roundTrip).toBeGreaterThan(0);
  expect(roundTrip).toBeLessThan(0.5);

  ff.stop();
  await ff.done;
  await waitFor(page, (p) => p.state === "ended", 5000, "ended");
  ff = suite.publish(publisherArgs("h264", ingest));
  await waitFor(page, (p) => p.state === "playing", 10_000, "playing again");
  await Bun.sleep(3000);
  const withoutPrft = await sample(page, 2000);
  saveOutput("latency-kind.json", JSON.stringify({ withPrft, withoutPrft }, null, 1));
  const latency = median(withoutPrft.map((p) => p.latency));
  console.log(`without prft: latency ${latency.toFixed(3)} s (${withoutPrft.at(-1)!.latencyKind})`);
  expect(withoutPrft.every((p) => p.latencyKind === "buffer" && p.state === "playing")).toBe(true);
  expect(latency).toBeGreaterThan(0);
  expect(latency).toBeLessThan(3);
  expect(errors).toEqual([]);
}, 60_000);
