/**
 * RTMP ingest end to end, server level: real publishers (ffmpeg, GStreamer's rtmp2sink) push to an
 * in-process Sluice, a WebSocket viewer connected before publishing records what is relayed, and the
 * relay (init + fragments written to an .mp4) is judged against the source file by ffprobe and by
 * Sluice's own fMP4 parser (see remux-compare.ts). Also: the GOP-cache join, refused publishes (wrong
 * key, busy stream) and `--remux-fragment 100`.
 */

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { runFfmpeg } from "../helpers/ffmpeg.ts";
import { startTestSluice, type TestSluice } from "../helpers/sluice.ts";
import { connectViewer, sessions, type TestViewer, texts } from "../helpers/ws-viewer.ts";
import {
  apiStream,
  collectRelay,
  expectSameMedia,
  expectSluiceParses,
  FPS,
  fragmentKeyframes,
  GOP,
  keyframeIndexes,
  makeSource,
  probe,
  type SourceSpec,
  tempDir,
} from "./remux-compare.ts";

setDefaultTimeout(30_000);

/** RTMP carries times in whole milliseconds. */
const RTMP_TICK = 0.001;
const SECONDS = 2;
/** Publish keys must be at least 8 characters (`--stream-key`). */
const CAM_KEY = "secret-cam-key";

let sluice: TestSluice;
let tmp: ReturnType<typeof tempDir>;
const sources = new Map<string, string>();

/** The source for `spec`, encoded once per file. */
function source(name: string, spec: SourceSpec): string {
  let path = sources.get(name);
  if (!path) {
    path = makeSource(join(tmp.dir, `${name}.mp4`), spec);
    sources.set(name, path);
  }
  return path;
}

const rtmpUrl = (s: TestSluice, stream: string, key?: string) =>
  `rtmp://127.0.0.1:${s.rtmpPort}/live/${stream}${key === undefined ? "" : `?key=${key}`}`;

/** ffmpeg's `-re -i SRC -c copy -f flv URL`; resolves with its exit code and stderr. */
function publishFile(src: string, url: string) {
  const ff = runFfmpeg(["-re", "-i", src, "-c", "copy", "-f", "flv", url]);
  return { ff, result: Promise.all([ff.done, ff.stderr()]).then(([code, stderr]) => ({ code, stderr })) };
}

/** A viewer of `stream` connected (and told `waiting`) before anything is published. */
async function viewerBefore(s: TestSluice, stream: string): Promise<TestViewer> {
  const v = await connectViewer(`ws://127.0.0.1:${s.httpPort}/ws/${stream}`);
  await v.until((m) => texts(m, "waiting").length > 0, 5000, "waiting");
  return v;
}

/**
 * The onStatus code a refused publish gets, as GStreamer's rtmp2sink reports it (ffmpeg prints only
 * the description): publishes a short test pattern to `url` and returns its error output.
 */
