import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mintViewerToken } from "../../src/access/secrets.ts";
import { runFfmpeg } from "../helpers/ffmpeg.ts";
import { startTestSluice, type TestSluice } from "../helpers/sluice.ts";
import { spawnSluice } from "../helpers/sluice-process.ts";

setDefaultTimeout(90_000);

/**
 * Issue 10, defect 8: one client could take every viewer slot, bursts overshot --max-viewers (the count
 * was read before an await and raised later, when the socket opened), and many never-reading sockets
 * could together hold unbounded memory.
 */
const SECRET = "viewer-secret-123";
const now = () => Math.floor(Date.now() / 1000);

/** Opens a WebSocket; resolves true when it opened, false when the upgrade was refused. */
function tryOpen(url: string, headers: Record<string, string> = {}): Promise<{ ok: boolean; ws: WebSocket }> {
  // Bun's WebSocket takes request headers (here: X-Forwarded-For through a trusted proxy).
  const ws = new WebSocket(url, { headers } as unknown as string[]);
  return new Promise((resolve) => {
    ws.onopen = () => resolve({ ok: true, ws });
    ws.onerror = () => resolve({ ok: false, ws });
  });
}

describe("viewer admission", () => {
  let sluice: TestSluice;
  beforeAll(async () => {
    sluice = await startTestSluice([
      "--viewer-secret",
      SECRET,
      "--max-viewers",
      "5",
      "--max-viewers-per-stream",
      "5",
      "--max-viewers-per-address",
      "3",
      "--trusted-proxies",
      "127.0.0.1/32",
    ]);
  });
  afterAll(async () => {
    await sluice.stop();
  });

  test("a burst of 40 upgrades from 8 addresses never overshoots --max-viewers", async () => {
    const url = `ws://127.0.0.1:${sluice.httpPort}/ws/cam?token=${await mintViewerToken(SECRET, "cam", now() + 60)}`;
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => tryOpen(url, { "x-forwarded-for": `198.18.0.${i % 8}` })));
    const opened = results.filter((r) => r.ok);
    expect(opened.length).toBe(5);
    const refusals = sluice.logs.filter((l) => /viewer-refused stream=cam .*reason=too-many-viewers/.test(l));
    expect(refusals.length).toBe(35);
    for (const r of results) r.ws.close();
    await Bun.sleep(300);
  });

  test("one address gets at most --max-viewers-per-address; other addresses still get in", async () => {
    const url = `ws://127.0.0.1:${sluice.httpPort}/ws/cam?token=${await mintViewerToken(SECRET, "cam", now() + 60)}`;
    const same = [];
    for (let i = 0; i < 4; i++) same.push(await tryOpen(url, { "x-forwarded-for": "198.18.7.7" }));
    expect(same.map((r) => r.ok)).toEqual([true, true, true, false]);
    expect(sluice.logs.some((l) => /viewer-refused stream=cam remote=198\.18\.7\.7:\d+ reason=too-many-viewers-from-address/.test(l))).toBe(
      true,
    );
    const other = await tryOpen(url, { "x-forwarded-for": "198.18.7.8" });
    expect(other.ok).toBe(true);
    for (const r of [...same, other]) r.ws.close();
    await Bun.sleep(300);
  });

  test("closed viewers give their slots back", async () => {
    const url = `ws://127.0.0.1:${sluice.httpPort}/ws/cam?token=${await mintViewerToken(SECRET, "cam", now() + 60)}`;
    const again = await Promise.all(Array.from({ length: 5 }, (_, i) => tryOpen(url, { "x-forwarded-for": `198.18.1.${i}` })));
    expect(again.every((r) => r.ok)).toBe(true);
    for (const r of again) r.ws.close();
  });
});

describe("total viewer buffer budget", () => {
  const dir = mkdtempSync(join(tmpdir(), "sluice-budget-"));
  const recording = join(dir, "rec.mp4");

  test("never-reading viewers together stay within --viewer-total-buffer-bytes: the longest queues are closed, readers keep playing", async () => {
    // ~4 Mbit/s 720p, a keyframe every second, replayed at twice real time.
    const make = runFfmpeg([
      "-f",
      "lavfi",
      "-i",
      "testsrc2=size=1280x720:rate=25:duration=14",
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      "-tune",
      "zerolatency",
      "-b:v",
      "4M",
      "-maxrate",
      "4M",
      "-bufsize",
      "1M",
      "-g",
      "25",
      "-keyint_min",
      "25",
      "-sc_threshold",
      "0",
      "-pix_fmt",
      "yuv420p",
      "-f",
      "mp4",
      "-movflags",
      "empty_moov+default_base_moof+frag_keyframe",
      recording,
    ]);
    expect(await make.done, await make.stderr()).toBe(0);
    // Each viewer alone may queue 3 MiB before the per-viewer limit; all of them together only 4 MiB.
    const sluice = await spawnSluice([
      "--gop-cache-bytes",
      "0",
      "--viewer-buffer-bytes",
      "3MiB",
      "--slow-viewer-lag-seconds",
      "60",
      "--slow-viewer-min-lag-bytes",
      "1MiB",
      "--viewer-total-buffer-bytes",
      "4MiB",
    ]);
    try {
      const stalled = Array.from({ length: 4 }, (_, i) =>
        Bun.spawn(
          [
            "python3",
            join(import.meta.dir, "../helpers/stalled_viewer.py"),
            "127.0.0.1",
            String(sluice.httpPort),
            "/ws/live",
            "9",
            "1",
            join(dir, `s${i}.bin`),
          ],
          { stdout: "pipe", stderr: "pipe" },
        ),
      );
      const reader = new WebSocket(`ws://127.0.0.1:${sluice.httpPort}/ws/live`);
      let readerBytes = 0;
      reader.binaryType = "arraybuffer";
      reader.onmessage = (ev) => typeof ev.data !== "string" && (readerBytes += (ev.data as ArrayBuffer).byteLength);
      await new Promise((r) => (reader.onopen = r));
      await Bun.sleep(500);
      const publisher = runFfmpeg([
        "-readrate",
        "2",
        "-i",
        recording,
        "-c",
        "copy",
        "-f",
        "mp4",
        "-movflags",
        "empty_moov+default_base_moof+frag_keyframe+skip_trailer",
        "-frag_duration",
        "100000",
        `tcp://127.0.0.1:${sluice.ingestPort}`,
      ]);
      expect(await publisher.done, await publisher.stderr()).toBe(0);
      await Promise.all(stalled.map((s) => s.exited));
      const budgetCloses = sluice
        .output()
        .split("\n")
        .filter((l) => /slow-viewer-closed stream=live .*reason=server-budget/.test(l));
      console.log(
        `budget test: ${budgetCloses.length} viewers closed by the total budget, reader got ${(readerBytes / 2 ** 20).toFixed(1)} MiB`,
      );
      expect(budgetCloses.length).toBeGreaterThanOrEqual(1);
      // The budget acted first (a viewer left alone may later still reach its own per-viewer limit).
      const closes = sluice
        .output()
        .split("\n")
        .filter((l) => l.includes("slow-viewer-closed"));
      expect(closes[0]).toMatch(/reason=server-budget/);
      expect(readerBytes).toBeGreaterThan(5 * 2 ** 20);
      reader.close();
    } finally {
      await sluice.stop();
    }
  });
});
