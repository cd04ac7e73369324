import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseIndex } from "../../src/record/segment-index.ts";
import { runFfmpeg } from "../helpers/ffmpeg.ts";
import { startTestSluice, type TestSluice } from "../helpers/sluice.ts";
import { probeRecording, recordingFiles, until } from "./probe.ts";

setDefaultTimeout(90_000);

const SECONDS = 7;
const lavfi = (seconds: number) => [
  ...["-re", "-f", "lavfi", "-i", `testsrc2=size=320x240:rate=25:duration=${seconds}`],
  ...["-re", "-f", "lavfi", "-i", `sine=frequency=440:sample_rate=48000:duration=${seconds}`],
];
const x264 = ["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "25", "-keyint_min", "25", "-sc_threshold", "0"];
const h264aac = [...x264, "-pix_fmt", "yuv420p", "-b:v", "400k", "-c:a", "aac", "-b:a", "64k"];

let dir: string;
let sluice: TestSluice;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sluice-rec-"));
  // Rotation every 3 s: a 7 s publish makes 2-3 files per stream.
  sluice = await startTestSluice(["--record", dir, "--record-rotate-minutes", "0.05", "--ingest", "0=webcam"]);
});
afterAll(async () => {
  await sluice.stop();
  rmSync(dir, { recursive: true, force: true });
});

const CASES = [
  {
    label: "fMP4 (H.264 + AAC, 100 ms fragments)",
    stream: "live",
    ext: "mp4",
    args: () => [
      ...lavfi(SECONDS),
      ...h264aac,
      ...["-f", "mp4", "-movflags", "empty_moov+default_base_moof+frag_keyframe+skip_trailer", "-frag_duration", "100000"],
      `tcp://127.0.0.1:${sluice.ingestPort}`,
    ],
  },
  {
    label: "WebM (VP8 + Opus, 100 ms clusters)",
    stream: "webcam",
    ext: "webm",
    args: () => [
      ...lavfi(SECONDS),
      ...["-c:v", "libvpx", "-b:v", "400k", "-deadline", "realtime", "-cpu-used", "8", "-g", "25", "-keyint_min", "25"],
      ...["-pix_fmt", "yuv420p", "-c:a", "libopus", "-b:a", "64k", "-f", "webm", "-live", "1", "-cluster_time_limit", "100"],
      `tcp://127.0.0.1:${sluice.ingestPorts.webcam}`,
    ],
  },
  {
    label: "RTMP remuxed to fMP4 (one fragment per frame)",
    stream: "rtmpcam",
    ext: "mp4",
    args: () => [...lavfi(SECONDS), ...h264aac, "-f", "flv", `rtmp://127.0.0.1:${sluice.rtmpPort}/live/rtmpcam`],
  },
];

describe("recording real publishers", () => {
  beforeAll(async () => {
    // All three publish at once.
    const runs = CASES.map((c) => runFfmpeg(c.args()));
    const codes = await Promise.all(runs.map((r) => r.done));
    for (const [i, code] of codes.entries())
      if (code !== 0) throw new Error(`${CASES[i]!.label}: ffmpeg ${code}: ${await runs[i]!.stderr()}`);
    // Each publisher's end closes its last file: wait for the end lines in the sidecars.
    await until(
      () =>
        CASES.every((c) =>
          recordingFiles(dir, c.stream).every((f) => /\ne \d+/.test(readFileSync(f.replace(/\.(mp4|webm)$/, ".idx"), "utf8"))),
        ),
      10_000,
      "every recording closed",
    );
  });

  test.each(CASES)(
    "$label: rotated files, each starting with a keyframe, each read completely by ffprobe and ffmpeg, together the whole publish",
    (c) => {
      const files = recordingFiles(dir, c.stream);
      expect(files.length).toBeGreaterThanOrEqual(2);
      let frames = 0;
      let seconds = 0;
      for (const f of files) {
        expect(f.endsWith(`.${c.ext}`)).toBe(true);
        const p = probeRecording(f);
        expect(p.errors).toBe("");
        expect(p.startsWithKeyframe).toBe(true);
        expect(p.audioPackets).toBeGreaterThan(0);
        // The sidecar agrees with the file: its end is the file's size, its duration ffprobe's.
        const index = parseIndex(readFileSync(f.replace(/\.(mp4|webm)$/, ".idx"), "utf8"))!;
        expect(index.end?.offset).toBe(Bun.file(f).size);
        const indexSeconds = (index.end!.decodeTime - index.points[0]!.decodeTime) / index.header.timescale;
        expect(Math.abs(indexSeconds - p.videoSeconds)).toBeLessThan(0.15);
        frames += p.videoFrames;
        seconds += p.videoSeconds;
      }
      console.log(`${c.label}: ${files.length} files, ${frames} video frames, ${seconds.toFixed(2)} s`);
      // The publisher's first keyframe is the recording's first frame: every frame is recorded.
      expect(frames).toBe(SECONDS * 25);
      expect(Math.abs(seconds - SECONDS)).toBeLessThan(0.2);
    },
  );

  test("--record-streams leaves other streams unrecorded", async () => {
    const s = await startTestSluice(["--record", join(dir, "selected"), "--record-streams", "cam9", "--ingest", "0=cam9"]);
    try {
      const a = runFfmpeg([
        ...lavfi(2),
        ...h264aac,
        "-f",
        "mp4",
        "-movflags",
        "empty_moov+default_base_moof+frag_keyframe",
        `tcp://127.0.0.1:${s.ingestPort}`,
      ]);
      const b = runFfmpeg([
        ...lavfi(2),
        ...h264aac,
        "-f",
        "mp4",
        "-movflags",
        "empty_moov+default_base_moof+frag_keyframe",
        `tcp://127.0.0.1:${s.ingestPorts.cam9}`,
      ]);
      expect(await a.done).toBe(0);
      expect(await b.done).toBe(0);
      await until(() => recordingFiles(join(dir, "selected"), "cam9").length > 0, 5000, "cam9 recorded");
      expect(recordingFiles(join(dir, "selected"), "live")).toEqual([]);
    } finally {
      await s.stop();
    }
  });
});
