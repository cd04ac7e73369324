/**
 * LL-HLS benchmark, Sluice in its own process fed by a real ffmpeg publisher (H.264 + AAC, prft):
 *   (a) latency of hls.js in low-latency mode in Debian's Chromium on loopback: `hls.latency` (live
 *       edge minus playhead) and end to end (now minus the EXT-X-PROGRAM-DATE-TIME of the frame shown,
 *       which Sluice takes from the publisher's prft), p50/p90 over the sampling window;
 *   (b) origin throughput with N concurrent players (a separate load-client process, keep-alive
 *       fetch): blocking playlist reloads and part requests served per second, counted from Sluice's
 *       own metrics, with Sluice's CPU and RSS.
 *   bun run bench/hls.ts [--players 1000] [--seconds 15] [--latency-seconds 20] [--fragment 100ms|frame]
 *                        [--out bench/results/hls.md]
 */

import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { launchBrowser, publisherArgs } from "../tests/browser/harness.ts";
import { runFfmpeg } from "../tests/helpers/ffmpeg.ts";
import { machineInfo } from "./lib/machine.ts";
import { BUN, cpuSeconds, killAll, ROOT, rssKiB, spawnChild, startServer, stop } from "./lib/processes.ts";
import { percentile } from "./lib/stats.ts";

const { values: opts } = parseArgs({
  options: {
    players: { type: "string", default: "1000" },
    seconds: { type: "string", default: "15" },
    "latency-seconds": { type: "string", default: "20" },
    /** The publisher's fragments: ~100 ms (`-frag_duration 100000`) or one per frame (`frag_every_frame`). */
    fragment: { type: "string", default: "100ms" },
    out: { type: "string", default: "bench/results/hls.md" },
  },
});
const PLAYERS = Number(opts.players);
const SECONDS = Number(opts.seconds);
const LATENCY_SECONDS = Number(opts["latency-seconds"]);
if (opts.fragment !== "100ms" && opts.fragment !== "frame") throw new Error("--fragment: 100ms or frame");
const FRAGMENT: "100ms" | "frame" = opts.fragment;
const HLS_JS = resolve(ROOT, "node_modules/hls.js/dist/hls.min.js");

const hlsCounts = async (port: number) => {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^sluice_hls_requests_total\{kind="(\w+)",status="(\d+)"\} (\d+)$/gm)) {
    out.set(`${m[1]} ${m[2]}`, (out.get(`${m[1]} ${m[2]}`) ?? 0) + Number(m[3]));
  }
  return out;
};

/** (a): hls.js in Chromium, sampled every 250 ms after it plays. */
async function latency(httpPort: number): Promise<{ latency: number[]; e2e: number[]; frames: number }> {
  const src = `http://127.0.0.1:${httpPort}/hls/live/index.m3u8`;
  const page = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      if (new URL(req.url).pathname === "/hls.min.js")
        return new Response(Bun.file(HLS_JS), { headers: { "content-type": "text/javascript" } });
      return new Response(
        `<!doctype html><video id="v" muted autoplay playsinline></video><script src="/hls.min.js"></script><script>
const v = document.getElementById("v");
const hls = new Hls({ lowLatencyMode: true, backBufferLength: 10 });
window.__hls = hls;
hls.loadSource(${JSON.stringify(src)});
hls.attachMedia(v);
v.play().catch(() => {});
</script>`,
        { headers: { "content-type": "text/html" } },
      );
    },
  });
  const browser = await launchBrowser();
  try {
    const tab = await browser.context.newPage();
    await tab.goto(`http://127.0.0.1:${page.port}/`);
    const probe = () =>
      tab.evaluate(() => {
        const hls = (window as unknown as { __hls: { latency: number; playingDate: Date | null } }).__hls;
        const v = document.getElementById("v") as HTMLVideoElement;
        const d = hls.playingDate;
        return {
          latency: hls.latency,
          e2e: d ? (Date.now() - d.getTime()) / 1000 : Number.NaN,
          frames: v.getVideoPlaybackQuality().totalVideoFrames,
        };
      });
    const end = Date.now() + 30_000;
    while ((await probe()).frames < 25) {
      if (Date.now() > end) throw new Error("hls.js did not start playing within 30 s");
      await Bun.sleep(200);
    }
    await Bun.sleep(3000); // let it settle at its live edge
    const lat: number[] = [];
    const e2e: number[] = [];
    const stopAt = Date.now() + LATENCY_SECONDS * 1000;
    while (Date.now() < stopAt) {
      const p = await probe();
      if (Number.isFinite(p.latency)) lat.push(p.latency);
      if (Number.isFinite(p.e2e)) e2e.push(p.e2e);
      await Bun.sleep(250);
    }
    return { latency: lat, e2e, frames: (await probe()).frames };
  } finally {
    await browser.close();
    page.stop(true);
  }
}

