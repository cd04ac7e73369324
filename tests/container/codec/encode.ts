import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findBoxPayload } from "../mpegts/probe.ts";

/** A short raw H.264 / H.265 elementary stream made by ffmpeg, with ffmpeg's own view of it. */
export interface Encoded {
  /** The Annex B byte stream. */
  annexB: Uint8Array;
  /** ffmpeg's avcC / hvcC payload for the same stream (`-c copy` into MP4). */
  record: Uint8Array;
  /** ffprobe's picture size. */
  width: number;
  height: number;
}

function run(args: string[]): Uint8Array {
  const r = Bun.spawnSync(args, { maxBuffer: 64 * 1024 * 1024 });
  if (r.exitCode !== 0) throw new Error(`${args[0]} failed: ${r.stderr.toString()}`);
  return new Uint8Array(r.stdout);
}

/** Two frames of testsrc2 at `size` in `pixFmt`, encoded with libx264 / libx265 plus `extra` options. */
export function encode(codec: "avc" | "hevc", size: string, pixFmt: string, extra: string[] = []): Encoded {
  const dir = mkdtempSync(join(tmpdir(), "sluice-codec-"));
  try {
    const raw = join(dir, codec === "avc" ? "v.h264" : "v.h265");
    const enc = codec === "avc" ? ["-c:v", "libx264"] : ["-c:v", "libx265", "-x265-params", "log-level=error"];
    run([
      "ffmpeg",
      "-hide_banner",
      "-loglevel",
      "error",
      "-y",
      "-f",
      "lavfi",
      "-i",
      `testsrc2=size=${size}:rate=25`,
      "-frames:v",
      "2",
      ...enc,
      "-pix_fmt",
      pixFmt,
      ...extra,
      "-f",
      codec === "avc" ? "h264" : "hevc",
      raw,
    ]);
    const mp4 = run([
      "ffmpeg",
      "-hide_banner",
      "-loglevel",
      "quiet",
      "-i",
      raw,
      "-c",
      "copy",
      "-f",
      "mp4",
      "-movflags",
      "empty_moov+default_base_moof",
      "pipe:1",
    ]);
    const record = findBoxPayload(mp4, codec === "avc" ? "avcC" : "hvcC");
    if (!record) throw new Error("no decoder configuration record in ffmpeg's MP4");
    const [w, h] = new TextDecoder()
      .decode(run(["ffprobe", "-v", "quiet", "-show_entries", "stream=width,height", "-of", "csv=p=0", raw]))
      .trim()
      .split(",");
    return { annexB: new Uint8Array(readFileSync(raw)), record: record.slice(), width: Number(w), height: Number(h) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
