import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CodedFrame, VideoTrackConfig } from "../../../src/container/remux/frame.ts";
import { ascFromEsds, opusHeadFromDops } from "../../container/remux/samples.ts";
import { exAudio, exVideoFrame, exVideoSequenceStart, type MediaMessage, publishOverTcp } from "./ertmp-client.ts";
import { framesOf, type RtmpTestServer, startRtmpTestServer, tracksEvents } from "./harness.ts";
import { readMp4 } from "./mp4-samples.ts";

/**
 * Real publishers against RtmpConnection behind a test-only Bun.listen server: ffmpeg (legacy RTMP,
 * H.264 + AAC), GStreamer's rtmp2sink, a refusal, and Enhanced RTMP (HEVC, AV1, Opus, mp4a) sent by the
 * test-side client with frames from real encoder output.
 */

let server: RtmpTestServer;
let dir: string;

beforeAll(() => {
  server = startRtmpTestServer({
    decide: (req) =>
      req.streamName === "refused"
        ? { refuse: "NetStream.Publish.BadName", description: "stream refused by the test server (NetStream.Publish.BadName)" }
        : { accept: true },
    decideAfterMs: 20,
  });
  dir = mkdtempSync(join(tmpdir(), "sluice-rtmp-"));
});

afterAll(() => {
  server.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function run(cmd: string[]): Promise<{ code: number; stderr: string }> {
  const p = Bun.spawn(cmd, { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  const [code, stderr] = await Promise.all([p.exited, new Response(p.stderr).text()]);
  return { code, stderr };
}

/** Runs `publish` (which connects once) and returns the session it made, once its socket closed. */
async function session(publish: () => Promise<unknown>) {
  const before = server.sessions.length;
  await publish();
  const s = server.sessions[before];
  if (!s) throw new Error("the publisher never connected");
  await s.closed;
  return s;
}

const FFMPEG = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin"];
const LIVE_INPUT = ["-re", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-f", "lavfi", "-i", "sine", "-t", "3"];

function checkMonotonic(frames: CodedFrame[]): void {
  for (let i = 1; i < frames.length; i++) expect(frames[i]!.dts).toBeGreaterThan(frames[i - 1]!.dts);
}

describe("ffmpeg (legacy RTMP: H.264 + AAC)", () => {
  for (const variant of [
    { name: "default x264 (B-frames)", extra: [], bframes: true },
    { name: "-bf 0 -tune zerolatency", extra: ["-bf", "0", "-tune", "zerolatency"], bframes: false },
  ]) {
    test(`live encode, ${variant.name}: 90 frames, a keyframe every 30, monotonic dts`, async () => {
      const s = await session(async () => {
        const r = await run([
          ...FFMPEG,
          ...LIVE_INPUT,
          "-c:v",
          "libx264",
          "-g",
          "30",
          ...variant.extra,
          "-c:a",
          "aac",
          "-f",
          "flv",
          `rtmp://127.0.0.1:${server.port}/live/cam?key=abc`,
        ]);
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
      });
      expect(s.requests).toEqual([{ app: "live", streamName: "cam", key: "abc", tcUrl: `rtmp://127.0.0.1:${server.port}/live` }]);
      expect(s.errors).toEqual([]);
      expect(s.unpublished).toBe(1);
      const tracks = tracksEvents(s.events);
      expect(tracks.length).toBe(1);
      const [video, audio] = tracks[0]!;
      expect(video).toMatchObject({ kind: "video", codec: "avc", width: 320, height: 240, timescale: 1000 });
      expect(audio).toMatchObject({ kind: "audio", codec: "aac", sampleRate: 44100, channels: 1, timescale: 1000 });
      expect(s.events[0]!.type).toBe("tracks");
      expect(s.events.at(-1)!.type).toBe("end-of-stream");
      const v = framesOf(s.events, "video");
      expect(v.length).toBe(90);
      expect(v.flatMap((f, i) => (f.keyframe ? [i] : []))).toEqual([0, 30, 60]);
      checkMonotonic(v);
      // 30 fps in ms: 33/34 ms steps (the first dts may be offset by the encoder delay).
      expect(new Set(v.slice(1).map((f, i) => f.dts - v[i]!.dts))).toEqual(new Set([33, 34]));
      expect(v.at(-1)!.dts - v[0]!.dts).toBe(2967);
      const offsets = v.map((f) => f.pts - f.dts);
      if (variant.bframes) expect(offsets.some((o) => o > 0)).toBe(true);
      else expect(offsets.every((o) => o === 0)).toBe(true);
      // Samples are 4-byte length-prefixed NAL units starting with a plausible NAL header.
      for (const f of v.slice(0, 5)) expect(f.data[4]! & 0x80).toBe(0);
      const a = framesOf(s.events, "audio");
      expect(a.length).toBeGreaterThanOrEqual(125); // 3 s of 44.1 kHz AAC = 129 frames
      checkMonotonic(a);
      for (const f of [...v, ...a]) expect(Math.abs(f.arrivalMs - Date.now())).toBeLessThan(60_000);
    }, 60_000);
  }

  test("a stream-copied FLV file arrives packet for packet as ffprobe sees it", async () => {
    const file = join(dir, "bframes.flv");
    const enc = await run([
      ...FFMPEG,
      "-f",
      "lavfi",
      "-i",
      "testsrc2=size=320x240:rate=25",
      "-f",
      "lavfi",
      "-i",
      "sine",
      "-t",
      "2",
      "-c:v",
      "libx264",
      "-g",
      "25",
      "-c:a",
      "aac",
      "-y",
      file,
    ]);
    expect(enc.code).toBe(0);
    const probe = await Bun.$`ffprobe -v error -show_packets -of json ${file}`.json();
    type Packet = { codec_type: string; pts: number; dts: number; flags: string; size: string };
    const packets = (probe.packets as Packet[]).map((p) => ({
      kind: p.codec_type,
      dts: Number(p.dts),
      pts: Number(p.pts),
      keyframe: p.flags.startsWith("K"),
      size: Number(p.size),
    }));
    const s = await session(async () => {
      const r = await run([...FFMPEG, "-i", file, "-c", "copy", "-f", "flv", `rtmp://127.0.0.1:${server.port}/live/copy`]);
      expect(r.code).toBe(0);
    });
    expect(s.errors).toEqual([]);
    for (const kind of ["video", "audio"] as const) {
      const want = packets.filter((p) => p.kind === kind).map(({ dts, pts, keyframe }) => ({ dts, pts, keyframe }));
      const got = framesOf(s.events, kind).map(({ dts, pts, keyframe }) => ({ dts, pts, keyframe }));
      expect(got).toEqual(want);
    }
    // Audio bytes are carried as they are; video sizes differ only by 4-byte vs 4-byte lengths (equal here).
    expect(framesOf(s.events, "audio").map((f) => f.data.byteLength)).toEqual(packets.filter((p) => p.kind === "audio").map((p) => p.size));
    expect(framesOf(s.events, "video").map((f) => f.data.byteLength)).toEqual(packets.filter((p) => p.kind === "video").map((p) => p.size));
  }, 60_000);

  test("a refused publish: ffmpeg fails with the onStatus description, the connection asks to close", async () => {
    let result = { code: 0, stderr: "" };
    const s = await session(async () => {
      result = await run([
        ...FFMPEG,
        ...LIVE_INPUT,
        "-c:v",
        "libx264",
        "-c:a",
        "aac",
        "-f",
        "flv",
        `rtmp://127.0.0.1:${server.port}/live/refused`,
      ]);
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("NetStream.Publish.BadName");
    expect(s.closeReasons).toEqual([
      "publish refused: NetStream.Publish.BadName: stream refused by the test server (NetStream.Publish.BadName)",
    ]);
    expect(framesOf(s.events, "video")).toEqual([]);
  }, 60_000);
});

test("GStreamer rtmp2sink (flvmux, x264enc, voaacenc)", async () => {
  const s = await session(async () => {
    const r = await run([
      ...[
        "gst-launch-1.0",
        "-q",
        "videotestsrc",
        "num-buffers=90",
        "!",
        "video/x-raw,width=320,height=240,framerate=30/1",
        "!",
        "x264enc",
        "key-int-max=30",
        "tune=zerolatency",
        "!",
        "h264parse",
      ],
      ...[
        "!",
        "flvmux",
        "streamable=true",
        "name=m",
        "audiotestsrc",
        "num-buffers=130",
        "!",
        "voaacenc",
        "!",
        "aacparse",
        "!",
        "m.",
        "m.",
        "!",
        "rtmp2sink",
        `location=rtmp://127.0.0.1:${server.port}/live/gst?key=k2`,
      ],
    ]);
    expect(r.code).toBe(0);
  });
  expect(s.requests[0]).toMatchObject({ app: "live", streamName: "gst", key: "k2" });
  expect(s.errors).toEqual([]);
  const [video, audio] = tracksEvents(s.events)[0]!;
  expect(video).toMatchObject({ codec: "avc", width: 320, height: 240 });
  expect(audio).toMatchObject({ codec: "aac", sampleRate: 44100 });
  const v = framesOf(s.events, "video");
  expect(v.length).toBe(90);
  expect(v.flatMap((f, i) => (f.keyframe ? [i] : []))).toEqual([0, 30, 60]);
  checkMonotonic(v);
  expect(framesOf(s.events, "audio").length).toBe(130);
}, 60_000);

describe("Enhanced RTMP (test-side publisher)", () => {
  async function encode(name: string, args: string[]): Promise<ReturnType<typeof readMp4>> {
    const file = join(dir, name);
    const r = await run([
      ...FFMPEG,
      "-f",
      "lavfi",
      "-i",
      "testsrc2=size=320x240:rate=30",
      "-f",
      "lavfi",
      "-i",
      "sine=sample_rate=48000",
      "-t",
      "2",
      ...args,
      "-y",
      file,
    ]);
    expect(r.code).toBe(0);
    return readMp4(new Uint8Array(await Bun.file(file).arrayBuffer()));
  }

  /** Interleaves both tracks' messages in dts order after their sequence starts. */
  function messages(video: MediaMessage[], audio: MediaMessage[], starts: MediaMessage[]): MediaMessage[] {
    return [...starts, ...[...video, ...audio].sort((x, y) => x.timestamp - y.timestamp)];
  }

  test("HEVC (libx265, hvc1) + Opus: hvcC and OpusHead configs, frames with composition offsets", async () => {
    const tracks = await encode("hevc-opus.mp4", [
      "-c:v",
      "libx265",
      "-x265-params",
      "keyint=30:log-level=error",
      "-tag:v",
      "hvc1",
      "-c:a",
      "libopus",
    ]);
    const vt = tracks.find((t) => t.handler === "vide")!;
    const at = tracks.find((t) => t.handler === "soun")!;
    const opusHead = opusHeadFromDops(at.config);
    const video = vt.samples.map((x) => ({
      kind: "video" as const,
      timestamp: x.dtsMs + 100,
      payload: exVideoFrame("hvc1", x.keyframe, x.ctsMs, x.data, true),
    }));
    const audio = at.samples.map((x) => ({ kind: "audio" as const, timestamp: x.dtsMs + 100, payload: exAudio("Opus", 1, x.data) }));
    const starts: MediaMessage[] = [
      { kind: "video", timestamp: 0, payload: exVideoSequenceStart("hvc1", vt.config) },
      { kind: "audio", timestamp: 0, payload: exAudio("Opus", 0, opusHead) },
    ];
    let codes: string[] = [];
    const s = await session(async () => {
      codes = await publishOverTcp(
        server.port,
        "live",
        "hevc?key=e1",
        { width: 320, height: 240, videocodecid: 0x68766331, audiocodecid: 0x4f707573 },
        messages(video, audio, starts),
      );
    });
    expect(codes).toEqual(["NetStream.Publish.Start"]);
    expect(s.errors).toEqual([]);
    expect(s.requests[0]).toMatchObject({ streamName: "hevc", key: "e1" });
    const t = tracksEvents(s.events);
    expect(t.length).toBe(1);
    expect(t[0]![0]).toMatchObject({ kind: "video", codec: "hevc", width: 320, height: 240, record: vt.config });
    expect(t[0]![1]).toMatchObject({ kind: "audio", codec: "opus", sampleRate: 48000, channels: 1, config: opusHead });
    const v = framesOf(s.events, "video");
    expect(v.length).toBe(vt.samples.length);
    expect(v.map((f) => f.keyframe)).toEqual(vt.samples.map((x) => x.keyframe));
    expect(v.map((f) => f.pts - f.dts)).toEqual(vt.samples.map((x) => x.ctsMs));
    expect(v.some((f) => f.pts !== f.dts)).toBe(true);
    const a = framesOf(s.events, "audio");
    expect(a.map((f) => f.data)).toEqual(at.samples.map((x) => x.data));
    expect(s.events.at(-1)).toEqual({ type: "end-of-stream" });
  }, 60_000);

  test("AV1 (libsvtav1) + AAC over mp4a: av1C config, OBUs without temporal delimiters", async () => {
    const tracks = await encode("av1-aac.mp4", ["-c:v", "libsvtav1", "-g", "30", "-preset", "12", "-svtav1-params", "lp=2", "-c:a", "aac"]);
    const vt = tracks.find((t) => t.handler === "vide")!;
    const at = tracks.find((t) => t.handler === "soun")!;
    const asc = ascFromEsds(at.config);
    // ISOBMFF AV1 samples have no temporal delimiter; the E-RTMP publisher sends one (as in a raw OBU stream).
    const td = Uint8Array.from([0x12, 0x00]);
    const video = vt.samples.map((x) => ({
      kind: "video" as const,
      timestamp: x.dtsMs,
      payload: exVideoFrame("av01", x.keyframe, 0, Uint8Array.from([...td, ...x.data])),
    }));
    const audio = at.samples.map((x) => ({ kind: "audio" as const, timestamp: x.dtsMs, payload: exAudio("mp4a", 1, x.data) }));
    const starts: MediaMessage[] = [
      { kind: "video", timestamp: 0, payload: exVideoSequenceStart("av01", vt.config) },
      { kind: "audio", timestamp: 0, payload: exAudio("mp4a", 0, asc) },
    ];
    const s = await session(() =>
      publishOverTcp(
        server.port,
        "live",
        "av1",
        { width: 320, height: 240, framerate: 30, videocodecid: 0x61763031, audiocodecid: 0x6d703461 },
        messages(video, audio, starts),
      ),
    );
    expect(s.errors).toEqual([]);
    const t = tracksEvents(s.events);
    expect(t.length).toBe(1);
    const vc = t[0]![0] as VideoTrackConfig;
    expect(vc).toMatchObject({ kind: "video", codec: "av1", width: 320, height: 240, record: vt.config });
    expect(t[0]![1]).toMatchObject({ kind: "audio", codec: "aac", sampleRate: 48000, channels: 1, config: asc });
    const v = framesOf(s.events, "video");
    expect(v.map((f) => f.data)).toEqual(vt.samples.map((x) => x.data));
    expect(v.map((f) => f.keyframe)).toEqual(vt.samples.map((x) => x.keyframe));
    expect(v.filter((f) => f.keyframe).length).toBe(2);
    expect(framesOf(s.events, "audio").length).toBe(at.samples.length);
  }, 60_000);
});
