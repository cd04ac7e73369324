import { existsSync, mkdirSync, renameSync } from "node:fs";
import { resolve } from "node:path";
import { type ContainerFormat, createParser } from "../../src/container/index.ts";

/**
 * The recordings the benchmarks replay, made with ffmpeg at bench time into the git-ignored
 * `.bench-tmp/`, and their "plan": where the init segment and every fragment sit in the file, with
 * the fragment's mfhd sequence number, decode time and keyframe flag. Publisher, clients and the
 * orchestrator all derive the same plan from the same file.
 */

export const TMP = resolve(import.meta.dir, "../..", ".bench-tmp");

interface PlannedFragment {
  /** fMP4 mfhd sequence_number (WebM: 1-based index). */
  seq: number;
  offset: number;
  length: number;
  /** Decode time of the first (video) sample, seconds from the start. */
  time: number;
  keyframe: boolean;
}

export interface Plan {
  path: string;
  format: ContainerFormat;
  bytes: Uint8Array;
  initLength: number;
  fragments: PlannedFragment[];
}

const SECONDS = 30;
const SOURCE = [
  "-f",
  "lavfi",
  "-i",
  "testsrc2=size=1280x720:rate=25",
  "-f",
  "lavfi",
  "-i",
  "sine=frequency=440:sample_rate=48000",
  "-t",
  String(SECONDS),
];
const X264 = [
  "-c:v",
  "libx264",
  "-preset",
  "veryfast",
  "-tune",
  "zerolatency",
  "-g",
  "50",
  "-keyint_min",
  "50",
  "-sc_threshold",
  "0",
  "-pix_fmt",
  "yuv420p",
  "-b:v",
  "4M",
  "-maxrate",
  "4M",
  "-bufsize",
  "1M",
  "-c:a",
  "aac",
  "-b:a",
  "128k",
];
const FMP4 = (fragUs: number) => [
  "-f",
  "mp4",
  "-movflags",
  "empty_moov+default_base_moof+frag_keyframe+skip_trailer",
  "-frag_duration",
  String(fragUs),
];

/** The ffmpeg commands, for the report. */
export const RECIPES = {
  fmp4Small: ["ffmpeg", ...SOURCE, ...X264, ...FMP4(100_000), "pipe:1"],
  /** Same coded media, re-fragmented: a fragment per second (2 s GOP, so every other one starts with a keyframe). */
  fmp4Large: ["ffmpeg", "-i", "<fmp4Small>", "-c", "copy", ...FMP4(1_000_000), "pipe:1"],
  /**
   * Same coded media, a fragment per sample (ffmpeg's frag_every_frame: audio and video in separate
   * fragments, ~77/s). Sluice's own per-frame remux of RTMP/MPEG-TS sends fewer (one per video frame
   * with its audio, 30/s), so this bounds the per-frame cost from above.
   */
  fmp4Frame: [
    "ffmpeg",
    "-i",
    "<fmp4Small>",
    "-c",
    "copy",
    "-f",
    "mp4",
    "-movflags",
    "empty_moov+default_base_moof+frag_every_frame+skip_trailer",
    "pipe:1",
  ],
  webm: [
    "ffmpeg",
    ...SOURCE,
    "-c:v",
    "libvpx",
    "-b:v",
    "4M",
    "-deadline",
    "realtime",
    "-cpu-used",
    "8",
    "-g",
    "50",
    "-pix_fmt",
    "yuv420p",
    "-c:a",
    "libopus",
    "-b:a",
    "96k",
    "-f",
    "webm",
    "-live",
    "1",
    "-cluster_time_limit",
    "100",
    "pipe:1",
  ],
};

const FILES = {
  fmp4Small: "h264-aac-720p-100ms.mp4",
  fmp4Large: "h264-aac-720p-1s.mp4",
  fmp4Frame: "h264-aac-720p-frame.mp4",
  webm: "vp8-opus-720p-100ms.webm",
};

/** Runs ffmpeg once per missing recording (bounded: 180 s each); returns their paths. */
export async function ensureRecordings(): Promise<Record<keyof typeof FILES, string>> {
  mkdirSync(TMP, { recursive: true });
  const paths = Object.fromEntries(Object.entries(FILES).map(([k, f]) => [k, resolve(TMP, f)])) as Record<keyof typeof FILES, string>;
  for (const key of ["fmp4Small", "fmp4Large", "fmp4Frame", "webm"] as const) {
    if (existsSync(paths[key])) continue;
    const cmd = RECIPES[key].map((a) => (a === "<fmp4Small>" ? paths.fmp4Small : a));
    const part = `${paths[key]}.part`;
    const proc = Bun.spawn([cmd[0]!, "-hide_banner", "-loglevel", "error", "-y", ...cmd.slice(1)], {
      stdout: Bun.file(part),
      stderr: "inherit",
    });
    const timer = setTimeout(() => proc.kill(), 180_000);
    const code = await proc.exited;
    clearTimeout(timer);
    if (code !== 0) throw new Error(`ffmpeg for ${key} exited with ${code}`);
    renameSync(part, paths[key]);
  }
  return paths;
}

/** Reads a recording and cuts it with Sluice's own parser; checks the pieces tile the file exactly. */
export async function loadPlan(path: string): Promise<Plan> {
  const bytes = new Uint8Array(await Bun.file(path).arrayBuffer());
  const format: ContainerFormat = path.endsWith(".webm") ? "webm" : "fmp4";
  const parser = createParser(format, { maxElementBytes: 64 * 1024 * 1024 });
  const events = [...parser.push(bytes), ...parser.end()];
  const [init, ...rest] = events;
  if (init?.type !== "init") throw new Error(`${path}: no init segment first`);
  let offset = init.bytes.byteLength;
  const t0 = rest[0]?.type === "fragment" ? rest[0].decodeTime / rest[0].timescale : 0;
  const fragments = rest.map((ev, i): PlannedFragment => {
    if (ev.type !== "fragment") throw new Error(`${path}: a second init segment`);
    const f = {
      seq: ev.sequence ?? i + 1,
      offset,
      length: ev.bytes.byteLength,
      time: ev.decodeTime / ev.timescale - t0,
      keyframe: ev.keyframe,
    };
    offset += f.length;
    return f;
  });
  if (offset !== bytes.byteLength) throw new Error(`${path}: init + fragments = ${offset} bytes, file = ${bytes.byteLength}`);
  return { path, format, bytes, initLength: init.bytes.byteLength, fragments };
}

/** The fragments a run of `seconds` replays (decode time below `seconds`). */
export const fragmentsFor = (plan: Plan, seconds: number) => plan.fragments.filter((f) => f.time < seconds);

/** Stream bitrate in Mbit/s over the whole recording. */
export function bitrateMbps(plan: Plan): number {
  const last = plan.fragments[plan.fragments.length - 1]!;
  const dur = last.time + (last.time - plan.fragments[0]!.time) / Math.max(1, plan.fragments.length - 1);
  return (plan.bytes.byteLength * 8) / dur / 1e6;
}

const MOOF = 0x6d6f6f66;
const MFHD = 0x6d666864;

/** The mfhd sequence_number of an fMP4 fragment message (top-level boxes up to `moof`), or -1. */
export function mfhdSequence(b: Uint8Array): number {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let o = 0; o + 24 <= b.byteLength; ) {
    const size = v.getUint32(o);
    if (v.getUint32(o + 4) === MOOF) return v.getUint32(o + 12) === MFHD ? v.getUint32(o + 20) : -1;
    if (size < 8) return -1;
    o += size;
  }
  return -1;
}
