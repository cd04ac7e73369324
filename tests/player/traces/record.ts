/**
 * Records a fragment arrival trace for the target estimator's unit tests (not a test itself):
 * starts Sluice as its own process (`bun run src/main.ts`), publishes 720p30 H.264 + AAC with ffmpeg
 * (`-re`), and reads the stream over a WebSocket like a player on loopback. For every media
 * fragment it writes one row: arrival time (ms since the first fragment, `performance.now()`), the
 * video and audio [start, end) in stream seconds (tfdt plus the sum of the trun sample durations), and
 * the byte count.
 *
 *   bun run tests/player/traces/record.ts --mode rtmp-frame  --seconds 30   # RTMP, remuxed to a fragment per frame
 *   bun run tests/player/traces/record.ts --mode fmp4-100ms  --seconds 30   # ffmpeg fMP4, -frag_duration 100000
 *   bun run tests/player/traces/record.ts --mode fmp4-frame  --seconds 30   # ffmpeg fMP4, frag_every_frame
 *
 * Output: tests/player/traces/<mode>.json (see `ArrivalTrace` in traces.ts).
 */

import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { readInitFacts } from "../../../src/container/inspect.ts";

const { values: opts } = parseArgs({
  options: {
    mode: { type: "string", default: "rtmp-frame" },
    seconds: { type: "string", default: "30" },
  },
});
const mode = opts.mode as "rtmp-frame" | "fmp4-100ms" | "fmp4-frame";
const SECONDS = Number(opts.seconds);
const ROOT = resolve(import.meta.dir, "../../..");

function freePort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

const SOURCE = (seconds: number) => [
  "-hide_banner",
  "-loglevel",
  "error",
  "-nostdin",
  "-re",
  "-f",
  "lavfi",
  "-i",
  `testsrc2=size=1280x720:rate=30:duration=${seconds}`,
  "-re",
  "-f",
  "lavfi",
  "-i",
  `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
  ...["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-pix_fmt", "yuv420p"],
  ...["-g", "60", "-keyint_min", "60", "-sc_threshold", "0", "-b:v", "3M", "-c:a", "aac", "-b:a", "128k"],
];
const FMP4 = ["-f", "mp4", "-write_prft", "wallclock"];
const MOVFLAGS = "empty_moov+default_base_moof+frag_keyframe+skip_trailer";

const http = freePort();
const ingest = freePort();
const rtmp = freePort();
const outputs: Record<typeof mode, string[]> = {
  "rtmp-frame": ["-f", "flv", `rtmp://127.0.0.1:${rtmp}/live/trace`],
  "fmp4-100ms": [...FMP4, "-movflags", MOVFLAGS, "-frag_duration", "100000", `tcp://127.0.0.1:${ingest}`],
  "fmp4-frame": [...FMP4, "-movflags", `${MOVFLAGS}+frag_every_frame`, `tcp://127.0.0.1:${ingest}`],
};
const stream = mode === "rtmp-frame" ? "trace" : "live";
const publisher = ["ffmpeg", ...SOURCE(SECONDS + 8), ...outputs[mode]];

const server = Bun.spawn(
  [
    process.execPath,
    "run",
    "src/main.ts",
    ...["--http-host", "127.0.0.1", "--http-port", String(http), "--ingest-host", "127.0.0.1", "--ingest-port", String(ingest)],
    ...["--rtmp-host", "127.0.0.1", "--rtmp-port", String(rtmp), "--log-level", "warn"],
  ],
  { cwd: ROOT, stdout: "inherit", stderr: "inherit" },
);
for (let i = 0; ; i++) {
  if (
    await fetch(`http://127.0.0.1:${http}/healthz`).then(
      () => true,
      () => false,
    )
  )
    break;
  if (i > 400) throw new Error("Sluice did not start");
  await Bun.sleep(50);
}
const ff = Bun.spawn(publisher, { stdout: "inherit", stderr: "inherit" });
for (let i = 0; ; i++) {
  const r = await fetch(`http://127.0.0.1:${http}/api/streams/${stream}`).catch(() => undefined);
  if (r?.ok && ((await r.json()) as { live?: boolean }).live) break;
  if (i > 400) throw new Error("the stream did not go live");
  await Bun.sleep(50);
}
await Bun.sleep(2500); // past encoder start-up: join a running stream like a viewer does

