/**
 * Shared by the server-level RTMP and MPEG-TS ingest tests: make a source file with ffmpeg, collect
 * what a WebSocket viewer received for a remuxed stream, write it to an .mp4, and judge it against the
 * source with ffprobe (an independent demuxer) and with Sluice's own fMP4 parser.
 *
 * The comparison: same video frame count and keyframe positions; video pts/dts relative to the first
 * video frame equal within `tick` (the coarser of the source, relay and transport clocks); every
 * source audio frame from the first video frame's presentation time on present in the relay at the
 * same relative time within `tick` (earlier audio may be dropped: the remuxer starts at the first
 * video keyframe), and every relayed audio frame matching a source frame.
 */

import { expect } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createParser } from "../../src/container/index.ts";
import { DEFAULT_PARSER_OPTIONS, type FragmentEvent } from "../../src/container/types.ts";
import { firstVideoKeyframes, probePackets } from "../helpers/ffprobe.ts";
import { sessions, type TestViewer } from "../helpers/ws-viewer.ts";

/** A temporary directory removed by `cleanup()`. */
export function tempDir(prefix: string): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface SourceSpec {
  video: "h264" | "h265";
  audio: "aac" | "opus";
  seconds: number;
  /** x264 B-frames (`-bf`); undefined: the encoder's default. */
  bframes?: number;
  /** x264 `-tune`. */
  tune?: string;
}

/** Frames per second and GOP length of every source. */
export const FPS = 30;
export const GOP = 30;

/**
 * Encodes a 320x240@30 test pattern and a sine into `path` (MP4, video timescale 90 kHz so MPEG-TS
 * carries it without rounding; a keyframe exactly every 30 frames). Throws with ffmpeg's stderr.
 */
export function makeSource(path: string, spec: SourceSpec): string {
  const video =
    spec.video === "h264"
      ? [
          "-c:v",
          "libx264",
          "-pix_fmt",
          "yuv420p",
          ...(spec.bframes !== undefined ? ["-bf", String(spec.bframes)] : []),
          ...(spec.tune ? ["-tune", spec.tune] : []),
        ]
      : [
          "-c:v",
          "libx265",
          "-preset",
          "ultrafast",
          "-pix_fmt",
          "yuv420p",
          "-x265-params",
          `keyint=${GOP}:min-keyint=${GOP}:scenecut=0:log-level=error`,
        ];
  const audio = spec.audio === "aac" ? ["-c:a", "aac", "-b:a", "64k"] : ["-c:a", "libopus", "-b:a", "64k"];
  const args = [
    "ffmpeg",
    "-hide_banner",
    "-loglevel",
    "error",
    "-nostdin",
    "-y",
    "-f",
    "lavfi",
    "-i",
    `testsrc2=size=320x240:rate=${FPS}`,
    "-f",
    "lavfi",
    "-i",
    "sine=frequency=440:sample_rate=48000",
    "-t",
    String(spec.seconds),
    ...video,
    "-g",
    String(GOP),
    "-keyint_min",
    String(GOP),
    "-sc_threshold",
    "0",
    ...audio,
    "-video_track_timescale",
    "90000",
    path,
  ];
  const r = Bun.spawnSync(args);
  if (r.exitCode !== 0) throw new Error(`${args.join(" ")} failed: ${r.stderr.toString()}`);
  return path;
}

export interface Packet {
  /** Seconds. */
  pts: number;
  dts: number;
  keyframe: boolean;
}

export interface Probed {
  video: Packet[];
  audio: Packet[];
  /** Seconds per tick of each kind's stream. */
  videoTick: number;
  audioTick: number;
  videoCodec: string;
  audioCodec: string;
}

function rational(s: string): number {
  const [n, d] = s.split("/").map(Number);
  return n! / d!;
}

