/**
 * Sluice's remuxer next to mediabunny's fMP4 muxer on the same frames:
 * `bun run bench/remux-mediabunny.ts [--quick]`.
 *
 * Frames: those of bench/remux-throughput.ts (60 s of 720p30 H.264 + AAC, millisecond timestamps).
 * mediabunny: `Output` + `Mp4OutputFormat({ fastStart: "fragmented", minimumFragmentDuration: 0 })`
 * with `EncodedVideoPacketSource("avc")` / `EncodedAudioPacketSource("aac")` into a `StreamTarget`,
 * each packet's `add` awaited; also a variant that forces a fragment after every video packet through
 * the muxer's internal `forceFragmentFinalization` (not public API).
 *
 * Measured per muxer: throughput (MB/s of sample bytes, median of passes), the delay between a video
 * frame going in and its bytes coming out (in stream time: how far the input had advanced when the
 * fragment holding the frame was emitted), the most sample bytes held at once (in minus out), whether
 * Sluice's own fMP4 parser accepts the output, and the size of a `bun build --minify` bundle of an
 * entry that imports just the muxer (plus gzip).
 *
 * Results: printed as markdown to stdout; the committed figures are in bench/results/remux.md.
 */

import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { EncodedAudioPacketSource, EncodedPacket, EncodedVideoPacketSource, Mp4OutputFormat, Output, StreamTarget } from "mediabunny";
import { ParseError } from "../src/container/errors.ts";
import { createParser } from "../src/container/index.ts";
import type { AudioTrackConfig, CodedFrame, DemuxEvent, VideoTrackConfig } from "../src/container/remux/frame.ts";
import { createRemuxer, type RemuxerOptions } from "../src/container/remux/remuxer.ts";
import { DEFAULT_PARSER_OPTIONS } from "../src/container/types.ts";
import { machineInfo } from "./lib/machine.ts";
import { ROOT } from "./lib/processes.ts";
import { TMP } from "./lib/recording.ts";
import { fmt, median, percentile, table } from "./lib/stats.ts";
import { benchFrames, measureRemux } from "./remux-throughput.ts";

const RUNS = process.argv.includes("--quick") ? 3 : 7;

interface Input {
  video: VideoTrackConfig;
  audio: AudioTrackConfig;
  frames: CodedFrame[];
  events: DemuxEvent[];
  sampleBytes: number;
}

/** Track ids in mediabunny's output (numbered in the order the tracks are added). */
const MB_VIDEO_TRACK = 1;
const MB_AUDIO_TRACK = 2;

interface MediabunnyPass {
  ms: number;
  outBytes: number;
  fragments: number;
  /** Per video frame: stream time (ms) the input had reached when the frame's bytes came out. */
  delaysMs: number[];
  /** Most sample bytes added but not yet written out at any time (what the muxer must hold). */
  peakHeldMB: number;
  /** The output as written (measured passes only). */
  chunks: Uint8Array[];
}

/** Sample counts per track in a moof (mfhd, then traf → tfhd track_ID and trun sample_count). */
function moofSamples(moof: Uint8Array): Map<number, number> {
  const v = new DataView(moof.buffer, moof.byteOffset, moof.byteLength);
  const out = new Map<number, number>();
  const walk = (start: number, end: number, track: number) => {
    for (let p = start; p + 8 <= end; ) {
      const size = v.getUint32(p);
      const type = String.fromCharCode(...moof.subarray(p + 4, p + 8));
      if (type === "traf") walk(p + 8, p + size, 0);
      else if (type === "tfhd") track = v.getUint32(p + 12);
      else if (type === "trun") out.set(track, (out.get(track) ?? 0) + v.getUint32(p + 12));
      p += Math.max(8, size);
    }
  };
  walk(8, moof.byteLength, 0);
  return out;
}

