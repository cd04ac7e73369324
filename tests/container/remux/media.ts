/**
 * Test-only: ffmpeg-made sources for the remuxer tests (made once per process into a temp dir),
 * a driver that runs extracted frames through the remuxer, and ffprobe as the independent oracle.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CodedFrame, DemuxEvent, TrackConfig } from "../../../src/container/remux/frame.ts";
import { createRemuxer, type RemuxerOptions } from "../../../src/container/remux/remuxer.ts";
import type { FragmentEvent, InitEvent, ParserEvent } from "../../../src/container/types.ts";
import { concat } from "../../helpers/feed.ts";
import { type Extracted, extractFrames } from "./samples.ts";

const V = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30"];
const A = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"];
const T = ["-t", "2"];
const X264 = ["-c:v", "libx264", "-preset", "veryfast", "-g", "30", "-bf", "2", "-pix_fmt", "yuv420p"];
// One fragment per GOP: ffmpeg's +frag_every_frame writes wrong tfdt for interleaved audio (repeated
// decode times), so it is no timing oracle; frag_keyframe states every sample's time exactly.
const MP4 = (extra = "") => ["-f", "mp4", "-movflags", `+frag_keyframe+empty_moov+default_base_moof${extra}`];

/** Source recordings: 2 s of 320x240 at 30 fps (GOP 30) and/or a 48 kHz sine. */
export const SOURCES = {
  "h264-aac": [...V, ...A, ...T, ...X264, "-c:a", "aac", ...MP4()],
  "h264-negcts-aac": [...V, ...A, ...T, ...X264, "-c:a", "aac", ...MP4("+negative_cts_offsets")],
  "hevc-aac": [
    ...V,
    ...A,
    ...T,
    "-c:v",
    "libx265",
    "-preset",
    "ultrafast",
    "-tag:v",
    "hvc1",
    "-x265-params",
    "log-level=error:keyint=30:min-keyint=30:scenecut=0",
    "-pix_fmt",
    "yuv420p",
    "-c:a",
    "aac",
    ...MP4(),
  ],
  "av1-opus": [...V, ...A, ...T, "-c:v", "libsvtav1", "-preset", "12", "-g", "30", "-pix_fmt", "yuv420p", "-c:a", "libopus", ...MP4()],
  "vp9-opus": [
    ...V,
    ...A,
    ...T,
    "-c:v",
    "libvpx-vp9",
    "-deadline",
    "realtime",
    "-cpu-used",
    "8",
    "-lag-in-frames",
    "0",
    "-g",
    "30",
    "-pix_fmt",
    "yuv420p",
    "-c:a",
    "libopus",
    ...MP4(),
  ],
  "aac-only": [...A, ...T, "-c:a", "aac", ...MP4()],
  "opus-only": [...A, ...T, "-c:a", "libopus", ...MP4()],
  // 5.1 Opus: OpusHead channel mapping family 1, so dOps carries a ChannelMappingTable.
  "opus-51-only": [...A, ...T, "-ac", "6", "-c:a", "libopus", ...MP4()],
} as const;
export type SourceName = keyof typeof SOURCES;

let dir: string | undefined;
/** A temp dir for the sources and outputs, until `cleanup()`. */
function tempDir(): string {
  return (dir ??= mkdtempSync(join(tmpdir(), "sluice-remux-")));
}

const made = new Map<SourceName, { path: string; bytes: Uint8Array }>();

/** The source file (made by ffmpeg on first use). */
export function source(name: SourceName): { path: string; bytes: Uint8Array } {
  let s = made.get(name);
  if (!s) {
    const path = join(tempDir(), `${name}.mp4`);
    const r = Bun.spawnSync(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", ...SOURCES[name], path], { stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`ffmpeg for ${name} failed: ${r.stderr.toString()}`);
    s = { path, bytes: new Uint8Array(readFileSync(path)) };
    made.set(name, s);
  }
  return s;
}

/** Removes the temp dir (every test file using these helpers calls it in `afterAll`). */
export function cleanup(): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
  made.clear();
}

