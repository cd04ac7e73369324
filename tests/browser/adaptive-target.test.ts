/**
 * The automatic target follows the network (issue 13 part 1), in Debian's Chromium against a real
 * Sluice fed by ffmpeg over RTMP, which Sluice remuxes to one fMP4 fragment per video frame:
 * - on loopback the player settles at a buffer latency of at most 0.15 s (the old fixed floor was 0.3 s);
 * - behind a real WebSocket proxy that delays every message by a random 0–80 ms (in order, like one
 *   TCP connection; tests/player/ws-proxy.ts) the target rises by itself and playback does not stall.
 * Figures are printed; bench/remux-latency.ts measures e2e latency over longer runs.
 */

import { expect, test } from "bun:test";
import { COUNT_STALLS, rtmpPublisher, waitLive } from "../player/browser-support.ts";
import { redirectScript, startWsProxy } from "../player/ws-proxy.ts";
import { median, openPlayerPage, type PlayerProbe, sample, waitFor } from "./harness.ts";
import { browserSuite } from "./suite.ts";

const suite = browserSuite();
const SETTLE_MS = 8000;
const SAMPLE_MS = 12_000;

interface Run {
  trace: Array<PlayerProbe & { at: number }>;
  stalls: number;
  errors: string[];
}

/** Opens the stream, lets it settle, samples it; stalls are counted over the sampled window only. */
async function watch(stream: string, initScripts: string[] = []): Promise<Run> {
  const { page, errors } = await openPlayerPage(suite.browser.context, `http://127.0.0.1:${suite.sluice.httpPort}/watch/${stream}`, [
    ...initScripts,
    COUNT_STALLS,
  ]);
  try {
    await waitFor(page, (p) => p.state === "playing" && p.frames > 0, 15_000, "playback");
    await Bun.sleep(SETTLE_MS);
    const stalls = () => page.evaluate(() => (window as unknown as { __stalls: number }).__stalls);
    const before = await stalls();
    const trace = await sample(page, SAMPLE_MS, 200);
    return { trace, stalls: (await stalls()) - before, errors };
  } finally {
    await page.close();
  }
}

function summary(r: Run): { buffer: number; target: number; e2e: number; interval: number } {
  return {
    buffer: median(r.trace.map((p) => p.bufferLength)),
    target: median(r.trace.map((p) => p.target)),
    e2e: median(r.trace.filter((p) => p.latencyKind === "e2e").map((p) => p.latency)),
    interval: median(r.trace.map((p) => p.fragmentInterval)),
  };
}

let clean: ReturnType<typeof summary> | undefined;

test("a fragment per frame on loopback settles at a buffer latency of at most 0.15 s", async () => {
  suite.publish(rtmpPublisher(suite.sluice.rtmpPort!, "perframe"));
  await waitLive(suite.sluice.httpPort, "perframe");
  await Bun.sleep(2500); // a full GOP in the cache
  const run = await watch("perframe");
  clean = summary(run);
  const last = run.trace.at(-1)!;
  console.log(
    `per-frame on loopback: buffer ${clean.buffer.toFixed(3)} s, target ${clean.target.toFixed(3)} s, e2e ${clean.e2e.toFixed(3)} s, ` +
      `fragment ${clean.interval.toFixed(3)} s; ${run.stalls} stalls, ${last.jumps} jumps, ${last.dropped}/${last.frames} frames dropped`,
  );
  expect(run.errors).toEqual([]);
  expect(run.trace.every((p) => p.state === "playing")).toBe(true);
  expect(clean.interval).toBeLessThan(0.04);
  expect(clean.target).toBeLessThanOrEqual(0.15);
  expect(clean.buffer).toBeLessThanOrEqual(0.15);
  expect(last.frames - run.trace[0]!.frames).toBeGreaterThan((SAMPLE_MS / 1000) * 20);
}, 60_000);

test("0–80 ms of random delay per message raises the target by itself, without a stall", async () => {
  let seed = 42;
  const rnd = (): number => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  const proxy = startWsProxy(`ws://127.0.0.1:${suite.sluice.httpPort}`, { delayMs: () => 80 * rnd() });
  try {
    const run = await watch("perframe", [redirectScript(`127.0.0.1:${suite.sluice.httpPort}`, proxy.port)]);
    const rough = summary(run);
    console.log(
      `per-frame behind 0–80 ms of jitter: buffer ${rough.buffer.toFixed(3)} s, target ${rough.target.toFixed(3)} s (clean ${clean?.target.toFixed(3)} s), ` +
        `e2e ${rough.e2e.toFixed(3)} s; ${run.stalls} stalls; ${proxy.forwarded} messages through the proxy`,
    );
    expect(run.errors).toEqual([]);
    expect(proxy.forwarded).toBeGreaterThan((SAMPLE_MS / 1000) * 25);
    expect(rough.target).toBeGreaterThan((clean?.target ?? 0.1) + 0.02);
    expect(run.stalls).toBe(0);
  } finally {
    proxy.stop();
  }
}, 60_000);