async function mediabunnyPass(input: Input, perFrame: boolean, measure: boolean): Promise<MediabunnyPass> {
  let outBytes = 0;
  let fragments = 0;
  let videoOut = 0;
  let audioOut = 0;
  const chunks: Uint8Array[] = [];
  const target = new StreamTarget(
    new WritableStream({
      write(chunk) {
        outBytes += chunk.data.byteLength;
        if (measure) chunks.push(chunk.data.slice());
      },
    }),
  );
  const output = new Output({
    format: new Mp4OutputFormat({
      fastStart: "fragmented",
      minimumFragmentDuration: 0,
      onMoof: (data) => {
        fragments++;
        if (!measure) return;
        const counts = moofSamples(data);
        videoOut += counts.get(MB_VIDEO_TRACK) ?? 0;
        audioOut += counts.get(MB_AUDIO_TRACK) ?? 0;
      },
    }),
    target,
  });
  const video = new EncodedVideoPacketSource("avc");
  const audio = new EncodedAudioPacketSource("aac");
  output.addVideoTrack(video);
  output.addAudioTrack(audio);
  await output.start();
  const videoMeta = {
    decoderConfig: {
      codec: "avc1.64001f",
      codedWidth: input.video.width,
      codedHeight: input.video.height,
      description: input.video.record,
    },
  };
  const audioMeta = {
    decoderConfig: {
      codec: "mp4a.40.2",
      sampleRate: input.audio.sampleRate,
      numberOfChannels: input.audio.channels,
      description: input.audio.config,
    },
  };
  const muxer = (output as unknown as { _muxer: { forceFragmentFinalization(): Promise<void> } })._muxer;
  const videoIn: number[] = []; // dts (ms) of each video frame added
  const delaysMs: number[] = [];
  const videoFrameMs = 1000 / 30;
  const audioFrameMs = (1024 / input.audio.sampleRate) * 1000;
  let firstVideo = true;
  let firstAudio = true;
  const held = measure ? new HeldBytes(input.frames) : undefined;
  const t0 = Bun.nanoseconds();
  for (let i = 0; i < input.frames.length; i++) {
    const f = input.frames[i]!;
    if (f.kind === "video") {
      const packet = new EncodedPacket(f.data, f.keyframe ? "key" : "delta", f.pts / 1000, videoFrameMs / 1000, i);
      await video.add(packet, firstVideo ? videoMeta : undefined);
      firstVideo = false;
      if (perFrame) await muxer.forceFragmentFinalization();
      if (measure) videoIn.push(f.dts);
    } else {
      await audio.add(new EncodedPacket(f.data, "key", f.pts / 1000, audioFrameMs / 1000, i), firstAudio ? audioMeta : undefined);
      firstAudio = false;
    }
    if (held) {
      while (delaysMs.length < videoOut && delaysMs.length < videoIn.length) delaysMs.push(f.dts - videoIn[delaysMs.length]!);
      held.update(i, videoOut, audioOut);
    }
  }
  await output.finalize();
  const ms = (Bun.nanoseconds() - t0) / 1e6;
  return { ms, outBytes, fragments, delaysMs, peakHeldMB: (held?.peak ?? 0) / 1e6, chunks };
}

/** Sample bytes in minus sample bytes out, from per-track counts of frames written (in input order per track). */
class HeldBytes {
  peak = 0;
  private readonly sizes = { video: [] as number[], audio: [] as number[] };
  private inBytes = 0;
  private outBytes = 0;
  private out = { video: 0, audio: 0 };

  constructor(private readonly frames: CodedFrame[]) {}

  /** After input frame `i` went in and `videoOut`/`audioOut` frames have come out in total. */
  update(i: number, videoOut: number, audioOut: number): void {
    const f = this.frames[i]!;
    this.sizes[f.kind].push(f.data.byteLength);
    this.inBytes += f.data.byteLength;
    for (const [kind, total] of [
      ["video", videoOut],
      ["audio", audioOut],
    ] as const) {
      while (this.out[kind] < total && this.out[kind] < this.sizes[kind].length) this.outBytes += this.sizes[kind][this.out[kind]++]!;
    }
    this.peak = Math.max(this.peak, this.inBytes - this.outBytes);
  }
}

/**
 * Whether a muxer's whole output reads back through Sluice's fMP4 parser as one init and its
 * fragments: "ok (N fragments)" or the parser's complaint.
 */
function verdict(chunks: Uint8Array[]): string {
  const parser = createParser("fmp4", DEFAULT_PARSER_OPTIONS);
  try {
    const events = chunks.flatMap((c) => parser.push(c));
    events.push(...parser.end());
    return `ok (${events.filter((e) => e.type === "fragment").length} fragments)`;
  } catch (e) {
    return e instanceof ParseError ? `rejected: ${e.message}` : String(e);
  }
}

/** The remuxer's delays and held bytes, measured like mediabunny's. */
function remuxerLatency(input: Input, options: RemuxerOptions): { delaysMs: number[]; peakHeldMB: number; chunks: Uint8Array[] } {
  const r = createRemuxer(options);
  const chunks: Uint8Array[] = [];
  const delaysMs: number[] = [];
  const videoIn: number[] = [];
  let videoOut = 0;
  let peak = 0;
  for (let i = 0; i < input.events.length; i++) {
    const ev = input.events[i]!;
    if (ev.type === "frame" && ev.frame.kind === "video") videoIn.push(ev.frame.dts);
    for (const out of r.push(ev)) {
      chunks.push(out.bytes);
      if (out.type !== "fragment") continue;
      const boxes = new DataView(out.bytes.buffer, out.bytes.byteOffset, out.bytes.byteLength);
      const moofAt = boxes.getUint32(0); // after the prft
      videoOut += moofSamples(out.bytes.subarray(moofAt, moofAt + boxes.getUint32(moofAt))).get(1) ?? 0;
    }
    const now = ev.type === "frame" ? ev.frame.dts : 0;
    while (delaysMs.length < videoOut && delaysMs.length < videoIn.length) delaysMs.push(now - videoIn[delaysMs.length]!);
    peak = Math.max(peak, r.buffered);
  }
  for (const out of r.end()) chunks.push(out.bytes);
  return { delaysMs, peakHeldMB: peak / 1e6, chunks };
}

