/**
 * Soak test (not run in CI): Sluice as its own process, N viewers, a publisher that restarts every
 * minute, for M minutes. Samples the server's RSS and open file descriptors every 10 s and checks at
 * the end that every viewer is still receiving. Writes bench/soak-results.md.
 *
 *   bun run bench/soak.ts [--minutes 10] [--viewers 200]
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const arg = (name: string, def: number) => {
  const i = Bun.argv.indexOf(`--${name}`);
  return i > 0 ? Number(Bun.argv[i + 1]) : def;
};
const MINUTES = arg("minutes", 10);
const VIEWERS = arg("viewers", 200);
const ROOT = join(import.meta.dir, "..");
const command = `bun run bench/soak.ts --minutes ${MINUTES} --viewers ${VIEWERS}`;

const server = Bun.spawn(
  [
    process.execPath,
    "run",
    join(ROOT, "src/main.ts"),
    "--http-host",
    "127.0.0.1",
    "--http-port",
    "0",
    "--ingest-host",
    "127.0.0.1",
    "--ingest-port",
    "0",
    "--rtmp-port",
    "0",
    "--max-viewers-per-address",
    "100000",
  ],
  { stdout: "pipe", stderr: "inherit" },
);
let log = "";
void (async () => {
  const dec = new TextDecoder();
  // Keep only the head (the listening lines); the rest is read and dropped so the pipe never fills.
  for await (const chunk of server.stdout) if (log.length < 4096) log += dec.decode(chunk);
})();
while (!/http-listening/.test(log) || !/ingest-listening/.test(log)) await Bun.sleep(50);
const httpPort = Number(/http-listening address=127\.0\.0\.1:(\d+)/.exec(log)![1]);
const ingestPort = Number(/ingest-listening address=127\.0\.0\.1:(\d+)/.exec(log)![1]);

interface Viewer {
  ws: WebSocket;
  fragments: number;
  lastAt: number;
  sessions: number;
}
const viewers: Viewer[] = [];
for (let i = 0; i < VIEWERS; i++) {
  const v: Viewer = { ws: new WebSocket(`ws://127.0.0.1:${httpPort}/ws/live`), fragments: 0, lastAt: 0, sessions: 0 };
  v.ws.binaryType = "arraybuffer";
  v.ws.onmessage = (ev) => {
    if (typeof ev.data === "string") {
      if (ev.data.includes('"stream"')) v.sessions++;
    } else {
      v.fragments++;
      v.lastAt = performance.now();
    }
  };
  viewers.push(v);
}

const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pid}/status`, "utf8"))![1]) / 1024;
const fds = () => readdirSync(`/proc/${server.pid}/fd`).length;
const samples: Array<{ t: number; rssMiB: number; fds: number; fragments: number }> = [];
const t0 = performance.now();
let publisher: ReturnType<typeof Bun.spawn> | undefined;
const end = t0 + MINUTES * 60_000;
let restarts = 0;
const sampler = setInterval(() => {
  samples.push({
    t: Math.round((performance.now() - t0) / 1000),
    rssMiB: Math.round(rss() * 10) / 10,
    fds: fds(),
    fragments: viewers.reduce((n, v) => n + v.fragments, 0),
  });
  console.log(JSON.stringify(samples.at(-1)));
}, 10_000);
try {
  while (performance.now() < end - 5000) {
    const seconds = Math.min(58, Math.floor((end - performance.now()) / 1000) - 2);
    publisher = Bun.spawn(
      [
        "ffmpeg",
        "-hide_banner",
        "-loglevel",
        "error",
        "-re",
        "-f",
        "lavfi",
        "-i",
        `testsrc2=size=640x360:rate=25:duration=${seconds}`,
        "-re",
        "-f",
        "lavfi",
        "-i",
        `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-tune",
        "zerolatency",
        "-b:v",
        "1M",
        "-g",
        "50",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-b:a",
        "64k",
        "-f",
        "mp4",
        "-movflags",
        "empty_moov+default_base_moof+frag_keyframe+skip_trailer",
        "-frag_duration",
        "100000",
        `tcp://127.0.0.1:${ingestPort}`,
      ],
      { stdout: "ignore", stderr: "inherit" },
    );
    await publisher.exited;
    restarts++;
    await Bun.sleep(2000);
  }
} finally {
  clearInterval(sampler);
  publisher?.kill();
}
const now = performance.now();
const stillReceiving = viewers.filter(
  (v) => v.ws.readyState === WebSocket.OPEN && now - v.lastAt < 15_000 + 5000 && v.sessions >= restarts,
).length;
const first = samples[Math.min(5, samples.length - 1)]!;
const last = samples.at(-1)!;
const maxRss = Math.max(...samples.map((s) => s.rssMiB));
for (const v of viewers) v.ws.close();
server.kill("SIGTERM");
await server.exited;

const rows = samples
  .filter((_, i) => i % 6 === 5 || i === samples.length - 1)
  .map((s) => `| ${s.t} | ${s.rssMiB} | ${s.fds} | ${s.fragments} |`);
const report = `# Soak results

Command: \`${command}\` (Sluice as its own process; ${VIEWERS} WebSocket viewers in the soak process; ffmpeg
publishing 640x360 H.264 1 Mbit/s + AAC fMP4 over TCP, restarted every minute).
Date: ${new Date().toISOString()}. Machine: ${navigator.hardwareConcurrency} cores, Bun ${Bun.version}.

- Publisher sessions: ${restarts}; viewers still open and receiving at the end: **${stillReceiving} / ${VIEWERS}**
  (each saw a \`stream\` message for every publisher session).
- Server RSS after ~1 min: ${first.rssMiB} MiB; at the end: ${last.rssMiB} MiB; max: ${maxRss} MiB.
- Open file descriptors after ~1 min: ${first.fds}; at the end: ${last.fds}.

| t (s) | RSS (MiB) | open fds | fragments received (all viewers) |
| --- | --- | --- | --- |
${rows.join("\n")}
`;
writeFileSync(join(ROOT, "bench/soak-results.md"), report);
console.log(report);
process.exit(stillReceiving === VIEWERS ? 0 : 1);