async function gstRefusal(url: string): Promise<{ code: number; output: string }> {
  const pipeline = [
    "videotestsrc",
    "num-buffers=30",
    "!",
    "x264enc",
    "!",
    "h264parse",
    "!",
    "flvmux",
    "streamable=true",
    "!",
    "rtmp2sink",
    `location=${url}`,
  ];
  const gst = Bun.spawn(["gst-launch-1.0", ...pipeline], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([gst.exited, new Response(gst.stdout).text(), new Response(gst.stderr).text()]);
  return { code, output: `${out}${err}` };
}

beforeAll(() => {
  tmp = tempDir("sluice-rtmp-ingest-");
});

afterAll(async () => {
  await sluice?.stop();
  tmp?.cleanup();
});

beforeAll(async () => {
  sluice = await startTestSluice(["--stream-key", `cam=${CAM_KEY}`]);
});

describe("ffmpeg publishes a file over RTMP; the relay matches the source", () => {
  const cases: Array<{ name: string; spec: SourceSpec }> = [
    { name: "bframes", spec: { video: "h264", audio: "aac", seconds: SECONDS, bframes: 2 } },
    { name: "nobframes", spec: { video: "h264", audio: "aac", seconds: SECONDS, bframes: 0 } },
    { name: "zerolatency", spec: { video: "h264", audio: "aac", seconds: SECONDS, tune: "zerolatency" } },
  ];
  for (const { name, spec } of cases) {
    test(`H.264 + AAC, ${name}`, async () => {
      const src = source(name, spec);
      const viewer = await viewerBefore(sluice, name);
      const pub = publishFile(src, rtmpUrl(sluice, name));
      await viewer.until((m) => sessions(m).length > 0, 10_000, "stream");
      expect((await apiStream(sluice.httpPort, name))?.format).toBe("rtmp");
      const { code, stderr } = await pub.result;
      expect(stderr).toBe("");
      expect(code).toBe(0);
      const relay = await collectRelay(viewer, join(tmp.dir, `${name}-relay.mp4`));
      viewer.close();
      expect(relay.stream.format).toBe("rtmp");
      expect(String(relay.stream.mime)).toMatch(/^video\/mp4; codecs="avc1\.[0-9A-F]{6},mp4a\.40\.2"$/);
      const events = expectSluiceParses(relay.init, relay.fragments);
      const cmp = expectSameMedia(src, relay.path, RTMP_TICK);
      expect(cmp.videoFrames[0]).toBe(SECONDS * FPS);
      // Frame mode: one fragment per video frame (audio rides along), the first a keyframe.
      expect(events.length).toBeGreaterThanOrEqual(SECONDS * FPS);
      expect(events[0]!.keyframe).toBe(true);
      expect(fragmentKeyframes(relay)[0]).toBe(true);
      if (spec.bframes === 2) {
        // Composition offsets really made it through: some video pts differs from its dts.
        expect(probe(relay.path).video.some((p) => Math.abs(p.pts - p.dts) > 0.01)).toBe(true);
      }
    });
  }
});

test("GStreamer rtmp2sink (x264enc zerolatency + voaacenc): 90 frames, a keyframe every 30, audio relayed", async () => {
  const viewer = await viewerBefore(sluice, "gst");
  const audioBuffers = Math.ceil((3 * 44100) / 1024);
  const pipeline = [
    "videotestsrc",
    "num-buffers=90",
    "is-live=true",
    "!",
    "video/x-raw,width=320,height=240,framerate=30/1",
    "!",
    "x264enc",
    "key-int-max=30",
    "tune=zerolatency",
    "!",
    "h264parse",
    "!",
    "flvmux",
    "streamable=true",
    "name=m",
    "audiotestsrc",
    `num-buffers=${audioBuffers}`,
    "is-live=true",
    "!",
    "audioconvert",
    "!",
    "voaacenc",
    "!",
    "aacparse",
    "!",
    "m.",
    "m.",
    "!",
    "rtmp2sink",
    `location=${rtmpUrl(sluice, "gst")}`,
  ];
  const gst = Bun.spawn(["gst-launch-1.0", "-q", ...pipeline], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([gst.exited, new Response(gst.stdout).text(), new Response(gst.stderr).text()]);
  expect(`${out}${err}`).not.toMatch(/ERROR/);
  expect(code).toBe(0);
  const relay = await collectRelay(viewer, join(tmp.dir, "gst-relay.mp4"));
  viewer.close();
  expect(relay.stream.format).toBe("rtmp");
  expectSluiceParses(relay.init, relay.fragments);
  const probed = probe(relay.path);
  expect(probed.videoCodec).toBe("h264");
  expect(probed.audioCodec).toBe("aac");
  expect(probed.video.length).toBe(90);
  expect(keyframeIndexes(probed.video)).toEqual([0, 30, 60]);
  // 30 fps: dts increasing, 89 steps spanning 2.967 s. (flvmux stamps live buffers with some jitter,
  // e.g. 39 + 28 ms instead of 33 + 34, in its own output file too; the relay keeps what it was sent.)
  const steps = probed.video.slice(1).map((p, i) => p.dts - probed.video[i]!.dts);
  expect(steps.filter((d) => !(d > 0.015 && d < 0.06))).toEqual([]);
  expect(Math.abs(probed.video.at(-1)!.dts - probed.video[0]!.dts - 89 / 30)).toBeLessThan(0.01);
  // Audio: about 3 s of 1024-sample frames at 44.1 kHz from the first keyframe on, contiguous.
  expect(probed.audio.length).toBeGreaterThan(120);
  const audioSteps = probed.audio.slice(1).map((p, i) => p.dts - probed.audio[i]!.dts);
  expect(audioSteps.filter((d) => Math.abs(d - 1024 / 44100) > 1e-4)).toEqual([]);
});

test("GOP-cache join: a viewer joining mid-stream gets the init, then a fragment starting with a keyframe", async () => {
  const src = source("nobframes3", { video: "h264", audio: "aac", seconds: 3, bframes: 0 });
  const first = await viewerBefore(sluice, "join");
  const pub = publishFile(src, rtmpUrl(sluice, "join"));
  // Join 10 frames into the second GOP: the cache holds frames 30..40.
  await first.until((m) => (sessions(m)[0]?.fragments.length ?? 0) >= GOP + 10, 10_000, "40 fragments");
  const second = await connectViewer(`ws://127.0.0.1:${sluice.httpPort}/ws/join`);
  const { code, stderr } = await pub.result;
  expect(stderr).toBe("");
  expect(code).toBe(0);
  const a = await collectRelay(first, join(tmp.dir, "join-first.mp4"));
  const b = await collectRelay(second, join(tmp.dir, "join-second.mp4"));
  first.close();
  second.close();
  // The second viewer's first messages: stream, init, then media.
  const kinds = second.messages.slice(0, 3).map((m) => (m.kind === "text" ? String(m.json.type) : "binary"));
  expect(kinds).toEqual(["stream", "binary", "binary"]);
  expect(Buffer.from(b.init).equals(Buffer.from(a.init))).toBe(true);
  const events = expectSluiceParses(b.init, b.fragments);
  expect(events[0]!.keyframe).toBe(true);
  expect(fragmentKeyframes(b)[0]).toBe(true);
  // It got the first viewer's fragments from a keyframe on, byte for byte.
  const offset = a.fragments.length - b.fragments.length;
  expect(offset).toBeGreaterThan(0);
  b.fragments.forEach((f, i) => expect(Buffer.from(f).equals(Buffer.from(a.fragments[offset + i]!))).toBe(true));
  const joined = probe(b.path);
  expect(joined.video[0]!.keyframe).toBe(true);
  expect([60, 30]).toContain(joined.video.length); // from frame 30 (or 60, if the join was late)
  expect(probe(a.path).video.length).toBe(90);
});

test("a publish with the wrong key is refused (Unauthorized) and the stream stays down; the right key works", async () => {
  const src = source("nobframes", { video: "h264", audio: "aac", seconds: SECONDS, bframes: 0 });
  const wrong = publishFile(src, rtmpUrl(sluice, "cam", "wrong-key-123"));
  const { code, stderr } = await wrong.result;
  expect(code).not.toBe(0);
  // ffmpeg prints the onStatus description only: "Server error: wrong publish key".
  expect(stderr).toMatch(/Server error: .*key/);
  expect((await apiStream(sluice.httpPort, "cam"))?.live ?? false).toBe(false);
  const gst = await gstRefusal(rtmpUrl(sluice, "cam", "wrong-key-123"));
  expect(gst.code).not.toBe(0);
  expect(gst.output).toContain('"code": "NetStream.Publish.Unauthorized"');
  const missing = await gstRefusal(rtmpUrl(sluice, "cam"));
  expect(missing.output).toContain('"code": "NetStream.Publish.Unauthorized"');
  expect((await apiStream(sluice.httpPort, "cam"))?.live ?? false).toBe(false);

  const viewer = await viewerBefore(sluice, "cam");
  const right = publishFile(src, rtmpUrl(sluice, "cam", CAM_KEY));
  await viewer.until((m) => sessions(m).length > 0, 10_000, "stream");
  expect(await apiStream(sluice.httpPort, "cam")).toMatchObject({ live: true, format: "rtmp" });
  expect((await right.result).code).toBe(0);
  const relay = await collectRelay(viewer, join(tmp.dir, "cam-relay.mp4"));
  viewer.close();
  expect(probe(relay.path).video.length).toBe(SECONDS * FPS);
});

test("a second RTMP publisher to a live stream is refused with BadName; the first keeps going", async () => {
  const src = source("nobframes3", { video: "h264", audio: "aac", seconds: 3, bframes: 0 });
  const viewer = await viewerBefore(sluice, "busy");
  const firstPub = publishFile(src, rtmpUrl(sluice, "busy"));
  await viewer.until((m) => (sessions(m)[0]?.fragments.length ?? 0) >= 10, 10_000, "10 fragments");
  const second = await publishFile(src, rtmpUrl(sluice, "busy")).result;
  expect(second.code).not.toBe(0);
  expect(second.stderr).toMatch(/Server error: .*already has a publisher/);
  const atRefusal = sessions(viewer.messages)[0]!.fragments.length;
  expect(atRefusal).toBeLessThan(80); // the refusal came while the first was still publishing
  const gst = await gstRefusal(rtmpUrl(sluice, "busy"));
  expect(gst.code).not.toBe(0);
  expect(gst.output).toContain('"code": "NetStream.Publish.BadName"');
  const first = await firstPub.result;
  expect(first.stderr).toBe("");
  expect(first.code).toBe(0);
  const relay = await collectRelay(viewer, join(tmp.dir, "busy-relay.mp4"));
  viewer.close();
  expect(sessions(viewer.messages).length).toBe(1); // no restart: one stream announcement
  expect(relay.fragments.length).toBeGreaterThan(atRefusal);
  expectSameMedia(src, relay.path, RTMP_TICK);
});

test("--remux-fragment 100: about 10 fragments per second (frame mode: one per frame)", async () => {
  const src = source("nobframes3", { video: "h264", audio: "aac", seconds: 3, bframes: 0 });
  const s100 = await startTestSluice(["--remux-fragment", "100"]);
  try {
    const viewer = await viewerBefore(s100, "tenth");
    const pub = publishFile(src, rtmpUrl(s100, "tenth"));
    expect((await pub.result).code).toBe(0);
    const relay = await collectRelay(viewer, join(tmp.dir, "tenth-relay.mp4"));
    viewer.close();
    const events = expectSluiceParses(relay.init, relay.fragments);
    expectSameMedia(src, relay.path, RTMP_TICK);
    // 3 s of video at 30 fps in ~100 ms fragments (3 frames each; GOPs of 30 divide evenly).
    expect(events.length).toBeGreaterThanOrEqual(27);
    expect(events.length).toBeLessThanOrEqual(33);
    const seconds = events.map((e) => (e.duration ?? Number.NaN) / e.timescale);
    expect(seconds.filter((d) => !(d > 0.06 && d < 0.14))).toEqual([]);
    expect(events.filter((e) => e.keyframe).length).toBe(3);
  } finally {
    await s100.stop();
  }
});