/** `bun build --minify` of a one-line entry; bytes and gzip bytes of the bundle. */
async function bundleSize(entrySource: string): Promise<{ bytes: number; gzip: number }> {
  // Inside the repository, so that bare imports resolve from its node_modules.
  mkdirSync(TMP, { recursive: true });
  const dir = mkdtempSync(join(TMP, "bundle-"));
  try {
    const entry = join(dir, "entry.ts");
    await Bun.write(entry, entrySource);
    const result = await Bun.build({ entrypoints: [entry], minify: true, target: "browser" });
    if (!result.success) throw new Error(result.logs.join("\n"));
    const code = new Uint8Array(await result.outputs[0]!.arrayBuffer());
    return { bytes: code.byteLength, gzip: Bun.gzipSync(code).byteLength };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const { events, sampleBytes } = await benchFrames();
const tracks = (events[0] as Extract<DemuxEvent, { type: "tracks" }>).tracks;
const input: Input = {
  video: tracks.find((t): t is VideoTrackConfig => t.kind === "video")!,
  audio: tracks.find((t): t is AudioTrackConfig => t.kind === "audio")!,
  frames: events.flatMap((e) => (e.type === "frame" ? [e.frame] : [])),
  events,
  sampleBytes,
};

interface Row {
  name: string;
  mbps: number;
  fragments: number;
  delayP50: number;
  delayMax: number;
  heldMB: number;
  verdict: string;
}
const rows: Row[] = [];

// The remuxer first, on a heap mediabunny has not churned yet (each measured the same way otherwise).
for (const options of [{ fragment: "frame" }, { fragment: { ms: 100 } }] satisfies RemuxerOptions[]) {
  const figures = measureRemux(events, sampleBytes, options, RUNS);
  const latency = remuxerLatency(input, options);
  rows.push({
    name: `Sluice remuxer, ${figures.mode}`,
    mbps: figures.mbps,
    fragments: figures.fragments,
    delayP50: percentile(latency.delaysMs, 0.5),
    delayMax: Math.max(...latency.delaysMs),
    heldMB: latency.peakHeldMB,
    verdict: verdict(latency.chunks),
  });
}

for (const [name, perFrame] of [
  ["mediabunny, minimumFragmentDuration 0", false],
  ["mediabunny, forced fragment per video frame (internal API)", true],
] as const) {
  for (let i = 0; i < 2; i++) await mediabunnyPass(input, perFrame, false);
  const passes: MediabunnyPass[] = [];
  for (let i = 0; i < RUNS; i++) passes.push(await mediabunnyPass(input, perFrame, false));
  const measured = await mediabunnyPass(input, perFrame, true);
  rows.push({
    name,
    mbps: sampleBytes / 1e6 / (median(passes.map((p) => p.ms)) / 1000),
    fragments: passes[0]!.fragments,
    delayP50: percentile(measured.delaysMs, 0.5),
    delayMax: Math.max(...measured.delaysMs),
    heldMB: measured.peakHeldMB,
    verdict: verdict(measured.chunks),
  });
}
const ours = await bundleSize(
  `import { createRemuxer } from ${JSON.stringify(resolve(ROOT, "src/container/remux/remuxer.ts"))};\nconsole.log(createRemuxer);\n`,
);
const theirs = await bundleSize(
  'import { Output, Mp4OutputFormat, StreamTarget, EncodedVideoPacketSource, EncodedAudioPacketSource, EncodedPacket } from "mediabunny";\n' +
    "console.log(Output, Mp4OutputFormat, StreamTarget, EncodedVideoPacketSource, EncodedAudioPacketSource, EncodedPacket);\n",
);
const version = (await Bun.file(resolve(ROOT, "node_modules/mediabunny/package.json")).json()).version as string;
const m = machineInfo();
console.log(`# Remuxer vs mediabunny ${version}

Command (repo root): \`bun run bench/remux-mediabunny.ts${RUNS === 3 ? " --quick" : ""}\` on ${new Date().toISOString().replace("T", " ").slice(0, 16)} UTC.
Machine: ${m.nproc} CPUs (${m.cpuModel}), Linux ${m.kernel}; Bun ${m.bun}.
Input: ${input.frames.length} frames of 720p30 H.264 + AAC, ${fmt(sampleBytes / 1e6, 1)} MB of samples. Median of ${RUNS} passes.
Delay: stream time between a video frame going in and the push/add after which its fragment's bytes were out.

${table(
  ["muxer", "fragments", "MB/s (samples)", "delay p50 ms", "delay max ms", "peak sample KB held", "Sluice's parser on the output"],
  rows.map((r) => [
    r.name,
    String(r.fragments),
    fmt(r.mbps, 0),
    fmt(r.delayP50, 0),
    fmt(r.delayMax, 0),
    fmt(r.heldMB * 1000, 0),
    r.verdict,
  ]),
)}

Bundle (\`bun build --minify\`, browser target, entry importing only the muxer):
Sluice remuxer ${fmt(ours.bytes / 1024, 1)} KiB (${fmt(ours.gzip / 1024, 1)} KiB gzip); mediabunny ${fmt(theirs.bytes / 1024, 1)} KiB (${fmt(theirs.gzip / 1024, 1)} KiB gzip).`);