export function framesOf(name: SourceName): Extracted {
  return extractFrames(source(name).bytes);
}

export function demuxEvents(tracks: TrackConfig[], frames: CodedFrame[]): DemuxEvent[] {
  return [{ type: "tracks", tracks }, ...frames.map((frame): DemuxEvent => ({ type: "frame", frame }))];
}

export interface Remuxed {
  events: ParserEvent[];
  /** Per demux event, how many events its push returned. */
  perPush: number[];
  init: InitEvent;
  fragments: FragmentEvent[];
  file: Uint8Array;
  dropped: number;
  retimed: number;
}

/** Runs demux events through a fresh remuxer, then `end()`. */
export function remux(input: DemuxEvent[], options: RemuxerOptions): Remuxed {
  const r = createRemuxer(options);
  const events: ParserEvent[] = [];
  const perPush: number[] = [];
  for (const ev of input) {
    const out = r.push(ev);
    perPush.push(out.length);
    events.push(...out);
  }
  events.push(...r.end());
  const init = events.find((e): e is InitEvent => e.type === "init");
  if (!init) throw new Error("no init event");
  return {
    events,
    perPush,
    init,
    fragments: events.filter((e): e is FragmentEvent => e.type === "fragment"),
    file: concat(events.map((e) => e.bytes)),
    dropped: r.dropped,
    retimed: r.retimed,
  };
}

export function writeTemp(name: string, bytes: Uint8Array): string {
  const path = join(tempDir(), name);
  writeFileSync(path, bytes);
  return path;
}

export interface ProbeStream {
  kind: string;
  timescale: number;
}

export interface ProbePacket {
  kind: string;
  pts: number; // seconds
  dts: number; // seconds
  keyframe: boolean;
}

/** The parts of ffprobe's JSON these tests read. */
interface ProbeJson {
  streams?: Array<{ codec_type: string; time_base: string }>;
  packets?: Array<{ stream_index: number; pts: string | number; dts: string | number; flags: string }>;
  frames?: Array<{ stream_index: number; pts: string | number; key_frame: number }>;
}

function ffprobe(path: string, args: string[]): { json: ProbeJson; stderr: string } {
  const r = Bun.spawnSync(["ffprobe", "-v", "error", "-of", "json", ...args, path], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`ffprobe failed on ${path}: ${r.stderr.toString()}`);
  return { json: JSON.parse(r.stdout.toString()) as ProbeJson, stderr: r.stderr.toString() };
}

function streamsOf(json: ProbeJson): ProbeStream[] {
  return (json.streams ?? []).map((s) => ({ kind: s.codec_type, timescale: Number(s.time_base.split("/")[1]) }));
}

/** Streams and packets as ffprobe demuxes them (no decoding). */
export function probePackets(path: string): { streams: ProbeStream[]; packets: ProbePacket[] } {
  const { json } = ffprobe(path, ["-show_entries", "stream=index,codec_type,time_base:packet=stream_index,pts,dts,flags"]);
  const streams = streamsOf(json);
  const packets = (json.packets ?? []).map((p) => {
    const s = streams[p.stream_index]!;
    return { kind: s.kind, pts: Number(p.pts) / s.timescale, dts: Number(p.dts) / s.timescale, keyframe: String(p.flags).startsWith("K") };
  });
  return { streams, packets };
}

/** Frames as ffprobe decodes them, per kind in decode order, and whatever the decoders complained about. */
export function probeFrames(path: string): { frames: Array<{ kind: string; pts: number; keyframe: boolean }>; stderr: string } {
  const streams = streamsOf(ffprobe(path, ["-show_entries", "stream=index,codec_type,time_base"]).json);
  const { json, stderr } = ffprobe(path, ["-show_entries", "frame=stream_index,pts,key_frame"]);
  const frames = (json.frames ?? []).map((f) => {
    const s = streams[f.stream_index]!;
    return { kind: s.kind, pts: Number(f.pts) / s.timescale, keyframe: f.key_frame === 1 };
  });
  return { frames, stderr };
}
