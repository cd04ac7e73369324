/**
 * The two documented SRT set-ups, really run: Sluice has no SRT listener of its own, an SRT
 * receiver hands the MPEG-TS to an ingest port.
 *
 * (a) ffmpeg as the SRT listener, copying to the TCP ingest:
 *     ffmpeg -i "srt://127.0.0.1:PORT?mode=listener" -c copy -f mpegts tcp://127.0.0.1:INGEST
 * (b) Debian's srt-live-transmit, forwarding to a UDP ingest (`--ingest-udp PORT=STREAM`):
 *     srt-live-transmit srt://:PORT udp://127.0.0.1:UDPPORT
 *
 * Each is fed by an ffmpeg SRT caller (`-re -i SRC -c copy -f mpegts srt://127.0.0.1:PORT...`); the
 * stream must go live with format mpegts and a viewer must receive fragments starting with a keyframe.
 */

import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { runFfmpeg } from "../helpers/ffmpeg.ts";
import { startTestSluice, type TestSluice } from "../helpers/sluice.ts";
import { connectViewer, sessions, type TestViewer, texts } from "../helpers/ws-viewer.ts";
import { apiStream, collectRelay, expectSameMedia, expectSluiceParses, fragmentKeyframes, makeSource, tempDir } from "./remux-compare.ts";

setDefaultTimeout(30_000);

const SECONDS = 2;
/**
 * ffmpeg's SRT listener probes its input for `-analyzeduration` (5 s by default) before it writes
 * anything, so a shorter stream reaches Sluice in one burst at its end; set-up (a) sends 7 s so the
 * stream is live (and watched) while the caller still sends.
 */
const LISTENER_SECONDS = 7;
/** The UDP ingest's publisher ends by going silent: the idle watchdog closes it after this long. */
const IDLE_SECONDS = 1;

let sluice: TestSluice;
let tmp: ReturnType<typeof tempDir>;
let src: string;
let longSrc: string;
const spawned: Subprocess[] = [];

beforeAll(async () => {
  tmp = tempDir("sluice-srt-");
  src = makeSource(join(tmp.dir, "src.mp4"), { video: "h264", audio: "aac", seconds: SECONDS, tune: "zerolatency" });
  longSrc = makeSource(join(tmp.dir, "long.mp4"), { video: "h264", audio: "aac", seconds: LISTENER_SECONDS, tune: "zerolatency" });
  sluice = await startTestSluice(["--publisher-idle-seconds", String(IDLE_SECONDS), "--ingest", "0=srta", "--ingest-udp", "0=srtb"]);
});

afterAll(async () => {
  for (const p of spawned) if (p.exitCode === null) p.kill();
  await Promise.all(spawned.map((p) => p.exited));
  await sluice?.stop();
  tmp?.cleanup();
});

/** A UDP port that was free a moment ago. */
async function freeUdpPort(): Promise<number> {
  const s = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
  const port = s.port;
  s.close();
  return port;
}

/** Waits until something has bound UDP `port` (an SRT listener is ready). */
async function untilBound(port: number, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const s = await Bun.udpSocket({ hostname: "127.0.0.1", port });
      s.close();
    } catch {
      return;
    }
    await Bun.sleep(20);
  }
  throw new Error(`${what} did not bind UDP port ${port} within ${ms} ms`);
}

async function viewerBefore(stream: string): Promise<TestViewer> {
  const v = await connectViewer(`ws://127.0.0.1:${sluice.httpPort}/ws/${stream}`);
  await v.until((m) => texts(m, "waiting").length > 0, 5000, "waiting");
  return v;
}

/** The SRT caller: ffmpeg sending the source file in real time. */
async function srtCaller(file: string, url: string): Promise<void> {
  const ff = runFfmpeg(["-re", "-i", file, "-c", "copy", "-f", "mpegts", url]);
  const [code, stderr] = await Promise.all([ff.done, ff.stderr()]);
  expect(stderr).toBe("");
  expect(code).toBe(0);
}

/**
 * Watches `/api/streams` for `stream` (every 10 ms) until `stop()`: whether it was ever seen live and
 * with which formats.
 */