/** (b): the load client in its own process. */
async function load(httpPort: number, pid: number) {
  const before = await hlsCounts(httpPort);
  const cpu0 = cpuSeconds(pid);
  const config = JSON.stringify({ base: `http://127.0.0.1:${httpPort}/hls/live/`, count: PLAYERS, seconds: SECONDS });
  const child = spawnChild(["env", "BUN_CONFIG_MAX_HTTP_REQUESTS=4096", BUN, "bench/child/hls-players.ts", config], {
    stdout: "pipe",
    log: "hls-players.log",
  });
  let rss = 0;
  const sampler = setInterval(() => (rss = Math.max(rss, rssKiB(pid))), 500);
  const out = await new Response(child.stdout).text();
  await child.exited;
  clearInterval(sampler);
  const cpu1 = cpuSeconds(pid);
  const after = await hlsCounts(httpPort);
  const result = JSON.parse(out.trim().split("\n").pop()!) as {
    elapsed: number;
    playlists: number;
    parts: number;
    partBytes: number;
    errors: number;
    statuses: Record<string, number>;
    heldP50: number;
    heldP95: number;
    cpuSeconds: number;
  };
  const delta = (k: string) => (after.get(k) ?? 0) - (before.get(k) ?? 0);
  return {
    result,
    origin: { playlist200: delta("playlist 200"), part200: delta("part 200"), playlist503: delta("playlist 503") },
    sluiceCpu: cpu1.user + cpu1.sys - cpu0.user - cpu0.sys,
    rssMiB: rss / 1024,
  };
}

const m = machineInfo();
const date = new Date().toISOString().replace("T", " ").slice(0, 16);
const sluice = await startServer("sluice", [], "hls-sluice.log");
const ff = runFfmpeg(
  publisherArgs("h264", `tcp://127.0.0.1:${sluice.ingestPort}`, {
    prft: true,
    seconds: 600,
    size: "640x360",
    kbps: 1000,
    fragment: FRAGMENT,
  }),
);
try {
  const ready = Date.now() + 20_000;
  while ((await fetch(`http://127.0.0.1:${sluice.httpPort}/hls/live/index.m3u8`)).status !== 200) {
    if (Date.now() > ready) throw new Error("no LL-HLS playlist within 20 s");
    await Bun.sleep(100);
  }
  console.log(`(a) hls.js latency for ${LATENCY_SECONDS} s …`);
  const a = await latency(sluice.httpPort);
  console.log(`(b) ${PLAYERS} players for ${SECONDS} s …`);
  const b = await load(sluice.httpPort, sluice.pid);
  const f = (x: number, d = 3) => x.toFixed(d);
  const r = b.result;
  const md = `# LL-HLS: latency in hls.js and origin throughput

- Date: ${date} UTC; ${m.nproc} cores, ${m.cpuModel}; ${m.ffmpeg}; Bun ${m.bun}; Chromium (Debian), hls.js 1.7.4
- Command: \`bun run bench/hls.ts --players ${PLAYERS} --seconds ${SECONDS} --latency-seconds ${LATENCY_SECONDS} --fragment ${FRAGMENT}\` — Sluice (\`src/main.ts\`,
  default LL-HLS options: 200 ms part target) in its own process; ffmpeg publishes 640x360 25 fps H.264 (zerolatency, 1 s GOP,
  1 Mbit/s) + AAC, ${FRAGMENT === "frame" ? "a fragment per frame (`frag_every_frame`)" : "~100 ms fragments"} with \`-write_prft wallclock\`, over TCP on loopback. Shared 2-core machine: ffmpeg,
  Sluice, Chromium and the load client compete for the same cores.

## (a) Latency of hls.js (low-latency mode) in Chromium, loopback

| measure | p50 | p90 | samples |
| --- | --- | --- | --- |
| \`hls.latency\` (playlist live edge − playhead), s | ${f(percentile(a.latency, 0.5))} | ${f(percentile(a.latency, 0.9))} | ${a.latency.length} |
| end to end (now − PROGRAM-DATE-TIME of the frame shown, from the publisher's prft), s | ${f(percentile(a.e2e, 0.5))} | ${f(percentile(a.e2e, 0.9))} | ${a.e2e.length} |

## (b) ${PLAYERS} concurrent players against the origin (load client in a separate process)

Each player does blocking reloads for the next part (\`_HLS_msn\`/\`_HLS_part\`) and fetches every new part of the newest
segment, keep-alive \`fetch\` from one Bun process, for ${f(r.elapsed, 1)} s.

| measure | value |
| --- | --- |
| blocking playlist reloads served (200) per second | ${f(b.origin.playlist200 / r.elapsed, 0)} |
| parts served (200) per second | ${f(b.origin.part200 / r.elapsed, 0)} |
| part bytes per second | ${f(r.partBytes / r.elapsed / 1e6, 2)} MB/s |
| blocking reload held, p50 / p95 (ms, as the client saw it) | ${f(r.heldP50, 0)} / ${f(r.heldP95, 0)} |
| playlist 503 (wait timeouts) / client errors | ${b.origin.playlist503} / ${r.errors} |
| Sluice CPU (user + sys) over the run | ${f(b.sluiceCpu, 1)} s (${f((100 * b.sluiceCpu) / r.elapsed, 0)} % of one core) |
| Sluice peak RSS | ${f(b.rssMiB, 0)} MiB |
| load client CPU | ${f(r.cpuSeconds, 1)} s |

Statuses seen by the client: \`${JSON.stringify(r.statuses)}\`.
`;
  writeFileSync(resolve(ROOT, opts.out), md);
  console.log(md);
} finally {
  ff.stop();
  await ff.done;
  await stop(sluice.proc);
  await killAll();
}
