/**
 * What per-frame fragments cost in bytes: an RTMP publisher (720p30 H.264 3 Mbit/s + AAC 128 kbit/s,
 * 20 s, `ffmpeg -re -c copy` of a file made once) relayed by Sluice with `--remux-fragment frame` and
 * with `--remux-fragment 100`; one WebSocket viewer records init + fragments; the container overhead is
 * the relayed bytes minus the media bytes ffprobe counts in the same file.
 *
 *   bun run bench/remux-overhead.ts   → bench/results/remux-overhead.md
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { startTestSluice } from "../tests/helpers/sluice.ts";
import { connectViewer, sessions } from "../tests/helpers/ws-viewer.ts";
import { machineInfo } from "./lib/machine.ts";
import { ROOT } from "./lib/processes.ts";
import { TMP } from "./lib/recording.ts";

const SECONDS = 20;
mkdirSync(TMP, { recursive: true });
const src = resolve(TMP, "remux-overhead-src.flv");
const make = Bun.spawnSync([
  "ffmpeg",
  "-y",
  "-hide_banner",
  "-loglevel",
  "error",
  "-f",
  "lavfi",
  "-i",
  `testsrc2=size=1280x720:rate=30:duration=${SECONDS}`,
  "-f",
  "lavfi",
  "-i",
  `sine=duration=${SECONDS}:sample_rate=48000`,
  "-c:v",
  "libx264",
  "-preset",
  "veryfast",
  "-tune",
  "zerolatency",
  "-g",
  "60",
  "-b:v",
  "3M",
  "-c:a",
  "aac",
  "-b:a",
  "128k",
  "-f",
  "flv",
  src,
]);
if (make.exitCode !== 0) throw new Error(make.stderr.toString());

/** Sum of the packet sizes ffprobe reports: the media bytes, without any container. */
const mediaBytes = (path: string) =>
  Bun.spawnSync(["ffprobe", "-v", "error", "-show_entries", "packet=size", "-of", "csv=p=0", path])
    .stdout.toString()
    .split("\n")
    .filter(Boolean)
    .reduce((a, b) => a + Number(b), 0);

const rows: string[] = [];
for (const mode of ["frame", "100"]) {
  const s = await startTestSluice(["--remux-fragment", mode, "--log-level", "warn"]);
  const viewer = await connectViewer(`ws://127.0.0.1:${s.httpPort}/ws/cam`);
  const ff = Bun.spawn([
    "ffmpeg",
    "-hide_banner",
    "-loglevel",
    "error",
    "-re",
    "-i",
    src,
    "-c",
    "copy",
    "-f",
    "flv",
    `rtmp://127.0.0.1:${s.rtmpPort}/live/cam`,
  ]);
  await ff.exited;
  await viewer.until((m) => m.some((x) => x.kind === "text" && x.json.type === "ended"), 30_000, "ended");
  const { init, fragments } = sessions(viewer.messages)[0]!;
  const relayed = fragments.reduce((a, f) => a + f.byteLength, 0);
  const out = resolve(TMP, `remux-overhead-${mode}.mp4`);
  await Bun.write(out, new Blob([init, ...fragments] as BlobPart[]));
  const media = mediaBytes(out);
  const over = relayed - media;
  rows.push(
    `| ${mode === "frame" ? "frame (default)" : "100 ms"} | ${(fragments.length / SECONDS).toFixed(1)} | ${((media * 8) / SECONDS / 1e6).toFixed(2)} | ${((over * 8) / SECONDS / 1000).toFixed(1)} | ${((over / media) * 100).toFixed(2)} % | ${(over / fragments.length).toFixed(0)} |`,
  );
  viewer.close();
  await s.stop();
}
const m = machineInfo();
const md = `# Per-frame fragments: bytes of overhead

- Date: ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC; ${m.nproc} cores, ${m.cpuModel}; ${m.ffmpeg}; Bun ${m.bun}
- Command: \`bun run bench/remux-overhead.ts\` — an RTMP publisher (720p30 H.264 3 Mbit/s zerolatency, 2 s GOP, + AAC 128 kbit/s 48 kHz, ${SECONDS} s) relayed by Sluice; one WebSocket viewer's init + fragments written to a file; overhead = relayed fragment bytes − media bytes (ffprobe packet sizes).

| --remux-fragment | fragments/s | media Mbit/s | overhead kbit/s | overhead | bytes per fragment |
| --- | --- | --- | --- | --- | --- |
${rows.join("\n")}

Per fragment: prft (32 B), moof with mfhd and one traf per track (tfhd, tfdt, trun with a 12-byte record per sample), mdat header (8 B).
`;
writeFileSync(resolve(ROOT, "bench/results/remux-overhead.md"), md);
console.log(md);
