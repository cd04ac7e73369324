import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createParser } from "../../src/container/index.ts";
import type { FragmentEvent } from "../../src/container/types.ts";
import { concat } from "../helpers/feed.ts";
import { runFfmpeg } from "../helpers/ffmpeg.ts";
import { type SluiceProcess, spawnSluice } from "../helpers/sluice-process.ts";
import { startTcpRecorder } from "../helpers/tcp-recorder.ts";
import { parseWsFrames } from "../helpers/ws-frames.ts";
import type { ViewerMessage } from "../helpers/ws-viewer.ts";

setDefaultTimeout(120_000);

const dir = mkdtempSync(join(tmpdir(), "sluice-slow-"));
const recording = join(dir, "rec.mp4");
const STREAM_SECONDS = 14;
const RECORDING_SECONDS = 24;
/** Server RSS bound for 50 healthy + 5 stalled viewers of a ~4 Mbit/s stream (measured: under 60 MiB). */
const RSS_BOUND = 256 * 1024 * 1024;

beforeAll(async () => {
  // A ~4 Mbit/s 720p recording with a keyframe every second, replayed in real time below.
  const make = runFfmpeg([
    "-f",
    "lavfi",
    "-i",
    `testsrc2=size=1280x720:rate=25:duration=${RECORDING_SECONDS}`,
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
});

const replay = (url: string, input = ["-re", "-t", String(STREAM_SECONDS)]) =>
  runFfmpeg([
    ...input,
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
    url,
  ]);

/** A healthy in-process viewer keeping only a hash per binary message. */
async function hashingViewer(url: string) {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  const hashes: bigint[] = [];
  const texts: Array<Record<string, unknown>> = [];
  ws.onmessage = (ev) => {
    if (typeof ev.data === "string") texts.push(JSON.parse(ev.data));
    else hashes.push(BigInt(Bun.hash(new Uint8Array(ev.data as ArrayBuffer))));
  };
  await new Promise((r, j) => ((ws.onopen = r), (ws.onerror = j)));
  return { ws, hashes, texts };
}

function stalledViewer(port: number, stall: number, read: number, out: string) {
  const proc = Bun.spawn(
    [
      "python3",
      join(import.meta.dir, "../helpers/stalled_viewer.py"),
      "127.0.0.1",
      String(port),
      "/ws/live",
      String(stall),
      String(read),
      out,
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  return { proc, out };
}

/** Fragments of a viewer's message list, parsed after its init: keyframe flag and mfhd sequence. */
function parseViewer(messages: ViewerMessage[]) {
  const parser = createParser("fmp4", { maxElementBytes: 32 << 20 });
  const items: Array<{ skip: true } | FragmentEvent> = [];
  let wantInit = false;
  for (const m of messages) {
    if (m.kind === "text") {
      if (m.json.type === "stream") wantInit = true;
      if (m.json.type === "skip") items.push({ skip: true });
      continue;
    }
    const events = parser.push(m.bytes);
    if (wantInit) {
      wantInit = false;
      continue;
    }
    items.push(...(events.filter((e) => e.type === "fragment") as FragmentEvent[]));
  }
  return items;
}

describe("slow-viewer policy", () => {
  let sluice: SluiceProcess;
  beforeAll(async () => {
    sluice = await spawnSluice();
  });
  afterAll(async () => {
    await sluice.stop();
  });

  test("50 healthy viewers get every fragment in order while 5 stalled ones skip whole GOPs; server memory stays bounded", async () => {
    const url = `ws://127.0.0.1:${sluice.httpPort}/ws/live`;
    const healthy = await Promise.all(Array.from({ length: 50 }, () => hashingViewer(url)));
    const stalled = Array.from({ length: 5 }, (_, i) =>
      stalledViewer(sluice.httpPort, 9, STREAM_SECONDS - 4, join(dir, `stalled-${i}.bin`)),
    );
    const recorder = startTcpRecorder(sluice.ingestPort);
    await Bun.sleep(500);
    const publisher = replay(`tcp://127.0.0.1:${recorder.port}`);
    let maxRss = 0;
    const sampler = setInterval(() => (maxRss = Math.max(maxRss, sluice.rss())), 250);
    expect(await publisher.done, await publisher.stderr()).toBe(0);
    await Promise.all(stalled.map((s) => s.proc.exited));
    clearInterval(sampler);
    await Bun.sleep(300);

    // The reference: exactly what ffmpeg sent, cut by the parser into init + fragments.
    const sent = concat(recorder.connections[0]!);
    const p = createParser("fmp4", { maxElementBytes: 32 << 20 });
    const expected = [...p.push(sent), ...p.end()].map((e) => BigInt(Bun.hash(e.bytes)));
    expect(expected.length).toBeGreaterThan(100);
    for (const v of healthy) {
      expect(v.texts.map((t) => t.type)).toEqual(["waiting", "stream", "ended"]);
      expect(v.hashes).toEqual(expected);
      v.ws.close();
    }

    let skips = 0;
    for (const s of stalled) {
      expect(s.proc.exitCode, await new Response(s.proc.stderr).text()).toBe(0);
      const { messages } = parseWsFrames(new Uint8Array(await Bun.file(s.out).arrayBuffer()));
      const items = parseViewer(messages);
      // Between skips the fragments are consecutive; after every skip comes a keyframe fragment.
      for (let i = 1; i < items.length; i++) {
        const prev = items[i - 1]!;
        const cur = items[i]!;
        if ("skip" in cur) continue;
        if ("skip" in prev) {
          skips++;
          expect(cur.keyframe).toBe(true);
          expect(cur.sequence!).toBeGreaterThan(
            (items.slice(0, i - 1).findLast((x) => !("skip" in x)) as FragmentEvent | undefined)?.sequence ?? 0,
          );
        } else {
          expect(cur.sequence).toBe(prev.sequence! + 1);
        }
      }
      expect(messages.some((m) => m.kind === "text" && m.json.type === "ended")).toBe(true);
    }
    expect(skips).toBeGreaterThanOrEqual(5);
    expect(maxRss).toBeLessThan(RSS_BOUND);
    console.log(
      `slow-viewer test: max server RSS ${(maxRss / 2 ** 20).toFixed(1)} MiB, ${skips} skips, ${expected.length} messages per healthy viewer`,
    );
    recorder.stop();
  });
});

describe("hard limit", () => {
  test("a stalled viewer past --viewer-buffer-bytes is closed with 4002 and counted", async () => {
    const sluice = await spawnSluice(["--slow-viewer-lag-seconds", "60", "--viewer-buffer-bytes", "2MiB", "--gop-cache-bytes", "0"]);
    try {
      const s = stalledViewer(sluice.httpPort, 11, 2, join(dir, "hard.bin"));
      await Bun.sleep(300);
      // 12 MB in 12 s: more than the kernel's socket buffers (4 MiB) plus the 2 MiB limit.
      const publisher = replay(`tcp://127.0.0.1:${sluice.ingestPort}`, ["-readrate", "2"]);
      await s.proc.exited;
      publisher.stop();
      await publisher.done;
      expect(sluice.output()).toMatch(/slow-viewer-closed stream=live .*limit=2097152/);
      const { close } = parseWsFrames(new Uint8Array(await Bun.file(s.out).arrayBuffer()));
      if (close) expect(close.code).toBe(4002);
      const metrics = await (await fetch(`http://127.0.0.1:${sluice.httpPort}/metrics`)).text();
      expect(metrics).toMatch(/sluice_stream_slow_viewer_closes_total\{stream="live"\} 1/);
    } finally {
      await sluice.stop();
    }
  });
});
