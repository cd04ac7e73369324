import { readdirSync } from "node:fs";
import { join } from "node:path";

/** What ffprobe (and a full ffmpeg decode) say about one recording file. */
export interface ProbedFile {
  /** Everything ffprobe and the decoder printed at level error (must be empty). */
  errors: string;
  videoFrames: number;
  audioPackets: number;
  /** The first video packet carries the K flag (undefined: no video). */
  startsWithKeyframe: boolean | undefined;
  /** Last video packet end minus first video packet start, seconds. */
  videoSeconds: number;
}

/** Reads every packet of `path` with ffprobe and decodes it all with ffmpeg (`-f null`). */
export function probeRecording(path: string): ProbedFile {
  const r = Bun.spawnSync([
    "ffprobe",
    "-v",
    "error",
    "-show_entries",
    "stream=index,codec_type:packet=stream_index,pts_time,duration_time,flags",
    "-of",
    "json",
    path,
  ]);
  const json = JSON.parse(r.stdout.toString() || "{}") as {
    streams?: Array<{ index: number; codec_type: string }>;
    packets?: Array<{ stream_index: number; pts_time?: string; duration_time?: string; flags: string }>;
  };
  const kinds = new Map((json.streams ?? []).map((s) => [s.index, s.codec_type]));
  const packets = json.packets ?? [];
  const video = packets.filter((p) => kinds.get(p.stream_index) === "video");
  const pts = video.map((p) => Number(p.pts_time));
  const ends = video.map((p) => Number(p.pts_time) + Number(p.duration_time ?? 0));
  const decode = Bun.spawnSync(["ffmpeg", "-v", "error", "-nostdin", "-i", path, "-f", "null", "-"]);
  return {
    errors: r.stderr.toString() + decode.stderr.toString() + (r.exitCode || decode.exitCode ? `exit ${r.exitCode}/${decode.exitCode}` : ""),
    videoFrames: video.length,
    audioPackets: packets.filter((p) => kinds.get(p.stream_index) === "audio").length,
    startsWithKeyframe: video.length ? video[0]!.flags.startsWith("K") : undefined,
    videoSeconds: video.length ? Math.max(...ends) - Math.min(...pts) : 0,
  };
}

/** The recording files (not sidecars) of `stream` under `dir`, oldest first. */
export function recordingFiles(dir: string, stream: string): string[] {
  let names: string[];
  try {
    names = readdirSync(join(dir, stream));
  } catch {
    return [];
  }
  return names
    .filter((n) => /\.(mp4|webm)$/.test(n))
    .sort()
    .map((n) => join(dir, stream, n));
}

/** Polls `pred` until it holds or `ms` pass. */
export async function until(pred: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await Bun.sleep(50);
  }
}
