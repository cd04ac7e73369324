import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LOWLAT_MP4, runFfmpeg } from "../helpers/ffmpeg.ts";
import { parseExposition } from "../helpers/prometheus.ts";
import { startTestSluice } from "../helpers/sluice.ts";
import { connectViewer } from "../helpers/ws-viewer.ts";
import { probeRecording, recordingFiles } from "./probe.ts";

setDefaultTimeout(90_000);

// A 1 MiB tmpfs made by the test (we run as root) so the disk really fills.
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sluice-full-"));
  const r = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir]);
  if (r.exitCode !== 0) throw new Error(`mount tmpfs failed (the test needs root): ${r.stderr.toString()}`);
});
afterAll(() => {
  Bun.spawnSync(["umount", dir]);
  rmSync(dir, { recursive: true, force: true });
});

test("a full disk stops that stream's recording with one log line and a metric; the WebSocket viewer keeps receiving", async () => {
  const s = await startTestSluice(["--record", dir]);
  // ~1.5 Mbit/s: the 1 MiB disk is full after about 5 s.
  const ff = runFfmpeg(LOWLAT_MP4(30, `tcp://127.0.0.1:${s.ingestPort}`).map((a) => (a === "400k" ? "1500k" : a)));
  try {
    const viewer = await connectViewer(`ws://127.0.0.1:${s.httpPort}/ws/live`);
    const binaries = () => viewer.messages.filter((m) => m.kind === "binary").length;
    const line = await s.waitLog(/recording-stopped/, 30_000);
    expect(line).toMatch(/warn recording-stopped stream=live reason=ENOSPC /);
    const atStop = binaries();
    await Bun.sleep(1500);
    expect(binaries()).toBeGreaterThan(atStop + 10); // ~100 ms fragments keep flowing
    expect(s.logs.filter((l) => l.includes("recording-stopped"))).toHaveLength(1);
    const metrics = parseExposition(await (await fetch(`http://127.0.0.1:${s.httpPort}/metrics`)).text());
    const errors = metrics.filter((m) => m.name === "sluice_recording_errors_total");
    expect(errors.map((m) => [m.labels, m.value])).toEqual([[{ stream: "live", reason: "ENOSPC" }, 1]]);
    // The relay is untouched: the stream is live and the viewer still open.
    const api = (await (await fetch(`http://127.0.0.1:${s.httpPort}/api/streams/live`)).json()) as { live: boolean };
    expect(api.live).toBe(true);
    expect(viewer.ws.readyState).toBe(WebSocket.OPEN);
    viewer.close();
    // What was written is cut back to whole fragments: ffprobe and ffmpeg read it without an error.
    const files = recordingFiles(dir, "live");
    expect(files).toHaveLength(1);
    const p = probeRecording(files[0]!);
    expect(p.errors).toBe("");
    expect(p.videoFrames).toBeGreaterThan(25);
    console.log(`disk full after ${p.videoFrames} frames (${p.videoSeconds.toFixed(2)} s) in ${Bun.file(files[0]!).size} bytes`);
  } finally {
    ff.stop();
    await ff.done;
    await s.stop();
  }
});