/** Video and audio packets of `path` (ffprobe -show_packets), in decode order, times in seconds. */
export function probe(path: string): Probed {
  const streams = ffprobe(["-show_entries", "stream=index,codec_type,codec_name,time_base", "-of", "json", path]).streams as Array<
    Record<string, string | number>
  >;
  const byIndex = new Map(streams.map((s) => [Number(s.index), s]));
  const packets = ffprobe(["-show_entries", "packet=stream_index,pts,dts,flags", "-of", "json", path]).packets as Array<
    Record<string, string | number>
  >;
  const out: Probed = { video: [], audio: [], videoTick: Number.NaN, audioTick: Number.NaN, videoCodec: "", audioCodec: "" };
  for (const s of streams) {
    if (s.codec_type === "video") {
      out.videoTick = rational(String(s.time_base));
      out.videoCodec = String(s.codec_name);
    } else if (s.codec_type === "audio") {
      out.audioTick = rational(String(s.time_base));
      out.audioCodec = String(s.codec_name);
    }
  }
  for (const p of packets) {
    const s = byIndex.get(Number(p.stream_index))!;
    const tb = rational(String(s.time_base));
    const dts = p.dts === undefined ? Number(p.pts) : Number(p.dts);
    const packet = { pts: Number(p.pts) * tb, dts: dts * tb, keyframe: String(p.flags).startsWith("K") };
    if (s.codec_type === "video") out.video.push(packet);
    else if (s.codec_type === "audio") out.audio.push(packet);
  }
  out.video.sort((a, b) => a.dts - b.dts);
  out.audio.sort((a, b) => a.dts - b.dts);
  return out;
}

function ffprobe(args: string[]): Record<string, unknown> {
  const r = Bun.spawnSync(["ffprobe", "-v", "error", ...args]);
  if (r.exitCode !== 0) throw new Error(`ffprobe ${args.join(" ")} failed: ${r.stderr.toString()}`);
  return JSON.parse(r.stdout.toString()) as Record<string, unknown>;
}

/** Indexes of the keyframes among `packets`. */
export function keyframeIndexes(packets: Packet[]): number[] {
  return packets.flatMap((p, i) => (p.keyframe ? [i] : []));
}

/** What `compareMedia` measured, for assertions and failure messages. */
export interface Comparison {
  videoFrames: [number, number];
  keyframes: [number[], number[]];
  /** Largest |Δpts| / |Δdts| of video relative to the first video frame, seconds. */
  worstVideo: number;
  /** Source audio frames at or after the first video frame (presentation) with no relay frame at the same time. */
  missingAudio: number[];
  /** Relay audio frames with no source frame at the same time. */
  extraAudio: number[];
  /** Relayed audio frames (and how many were matched). */
  audioFrames: number;
  worstAudio: number;
  tolerance: number;
}

/**
 * Compares the relayed file with its source; `tick`: the transport clock's tick in seconds (RTMP
 * 0.001, MPEG-TS 1/90000). Times are taken relative to each file's first video packet (dts for dts,
 * pts for pts and audio), so the relay's own timeline origin does not matter.
 */
function compareMedia(source: Probed, relay: Probed, tick: number, lostTail = false): Comparison {
  const tolerance = Math.max(tick, source.videoTick, relay.videoTick, source.audioTick, relay.audioTick) + 1e-7;
  const src = lostTail ? sourcePrefix(source, relay) : source;
  const s0 = src.video[0]!;
  const r0 = relay.video[0]!;
  let worstVideo = 0;
  const n = Math.min(src.video.length, relay.video.length);
  for (let i = 0; i < n; i++) {
    const a = src.video[i]!;
    const b = relay.video[i]!;
    worstVideo = Math.max(worstVideo, Math.abs(a.pts - s0.pts - (b.pts - r0.pts)), Math.abs(a.dts - s0.dts - (b.dts - r0.dts)));
  }
  const srcAudio = src.audio.map((p) => p.pts - s0.pts);
  const relayAudio = relay.audio.map((p) => p.pts - r0.pts);
  const near = (xs: number[], t: number) => xs.reduce((best, x) => Math.min(best, Math.abs(x - t)), Number.POSITIVE_INFINITY);
  const missingAudio = srcAudio.filter((t) => t >= -1e-9 && near(relayAudio, t) > tolerance);
  const extraAudio = relayAudio.filter((t) => near(srcAudio, t) > tolerance);
  const worstAudio = relayAudio.reduce((w, t) => Math.max(w, near(srcAudio, t)), 0);
  return {
    videoFrames: [src.video.length, relay.video.length],
    keyframes: [keyframeIndexes(src.video), keyframeIndexes(relay.video)],
    worstVideo,
    missingAudio,
    extraAudio,
    audioFrames: relay.audio.length,
    worstAudio,
    tolerance,
  };
}

/**
 * The part of `src` a relay that lost the source's tail can hold: its first `relay.video.length`
 * video frames, and the audio up to the relay's last audio frame (MPEG-TS muxers carry audio behind
 * the video, so a lost tail takes more audio than video time with it; a hole before it still counts).
 */
function sourcePrefix(src: Probed, relay: Probed): Probed {
  const video = src.video.slice(0, relay.video.length);
  const r0 = relay.video[0]!.pts;
  const s0 = src.video[0]!.pts;
  const end = Math.max(...relay.audio.map((p) => p.pts - r0)) + 1e-4;
  return { ...src, video, audio: src.audio.filter((p) => p.pts - s0 <= end) };
}