type Row = [arrivalMs: number, videoStart: number, videoEnd: number, audioStart: number, audioEnd: number, bytes: number];
const rows: Row[] = [];
let t0 = Number.NaN;
let tracks: Map<number, { kind: string; timescale: number; defaultDuration: number }> | undefined;
let expectInit = false;
const ws = new WebSocket(`ws://127.0.0.1:${http}/ws/${stream}`);
ws.binaryType = "arraybuffer";
ws.onmessage = (ev) => {
  const now = performance.now();
  if (typeof ev.data === "string") {
    if ((JSON.parse(ev.data) as { type: string }).type === "stream") expectInit = true;
    return;
  }
  const bytes = new Uint8Array(ev.data as ArrayBuffer);
  if (expectInit) {
    expectInit = false;
    const facts = readInitFacts(bytes);
    if (facts.format !== "fmp4") throw new Error("fMP4 expected");
    tracks = new Map(
      facts.movie.tracks.map((t) => [
        t.id,
        { kind: t.kind, timescale: t.timescale, defaultDuration: facts.movie.trex.get(t.id)?.defaultSampleDuration ?? 0 },
      ]),
    );
    return;
  }
  if (!tracks) return;
  if (Number.isNaN(t0)) t0 = now;
  const spans = trackSpans(bytes, tracks);
  const v = spans.get("video") ?? [Number.NaN, Number.NaN];
  const a = spans.get("audio") ?? [Number.NaN, Number.NaN];
  const r4 = (x: number) => Math.round(x * 1e6) / 1e6;
  rows.push([Math.round((now - t0) * 100) / 100, r4(v[0]), r4(v[1]), r4(a[0]), r4(a[1]), bytes.byteLength]);
};
await Bun.sleep(SECONDS * 1000);
ws.close();
ff.kill();
server.kill();
await Promise.all([ff.exited, server.exited]);

const trace = {
  description: `${mode}: ${SECONDS} s of a 720p30 H.264 + AAC stream over a loopback WebSocket, recorded ${new Date().toISOString().slice(0, 10)} on ${navigator.hardwareConcurrency} cores`,
  publisher: publisher.join(" ").replace(/127\.0\.0\.1:\d+/, "127.0.0.1:PORT"),
  columns: ["arrivalMs", "videoStart", "videoEnd", "audioStart", "audioEnd", "bytes"],
  rows,
};
const out = resolve(import.meta.dir, `${mode}.json`);
writeFileSync(
  out,
  `${JSON.stringify({ ...trace, rows: [] }, null, 1).replace('"rows": []', `"rows": [\n${rows.map((r) => JSON.stringify(r)).join(",\n")}\n]`)}\n`,
);
console.log(`${rows.length} fragments written to ${out}`);

/** Per track kind: [start, end) in seconds of the fragment's samples (tfdt + Σ durations). */
function trackSpans(
  bytes: Uint8Array,
  kinds: Map<number, { kind: string; timescale: number; defaultDuration: number }>,
): Map<string, [number, number]> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = (p: number) => String.fromCharCode(bytes[p + 4]!, bytes[p + 5]!, bytes[p + 6]!, bytes[p + 7]!);
  const out = new Map<string, [number, number]>();
  const children = (start: number, end: number, visit: (type: string, body: number, end: number) => void) => {
    for (let p = start; p + 8 <= end; ) {
      const size = dv.getUint32(p);
      if (size < 8 || p + size > end) return;
      visit(type(p), p + 8, p + size);
      p += size;
    }
  };
  children(0, bytes.byteLength, (t, body, end) => {
    if (t !== "moof") return;
    children(body, end, (t2, trafBody, trafEnd) => {
      if (t2 !== "traf") return;
      let track: { kind: string; timescale: number; defaultDuration: number } | undefined;
      let defaultDuration = 0;
      let base = 0;
      let sum = 0;
      children(trafBody, trafEnd, (t3, b, _e) => {
        const flags = dv.getUint32(b) & 0xffffff;
        if (t3 === "tfhd") {
          track = kinds.get(dv.getUint32(b + 4));
          defaultDuration = track?.defaultDuration ?? 0;
          let q = b + 8;
          if (flags & 0x1) q += 8;
          if (flags & 0x2) q += 4;
          if (flags & 0x8) defaultDuration = dv.getUint32(q);
        } else if (t3 === "tfdt") {
          base = bytes[b] === 1 ? Number(dv.getBigUint64(b + 4)) : dv.getUint32(b + 4);
        } else if (t3 === "trun") {
          const count = dv.getUint32(b + 4);
          let q = b + 8;
          if (flags & 0x1) q += 4;
          if (flags & 0x4) q += 4;
          const per = [0x100, 0x200, 0x400, 0x800].filter((f) => flags & f).length * 4;
          for (let i = 0; i < count; i++) {
            sum += flags & 0x100 ? dv.getUint32(q) : defaultDuration;
            q += per;
          }
        }
      });
      if (track) out.set(track.kind, [base / track.timescale, (base + sum) / track.timescale]);
    });
  });
  return out;
}