function watchApi(stream: string): { stop(): Promise<{ live: boolean; formats: string[] }> } {
  let running = true;
  const seen = { live: false, formats: [] as string[] };
  const loop = (async () => {
    while (running) {
      const s = await apiStream(sluice.httpPort, stream);
      if (s?.live) {
        seen.live = true;
        if (!seen.formats.includes(String(s.format))) seen.formats.push(String(s.format));
      }
      await Bun.sleep(10);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return seen;
    },
  };
}

/** Milliseconds from `since` until the viewer's first fragment. */
async function firstFragmentAfter(viewer: TestViewer, since: number): Promise<number> {
  await viewer.until((m) => (sessions(m)[0]?.fragments.length ?? 0) > 0, 15_000, "a fragment");
  return Date.now() - since;
}

test("(a) ffmpeg SRT listener → TCP ingest: live as mpegts, fragments from a keyframe on, the same media", async () => {
  const port = await freeUdpPort();
  const viewer = await viewerBefore("srta");
  const api = watchApi("srta");
  const listener = Bun.spawn(
    [
      "ffmpeg",
      "-hide_banner",
      "-loglevel",
      "error",
      "-nostdin",
      "-i",
      `srt://127.0.0.1:${port}?mode=listener`,
      "-c",
      "copy",
      "-f",
      "mpegts",
      `tcp://127.0.0.1:${sluice.ingestPorts.srta}`,
    ],
    { stdin: "ignore", stdout: "ignore", stderr: "pipe" },
  );
  spawned.push(listener);
  await untilBound(port, "ffmpeg's SRT listener");
  const started = Date.now();
  const caller = srtCaller(longSrc, `srt://127.0.0.1:${port}?mode=caller`);
  const delay = await firstFragmentAfter(viewer, started);
  console.log(`(a) ffmpeg SRT listener: first fragment ${delay} ms after the caller started`);
  await caller;
  // The caller's end ends the listener's input: it exits (0, though it prints "Input/output error")
  // and closes the TCP ingest connection.
  const [code, stderr] = await Promise.all([listener.exited, new Response(listener.stderr).text()]);
  expect(stderr).not.toMatch(/Connection refused|Broken pipe/);
  expect(code).toBe(0);
  const relay = await collectRelay(viewer, join(tmp.dir, "srta.mp4"));
  viewer.close();
  expect(await api.stop()).toEqual({ live: true, formats: ["mpegts"] });
  expect(relay.stream.format).toBe("mpegts");
  const events = expectSluiceParses(relay.init, relay.fragments);
  expect(events[0]!.keyframe).toBe(true);
  expect(fragmentKeyframes(relay)[0]).toBe(true);
  // ffmpeg's SRT listener loses the last frames in flight when the caller closes (4 of 60 with a 2 s
  // source, the same when it writes to a file instead of Sluice): the relay is compared with the
  // source's start.
  expectSameMedia(longSrc, relay.path, 1 / 90_000, true);
});

test("(b) srt-live-transmit → UDP ingest: live as mpegts, fragments from a keyframe on", async () => {
  const port = await freeUdpPort();
  const viewer = await viewerBefore("srtb");
  const api = watchApi("srtb");
  const slt = Bun.spawn(["srt-live-transmit", `srt://:${port}`, `udp://127.0.0.1:${sluice.udpPorts.get("srtb")}`], {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "ignore",
  });
  spawned.push(slt);
  await untilBound(port, "srt-live-transmit");
  const started = Date.now();
  const caller = srtCaller(src, `srt://127.0.0.1:${port}?pkt_size=1316`);
  const delay = await firstFragmentAfter(viewer, started);
  console.log(`(b) srt-live-transmit: first fragment ${delay} ms after the caller started`);
  await caller;
  // UDP has no end: the session ends when the idle watchdog finds it silent.
  const relay = await collectRelay(viewer, join(tmp.dir, "srtb.mp4"), 10_000);
  viewer.close();
  slt.kill();
  await slt.exited;
  expect(await api.stop()).toEqual({ live: true, formats: ["mpegts"] });
  expect(relay.stream.format).toBe("mpegts");
  const events = expectSluiceParses(relay.init, relay.fragments);
  expect(events[0]!.keyframe).toBe(true);
  expect(fragmentKeyframes(relay)[0]).toBe(true);
  // What arrived is the source's media (its tail may be lost on the way: SRT hop, UDP).
  expectSameMedia(src, relay.path, 1 / 90_000, true);
});
