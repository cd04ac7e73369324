import { expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseIndex } from "../../src/record/segment-index.ts";
import { LOWLAT_MP4, runFfmpeg } from "../helpers/ffmpeg.ts";
import { startTestSluice } from "../helpers/sluice.ts";
import { spawnSluice } from "../helpers/sluice-process.ts";
import { probeRecording, recordingFiles, until } from "./probe.ts";

setDefaultTimeout(90_000);

test("SIGKILL mid-file leaves a file ffprobe reads whole up to its last fragment; a restarted Sluice scans it for its index", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sluice-crash-"));
  try {
    const proc = await spawnSluice(["--record", dir]);
    const ff = runFfmpeg(LOWLAT_MP4(60, `tcp://127.0.0.1:${proc.ingestPort}`));
    await until(
      () => recordingFiles(dir, "live").length === 1 && Bun.file(recordingFiles(dir, "live")[0]!).size > 150_000,
      20_000,
      "recording under way",
    );
    proc.proc.kill("SIGKILL");
    await proc.proc.exited;
    ff.stop();
    await ff.done;

    const [file] = recordingFiles(dir, "live");
    const p = probeRecording(file!);
    expect(p.errors).toBe("");
    expect(p.startsWithKeyframe).toBe(true);
    expect(p.videoFrames).toBeGreaterThan(50);
    // The sidecar has no end line (the file was never closed).
    const sidecar = parseIndex(readFileSync(file!.replace(/\.mp4$/, ".idx"), "utf8"))!;
    expect(sidecar.end).toBeUndefined();

    // A new Sluice over the same folder rebuilds the index by scanning the file with its own parser.
    const s = await startTestSluice(["--record", dir]);
    try {
      const list = (await (await fetch(`http://127.0.0.1:${s.httpPort}/api/recordings/live`)).json()) as {
        recordings: Array<{ duration: number; bytes: number; recording: boolean; segments: number }>;
      };
      expect(list.recordings).toHaveLength(1);
      const r = list.recordings[0]!;
      expect(r.recording).toBe(false);
      expect(r.bytes).toBe(Bun.file(file!).size);
      expect(Math.abs(r.duration - p.videoSeconds)).toBeLessThan(0.15);
      expect(s.recorder!.store.scanned).toBe(1);
      const playlist = await (await fetch(`http://127.0.0.1:${s.httpPort}/hls/live/vod.m3u8`)).text();
      expect(playlist.match(/#EXTINF/g)?.length).toBe(r.segments);
      console.log(`after SIGKILL: ${p.videoFrames} frames, ${p.videoSeconds.toFixed(2)} s, ${r.segments} segments rebuilt by scanning`);
    } finally {
      await s.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