/**
 * Asserts what the brief demands of a relay of `src` (see the module comment). `lostTail`: the path
 * from the publisher loses the end of the stream before Sluice sees it (e.g. an SRT hop: ffmpeg's SRT
 * listener drops what is in flight when the caller closes); the relay is then compared with the
 * source's first frames, and must hold at least 90% of them.
 */
export function expectSameMedia(srcPath: string, relayPath: string, tick: number, lostTail = false): Comparison {
  const src = probe(srcPath);
  const relay = probe(relayPath);
  if (lostTail) {
    expect(relay.video.length).toBeLessThanOrEqual(src.video.length);
    expect(relay.video.length).toBeGreaterThanOrEqual(Math.floor(src.video.length * 0.9));
  }
  const c = compareMedia(src, relay, tick, lostTail);
  const what = JSON.stringify({ ...c, missingAudio: c.missingAudio.slice(0, 10), extraAudio: c.extraAudio.slice(0, 10) });
  expect(relay.videoCodec, what).toBe(src.videoCodec);
  expect(relay.audioCodec, what).toBe(src.audioCodec);
  expect(c.videoFrames[1], what).toBe(c.videoFrames[0]);
  expect(c.keyframes[1], what).toEqual(c.keyframes[0]);
  expect(c.worstVideo, what).toBeLessThanOrEqual(c.tolerance);
  expect(c.missingAudio, what).toEqual([]);
  expect(c.extraAudio, what).toEqual([]);
  expect(c.audioFrames, what).toBeGreaterThan(0);
  return c;
}

/** One viewer session's media: the init, its fragments, and the `stream` announcement. */
export interface Relay {
  stream: Record<string, unknown>;
  init: Uint8Array;
  fragments: Uint8Array[];
  /** init + fragments as written to `path`. */
  path: string;
}

/** Waits for the viewer's first session to end, then writes its init + fragments to `path`. */
export async function collectRelay(viewer: TestViewer, path: string, ms = 20_000): Promise<Relay> {
  await viewer.until((m) => sessions(m)[0]?.ended === true, ms, "the stream's end");
  return writeRelay(sessions(viewer.messages)[0]!, path);
}

/** Writes a session's init + fragments to `path`. */
function writeRelay(s: { stream: Record<string, unknown>; init: Uint8Array; fragments: Uint8Array[] }, path: string): Relay {
  writeFileSync(path, Buffer.concat([s.init, ...s.fragments]));
  return { stream: s.stream, init: s.init, fragments: s.fragments, path };
}

/**
 * Feeds init + fragments to Sluice's own fMP4 parser one message at a time and asserts each gives
 * exactly its own event back (one init, then one fragment per message, bytes unchanged).
 */
export function expectSluiceParses(init: Uint8Array, fragments: Uint8Array[]): FragmentEvent[] {
  const parser = createParser("fmp4", DEFAULT_PARSER_OPTIONS);
  const first = parser.push(init);
  expect(first.map((e) => e.type)).toEqual(["init"]);
  const out: FragmentEvent[] = [];
  fragments.forEach((bytes, i) => {
    const events = parser.push(bytes);
    expect(
      events.map((e) => e.type),
      `fragment ${i}`,
    ).toEqual(["fragment"]);
    const ev = events[0] as FragmentEvent;
    expect(Buffer.from(ev.bytes).equals(Buffer.from(bytes)), `fragment ${i} bytes`).toBe(true);
    out.push(ev);
  });
  expect(parser.end()).toEqual([]);
  expect(parser.buffered).toBe(0);
  return out;
}

/**
 * For each fragment of a relay file, whether its first video packet is a keyframe, by ffprobe
 * (undefined: a fragment without video).
 */
export function fragmentKeyframes(relay: Relay): Array<boolean | undefined> {
  let at = relay.init.byteLength;
  const ranges: Array<[number, number]> = relay.fragments.map((f) => {
    const r: [number, number] = [at, at + f.byteLength];
    at += f.byteLength;
    return r;
  });
  return firstVideoKeyframes(probePackets(relay.path), ranges);
}

/** The `/api/streams` entry of `name`, if listed. */
export async function apiStream(httpPort: number, name: string): Promise<Record<string, unknown> | undefined> {
  const list = (await (await fetch(`http://127.0.0.1:${httpPort}/api/streams`)).json()) as Array<Record<string, unknown>>;
  return list.find((s) => s.name === name);
}
