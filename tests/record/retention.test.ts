import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recordingFileName } from "../../src/record/file-names.ts";
import { chooseDeletions, type StoredFile } from "../../src/record/retention.ts";
import { LOWLAT_MP4, runFfmpeg } from "../helpers/ffmpeg.ts";
import { parseExposition } from "../helpers/prometheus.ts";
import { startTestSluice } from "../helpers/sluice.ts";
import { until } from "./probe.ts";

setDefaultTimeout(60_000);

const H = 3_600_000;
const file = (key: string, startH: number, bytes: number, active = false): StoredFile => ({
  key,
  startMs: startH * H,
  modifiedMs: startH * H + 600_000,
  bytes,
  active,
});

describe("chooseDeletions", () => {
  test("by age: files last written longer ago than the limit, oldest first; the active file never", () => {
    const files = [file("c", 9, 1), file("a", 1, 1), file("b", 2, 1, true), file("d", 10, 1)];
    expect(chooseDeletions(files, 10 * H, 5 * H, 0)).toEqual([{ key: "a", reason: "age" }]);
  });

  test("by bytes: the oldest until the total fits, skipping the active file (which still counts)", () => {
    const files = [file("new", 5, 100), file("old", 1, 100, true), file("mid", 3, 100), file("older", 2, 100)];
    expect(chooseDeletions(files, 6 * H, 0, 150)).toEqual([
      { key: "older", reason: "bytes" },
      { key: "mid", reason: "bytes" },
      { key: "new", reason: "bytes" },
    ]);
    expect(chooseDeletions(files, 6 * H, 0, 250)).toEqual([
      { key: "older", reason: "bytes" },
      { key: "mid", reason: "bytes" },
    ]);
  });

  test("age first, then bytes over what is left; no limits delete nothing", () => {
    const files = [file("a", 1, 100), file("b", 2, 100), file("c", 3, 100)];
    expect(chooseDeletions(files, 4 * H, 2 * H + 1, 100)).toEqual([
      { key: "a", reason: "age" },
      { key: "b", reason: "bytes" },
    ]);
    expect(chooseDeletions(files, 100 * H, 0, 0)).toEqual([]);
  });
});

/** A fake recording file (and sidecar) in `dir/stream`, started `hoursAgo`, last written then too. */
function plant(dir: string, stream: string, hoursAgo: number, bytes: number, tag: string): string {
  const start = Date.now() - hoursAgo * H;
  const name = recordingFileName(start, "fmp4", tag);
  mkdirSync(join(dir, stream), { recursive: true });
  const path = join(dir, stream, name);
  writeFileSync(path, new Uint8Array(bytes));
  writeFileSync(path.replace(/\.mp4$/, ".idx"), "");
  utimesSync(path, new Date(start), new Date(start));
  return name;
}

describe("retention in a running Sluice", () => {
  test("--record-max-age deletes files older than the limit at start (with their sidecars), keeps the rest", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-ret-"));
    const old = plant(dir, "cam", 50, 1000, "00000001");
    const older = plant(dir, "other", 72, 1000, "00000002");
    const recent = plant(dir, "cam", 1, 1000, "00000003");
    writeFileSync(join(dir, "cam", "notes.txt"), "not a recording"); // other files are never touched
    const s = await startTestSluice(["--record", dir, "--record-max-age", "48h"]);
    try {
      await s.waitLog(/recording-deleted stream=other file=\S+ reason=age/);
      await s.waitLog(/recording-deleted stream=cam file=\S+ reason=age/);
      expect(readdirSync(join(dir, "cam")).sort()).toEqual([recent, recent.replace(".mp4", ".idx"), "notes.txt"].sort());
      expect(existsSync(join(dir, "cam", old))).toBe(false);
      expect(existsSync(join(dir, "other", older))).toBe(false);
      const metrics = parseExposition(await (await fetch(`http://127.0.0.1:${s.httpPort}/metrics`)).text());
      expect(metrics.find((m) => m.name === "sluice_recording_deleted_files_total" && m.labels.reason === "age")?.value).toBe(2);
    } finally {
      await s.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("--record-max-bytes deletes the oldest files first and never the file being written", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-ret-"));
    const a = plant(dir, "live", 3, 40_000, "0000000a");
    const b = plant(dir, "live", 2, 40_000, "0000000b");
    const c = plant(dir, "live", 1, 40_000, "0000000c");
    // 100 kB: at start the oldest planted file goes (120 kB > 100 kB); then the live recording grows past the
    // budget and the other planted files go, oldest first, while the file being written stays.
    const s = await startTestSluice(["--record", dir, "--record-max-bytes", "100kB", "--record-rotate-minutes", "10"]);
    try {
      await s.waitLog(new RegExp(`recording-deleted stream=live file=${a} reason=bytes`));
      expect(existsSync(join(dir, "live", b))).toBe(true);
      const ff = runFfmpeg(LOWLAT_MP4(30, `tcp://127.0.0.1:${s.ingestPort}`));
      try {
        await s.waitLog(new RegExp(`recording-deleted stream=live file=${b} reason=bytes`), 20_000);
        await s.waitLog(new RegExp(`recording-deleted stream=live file=${c} reason=bytes`), 20_000);
        const order = s.logs.filter((l) => l.includes("recording-deleted")).map((l) => /file=(\S+)/.exec(l)![1]);
        expect(order).toEqual([a, b, c]);
        // The live file is over the budget on its own now, and still there and growing.
        const live = (await (await fetch(`http://127.0.0.1:${s.httpPort}/api/recordings/live`)).json()) as {
          recordings: Array<{ file: string; bytes: number; recording: boolean }>;
        };
        expect(live.recordings).toHaveLength(1);
        expect(live.recordings[0]!.recording).toBe(true);
        const first = live.recordings[0]!;
        await until(
          () => Bun.file(join(dir, "live", first.file)).size > Math.max(first.bytes, 100_000),
          20_000,
          "the live file grows past the budget",
        );
        await s.recorder!.retain();
        expect(existsSync(join(dir, "live", first.file))).toBe(true);
      } finally {
        ff.stop();
        await ff.done;
      }
    } finally {
      await s.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
