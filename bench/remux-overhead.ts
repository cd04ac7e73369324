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
/** Encodes SECONDS of testsrc2 720p30 + a sine with `codecs` (video, then audio, then muxer options) into `out`. */
function encodeSource(out: string, codecs: string[]): string {
  const r = Bun.spawnSync([
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
    ...codecs,
    out,
  ]);
  if (r.exitCode !== 0) throw new Error(r.stderr.toString());
  return out;
}

const src = encodeSource(resolve(TMP, "remux-overhead-src.flv"), [
  ...["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "60", "-b:v", "3M"],
  ...["-c:a", "aac", "-b:a", "128k", "-f", "flv"],
]);

/** Sum of the packet sizes ffprobe reports: the media bytes, without any container. */
const mediaBytes = (path: string) =>
  Bun.spawnSync(["ffprobe", "-v", "error", "-show_entries", "packet=size", "-of", "csv=p=0", path])
    .stdout.toString()
    .split("\n")
    .filter(Boolean)
    .reduce((a, b) => a + Number.parseInt(b, 10), 0); // WebM lines may end in a comma (side data)

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
// ffmpeg's own muxers, whose bytes Sluice relays as they are: the same media cut per frame and per ~100 ms.
const webmSrc = encodeSource(resolve(TMP, "remux-overhead-src.webm"), [
  ...["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-g", "60", "-b:v", "3M"],
  ...["-c:a", "libopus", "-b:a", "128k", "-f", "webm"],
]);
const FMP4 = "empty_moov+default_base_moof+frag_keyframe+skip_trailer";
const direct = [
  {
    label: "fMP4 `+frag_every_frame` (default)",
    input: src,
    out: "ffmpeg-frame.mp4",
    args: ["-f", "mp4", "-movflags", `${FMP4}+frag_every_frame`, "-write_prft", "wallclock"],
  },
  {
    label: "fMP4 `-frag_duration 100000`",
    input: src,
    out: "ffmpeg-100ms.mp4",
    args: ["-f", "mp4", "-movflags", FMP4, "-frag_duration", "100000", "-write_prft", "wallclock"],
  },
  {
    label: "WebM `-cluster_time_limit 0` (default)",
    input: webmSrc,
    out: "ffmpeg-frame.webm",
    args: ["-f", "webm", "-live", "1", "-cluster_time_limit", "0"],
  },
  {
    label: "WebM `-cluster_time_limit 100`",
    input: webmSrc,
    out: "ffmpeg-100ms.webm",
    args: ["-f", "webm", "-live", "1", "-cluster_time_limit", "100"],
  },
];
const directRows: string[] = [];
for (const d of direct) {
  const out = resolve(TMP, `remux-overhead-${d.out}`);
  const r = Bun.spawnSync(["ffmpeg", "-y", "-hide_banner", "-loglevel", "error", "-i", d.input, "-c", "copy", ...d.args, out]);
  if (r.exitCode !== 0) throw new Error(r.stderr.toString());
  const bytes = await Bun.file(out).arrayBuffer();
  const data = new Uint8Array(bytes);
  // Fragments: moof boxes (fMP4) or Cluster IDs (WebM) counted in the file.
  const marker = d.out.endsWith(".webm") ? [0x1f, 0x43, 0xb6, 0x75] : [0x6d, 0x6f, 0x6f, 0x66];
  let units = 0;
  for (let i = 0; i + 4 <= data.length; i++)
    if (data[i] === marker[0] && data[i + 1] === marker[1] && data[i + 2] === marker[2] && data[i + 3] === marker[3]) units++;
  const media = mediaBytes(out);
  const over = data.length - media;
  directRows.push(
    `| ${d.label} | ${(units / SECONDS).toFixed(1)} | ${((media * 8) / SECONDS / 1e6).toFixed(2)} | ${((over * 8) / SECONDS / 1000).toFixed(1)} | ${((over / media) * 100).toFixed(2)} % | ${(over / units).toFixed(0)} |`,
  );
}

const m = machineInfo();
const md = `# Per-frame fragments: bytes of overhead

- Date: ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC; ${m.nproc} cores, ${m.cpuModel}; ${m.ffmpeg}; Bun ${m.bun}
- Command: \`bun run bench/remux-overhead.ts\` — an RTMP publisher (720p30 H.264 3 Mbit/s zerolatency, 2 s GOP, + AAC 128 kbit/s 48 kHz, ${SECONDS} s) relayed by Sluice; one WebSocket viewer's init + fragments written to a file; overhead = relayed fragment bytes − media bytes (ffprobe packet sizes).

| --remux-fragment | fragments/s | media Mbit/s | overhead kbit/s | overhead | bytes per fragment |
| --- | --- | --- | --- | --- | --- |
${rows.join("\n")}

Per fragment: prft (32 B), moof with mfhd and one traf per track (tfhd, tfdt, trun with a 12-byte record per sample), mdat header (8 B).

## ffmpeg's own muxers (relayed by Sluice byte for byte)

The same 20 s remuxed with \`ffmpeg -c copy\` (H.264 + AAC from the file above; VP8 3 Mbit/s realtime + Opus 128 kbit/s for WebM);
overhead = file bytes − media bytes (the init segment, < 1 KiB, included); fragments = \`moof\` boxes / Clusters in the file.
ffmpeg's \`frag_every_frame\` cuts at every packet, audio packets too (AAC: 46.9/s), so it makes more fragments than Sluice's remuxer.

| publisher muxer | fragments/s | media Mbit/s | overhead kbit/s | overhead | bytes per fragment |
| --- | --- | --- | --- | --- | --- |
${directRows.join("\n")}
`;
writeFileSync(resolve(ROOT, "bench/results/remux-overhead.md"), md);
console.log(md);
