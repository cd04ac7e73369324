/**
 * Remuxer throughput: `bun run bench/remux-throughput.ts [--quick]`.
 *
 * Frames: 60 s of 720p30 H.264 (3 Mbit/s, GOP 2 s) + AAC 128k, made once by ffmpeg into the
 * git-ignored `.bench-tmp/` (seconds to a minute), read back by the test-only extractor, stamped in
 * milliseconds as an RTMP demuxer would (so the audio clock does its work too) and replayed 5 times
 * back to back as one 5-minute stream per pass.
 *
 * Measures, after 3 warm-up passes, over 9 passes (`--quick`: 3) of a fresh remuxer fed every frame
 * then `end()`: MB/s of sample bytes in (median pass), output MB/s, and the time of each `push`
 * (p50/p99 over all passes; in frame mode a video frame's push is the one that writes its fragment).
 * Next to it, the floor: copying every frame's bytes once into a fresh buffer of its size.
 *
 * Results: printed as markdown to stdout; nothing is written. The committed figures are in
 * bench/results/remux.md.
 */

import { existsSync, mkdirSync, renameSync } from "node:fs";
import { resolve } from "node:path";
import type { DemuxEvent } from "../src/container/remux/frame.ts";
import { createRemuxer, type RemuxerOptions } from "../src/container/remux/remuxer.ts";
import { extractFrames, toMilliseconds } from "../tests/container/remux/samples.ts";
import { machineInfo } from "./lib/machine.ts";
import { TMP } from "./lib/recording.ts";
import { fmt, median, percentile, table } from "./lib/stats.ts";

/** The ffmpeg command of the benchmark's source, for the report. */
export const SOURCE_RECIPE = [
  ...["-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "60"],
  ...["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "60", "-keyint_min", "60", "-sc_threshold", "0"],
  ...["-b:v", "3M", "-maxrate", "3M", "-bufsize", "1M", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k"],
  ...["-f", "mp4", "-movflags", "+frag_keyframe+empty_moov+default_base_moof"],
];

/** The benchmark's demux events (tracks, then every frame in arrival order), making the source if needed. */
export async function benchFrames(): Promise<{ events: DemuxEvent[]; sampleBytes: number; videoFrames: number; seconds: number }> {
  mkdirSync(TMP, { recursive: true });
  const path = resolve(TMP, "remux-720p30-h264-aac-60s.mp4");
  if (!existsSync(path)) {
    const part = `${path}.part.mp4`;
    const proc = Bun.spawn(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", ...SOURCE_RECIPE, part], {
      stderr: "inherit",
    });
    const timer = setTimeout(() => proc.kill(), 600_000);
    const code = await proc.exited;
    clearTimeout(timer);
    if (code !== 0) throw new Error(`ffmpeg exited with ${code}`);
    renameSync(part, path);
  }
  const { tracks, frames: once } = toMilliseconds(extractFrames(new Uint8Array(await Bun.file(path).arrayBuffer()), Date.now()));
  // The recording `REPLAYS` times back to back as one continuing stream (timestamps moved on by its
  // length each time; the same sample bytes): passes long enough for the collector's steady state.
  const span = Math.max(...once.map((f) => f.dts)) + 100;
  const frames = Array.from({ length: REPLAYS }, (_, k) =>
    once.map((f) => ({ ...f, dts: f.dts + k * span, pts: f.pts + k * span })),
  ).flat();
  const video = frames.filter((f) => f.kind === "video");
  return {
    events: [{ type: "tracks", tracks }, ...frames.map((frame): DemuxEvent => ({ type: "frame", frame }))],
    sampleBytes: frames.reduce((n, f) => n + f.data.byteLength, 0),
    videoFrames: video.length,
    seconds: (video.at(-1)!.dts - video[0]!.dts) / 1000,
  };
}

/** How many times the 60 s recording is replayed per pass. */
const REPLAYS = 5;

interface PassResult {
  ms: number;
  outBytes: number;
  fragments: number;
}

/** One pass: a fresh remuxer over every event; `pushTimes` collects each frame push's duration (µs). */
function pass(events: DemuxEvent[], options: RemuxerOptions, pushTimes?: number[]): PassResult {
  const r = createRemuxer(options);
  let outBytes = 0;
  let fragments = 0;
  const t0 = Bun.nanoseconds();
  for (let i = 0; i < events.length; i++) {
    const a = pushTimes ? Bun.nanoseconds() : 0;
    const out = r.push(events[i]!);
    if (pushTimes && i > 0) pushTimes.push((Bun.nanoseconds() - a) / 1000);
    for (const e of out) {
      outBytes += e.bytes.byteLength;
      if (e.type === "fragment") fragments++;
    }
  }
  for (const e of r.end()) outBytes += e.bytes.byteLength;
  return { ms: (Bun.nanoseconds() - t0) / 1e6, outBytes, fragments };
}

/** The floor: every frame's bytes copied once into a fresh buffer of its size. */
function copyPass(events: DemuxEvent[]): number {
  const t0 = Bun.nanoseconds();
  let sink = 0;
  for (const ev of events) {
    if (ev.type !== "frame") continue;
    const copy = new Uint8Array(ev.frame.data.byteLength);
    copy.set(ev.frame.data);
    sink += copy[0] ?? 0;
  }
  if (sink < 0) console.log(sink);
  return (Bun.nanoseconds() - t0) / 1e6;
}

export interface RemuxFigures {
  mode: string;
  mbps: number;
  outMbps: number;
  fragments: number;
  pushP50us: number;
  pushP99us: number;
  videoPushP50us: number;
  videoPushP99us: number;
}

/** Median throughput and push-time percentiles of the remuxer in `options` mode. */
export function measureRemux(events: DemuxEvent[], sampleBytes: number, options: RemuxerOptions, runs: number): RemuxFigures {
  for (let i = 0; i < 3; i++) pass(events, options);
  const passes: PassResult[] = [];
  for (let i = 0; i < runs; i++) passes.push(pass(events, options));
  // Push times in separate passes: reading the clock per push costs time of its own.
  const times: number[] = [];
  const videoTimes: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t: number[] = [];
    pass(events, options, t);
    times.push(...t);
    t.forEach((us, k) => {
      const ev = events[k + 1]!;
      if (ev.type === "frame" && ev.frame.kind === "video") videoTimes.push(us);
    });
  }
  const ms = median(passes.map((p) => p.ms));
  return {
    mode: options.fragment === "frame" ? "frame" : `{ ms: ${options.fragment.ms} }`,
    mbps: sampleBytes / 1e6 / (ms / 1000),
    outMbps: median(passes.map((p) => p.outBytes / 1e6 / (p.ms / 1000))),
    fragments: passes[0]!.fragments,
    pushP50us: percentile(times, 0.5),
    pushP99us: percentile(times, 0.99),
    videoPushP50us: percentile(videoTimes, 0.5),
    videoPushP99us: percentile(videoTimes, 0.99),
  };
}

if (import.meta.main) {
  const runs = process.argv.includes("--quick") ? 3 : 9;
  const { events, sampleBytes, videoFrames, seconds } = await benchFrames();
  const figures = [
    measureRemux(events, sampleBytes, { fragment: "frame" }, runs),
    measureRemux(events, sampleBytes, { fragment: { ms: 100 } }, runs),
  ];
  for (let i = 0; i < 3; i++) copyPass(events);
  const copyMs = median(Array.from({ length: runs }, () => copyPass(events)));
  const m = machineInfo();
  console.log(`# Remuxer throughput

Command (repo root): \`bun run bench/remux-throughput.ts${runs === 3 ? " --quick" : ""}\` on ${new Date().toISOString().replace("T", " ").slice(0, 16)} UTC.
Machine: ${m.nproc} CPUs (${m.cpuModel}), Linux ${m.kernel}; Bun ${m.bun}.
Input: ${events.length - 1} frames (${videoFrames} video) over ${fmt(seconds, 0)} s, ${fmt(sampleBytes / 1e6, 1)} MB of samples (${fmt((sampleBytes * 8) / seconds / 1e6, 2)} Mbit/s), millisecond timestamps. Median of ${runs} passes.

${table(
  ["mode", "fragments", "MB/s in (samples)", "MB/s out", "push p50 µs", "push p99 µs", "video push p50 µs", "video push p99 µs"],
  figures.map((f) => [
    f.mode,
    String(f.fragments),
    fmt(f.mbps, 0),
    fmt(f.outMbps, 0),
    fmt(f.pushP50us, 2),
    fmt(f.pushP99us, 2),
    fmt(f.videoPushP50us, 2),
    fmt(f.videoPushP99us, 2),
  ]),
)}

Floor (each frame copied once into a fresh buffer): ${fmt(sampleBytes / 1e6 / (copyMs / 1000), 0)} MB/s.`);
}
