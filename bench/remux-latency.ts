/**
 * Remuxed publishers in the browser: RTMP and MPEG-TS publishers (remuxed by Sluice into one fMP4
 * fragment per video frame) side by side with ffmpeg's own fMP4 at ~100 ms fragments, in one run.
 *
 *   bun run bench/remux-latency.ts [--seconds 30] [--out bench/results/remux-latency.md] [--scenarios rtmp,ts,fmp4,fmp4frame]
 *
 * `BENCH_SLUICE_MAIN=<tree>/src/main.ts` measures another tree (e.g. a copy of the player before a
 * change), with `--label` naming it in the results.
 *
 * For each scenario ffmpeg encodes testsrc2 1280x720 at 30 fps + a sine (x264 `-preset veryfast
 * -tune zerolatency`, 2 s GOP, 3 Mbit/s; AAC) with `-re` and publishes it to one Sluice process: over
 * RTMP (`-f flv rtmp://…/live/NAME`), over TCP as MPEG-TS (`-f mpegts`), and over TCP as fMP4 with the
 * README's 100 ms command (`frag_keyframe -frag_duration 100000 -write_prft wallclock`), and as fMP4 with a
fragment per frame (`frag_every_frame`: one per video frame and one per audio frame). One Chromium
 * page per scenario and player target (automatic, and the page's `?latency=0.1`) settles for 5 s, then
 * the player is sampled every 250 ms for `--seconds`: median and p90 of the e2e latency (prft: for
 * remuxed streams the wallclock at which the frame's last byte reached Sluice; for ffmpeg's fMP4 the
 * time ffmpeg wrote the fragment), the median buffer latency (buffered end − currentTime), dropped
 * frames, stalls (`waiting` events while playing) and jumps. Also Sluice's own publish delay for the
 * stream (last byte of a chunk in → fragment handed to the fan-out, p50/p99 from /api/streams) and the
 * bytes per second received from the publisher vs sent per viewer (the per-fragment overhead).
 *
 * Results: a markdown file with machine, date and command at its top. Not run by the tests.
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { CHROMIUM, launchBrowser, median, openPlayerPage, sample, waitFor } from "../tests/browser/harness.ts";
import { runFfmpeg } from "../tests/helpers/ffmpeg.ts";
import { machineInfo } from "./lib/machine.ts";
import { freePort, killAll, ROOT, startServer, stop } from "./lib/processes.ts";
import { percentile } from "./lib/stats.ts";

const { values: opts } = parseArgs({
  options: {
    seconds: { type: "string", default: "30" },
    out: { type: "string", default: "bench/results/remux-latency.md" },
    scenarios: { type: "string", default: "rtmp,ts,fmp4,fmp4frame" },
    label: { type: "string", default: "" },
  },
});
const SECONDS = Number(opts.seconds);

const SOURCE = (seconds: number) => [
  "-hide_banner",
  "-loglevel",
  "error",
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
  "-c:v",
  "libx264",
  "-preset",
  "veryfast",
  "-tune",
  "zerolatency",
  "-pix_fmt",
  "yuv420p",
  "-g",
  "60",
  "-keyint_min",
  "60",
  "-sc_threshold",
  "0",
  "-b:v",
  "3M",
  "-c:a",
  "aac",
  "-b:a",
  "128k",
];

interface Scenario {
  id: string;
  name: string;
  stream: string;
  output: (ports: { rtmp: number; ingest: number }) => string[];
}

const ALL_SCENARIOS: Scenario[] = [
  { id: "rtmp", name: "RTMP → per-frame fMP4", stream: "rtmp", output: (p) => ["-f", "flv", `rtmp://127.0.0.1:${p.rtmp}/live/rtmp`] },
  { id: "ts", name: "MPEG-TS over TCP → per-frame fMP4", stream: "live", output: (p) => ["-f", "mpegts", `tcp://127.0.0.1:${p.ingest}`] },
  {
    id: "fmp4",
    name: "fMP4 from ffmpeg, ~100 ms fragments (prft)",
    stream: "live",
    output: (p) => [
      "-f",
      "mp4",
      "-movflags",
      "empty_moov+default_base_moof+frag_keyframe+skip_trailer",
      "-frag_duration",
      "100000",
      "-write_prft",
      "wallclock",
      `tcp://127.0.0.1:${p.ingest}`,
    ],
  },
  {
    id: "fmp4frame",
    name: "fMP4 from ffmpeg, a fragment per frame (prft)",
    stream: "live",
    output: (p) => [
      "-f",
      "mp4",
      "-movflags",
      "empty_moov+default_base_moof+frag_keyframe+frag_every_frame+skip_trailer",
      "-write_prft",
      "wallclock",
      `tcp://127.0.0.1:${p.ingest}`,
    ],
  },
];
const SCENARIOS = opts.scenarios.split(",").map((id) => {
  const s = ALL_SCENARIOS.find((x) => x.id === id.trim());
  if (!s) throw new Error(`unknown scenario ${id}: one of ${ALL_SCENARIOS.map((x) => x.id).join(", ")}`);
  return s;
});
/** Counts `waiting` events of the player's video once it has played (stalls), for the probe below. */
const COUNT_STALLS = `(() => {
  window.__stalls = 0;
  customElements.whenDefined("sluice-player").then(() => {
    const v = document.querySelector("sluice-player").video;
    let played = false;
    v.addEventListener("playing", () => { played = true; });
    v.addEventListener("waiting", () => { if (played && !v.seeking) window.__stalls++; });
  });
})();`;
const TARGETS = [
  { label: "automatic", query: "" },
  { label: "`?latency=0.1`", query: "?latency=0.1" },
];

interface StreamApi {
  live?: boolean;
  bytesIn?: number;
  bytesOut?: number;
  fragments?: number;
  viewers?: number;
  publishDelayMs?: { p50: number; p99: number };
  uptime?: number;
}

async function streamInfo(http: number, name: string): Promise<StreamApi> {
  const r = await fetch(`http://127.0.0.1:${http}/api/streams/${name}`).catch(() => undefined);
  return r?.ok ? ((await r.json()) as StreamApi) : {};
}

const m = machineInfo();
const rtmpPort = freePort();
const server = await startServer("sluice", ["--rtmp-port", String(rtmpPort)], "remux-latency-sluice.log");
const browser = await launchBrowser();
const rows: string[] = [];
try {
  for (const s of SCENARIOS) {
    const total = 10 + TARGETS.length * (SECONDS + 8);
    const ff = runFfmpeg([...SOURCE(total), ...s.output({ rtmp: rtmpPort, ingest: server.ingestPort })]);
    try {
      const until = Date.now() + 20_000;
      while (!(await streamInfo(server.httpPort, s.stream)).live) {
        if (Date.now() > until) throw new Error(`${s.name}: not live within 20 s`);
        await Bun.sleep(100);
      }
      await Bun.sleep(3000);
      for (const t of TARGETS) {
        const { page } = await openPlayerPage(browser.context, `http://127.0.0.1:${server.httpPort}/watch/${s.stream}${t.query}`, [
          COUNT_STALLS,
        ]);
        const stalls = () => page.evaluate(() => (window as unknown as { __stalls: number }).__stalls);
        await waitFor(page, (p) => p.state === "playing" && p.frames > 0, 15_000, "playing");
        await Bun.sleep(5000);
        const before = await streamInfo(server.httpPort, s.stream);
        const stallsBefore = await stalls();
        const trace = await sample(page, SECONDS * 1000);
        const stallCount = (await stalls()) - stallsBefore;
        const after = await streamInfo(server.httpPort, s.stream);
        await page.close();
        const e2e = trace.filter((p) => p.latencyKind === "e2e").map((p) => p.latency);
        const first = trace[0]!;
        const last = trace.at(-1)!;
        const secs = (after.uptime ?? 0) - (before.uptime ?? 0);
        const inRate = ((after.bytesIn ?? 0) - (before.bytesIn ?? 0)) / secs;
        const frags = ((after.fragments ?? 0) - (before.fragments ?? 0)) / secs;
        const d = after.publishDelayMs;
        const row = `| ${s.name} | ${t.label} | ${median(e2e).toFixed(3)} / ${percentile(e2e, 0.9).toFixed(3)} | ${median(trace.map((p) => p.bufferLength)).toFixed(3)} | ${median(trace.map((p) => p.target)).toFixed(2)} | ${last.dropped - first.dropped} / ${last.frames - first.frames} | ${stallCount} / ${last.jumps - first.jumps} | ${d ? `${d.p50.toFixed(2)} / ${d.p99.toFixed(2)}` : "–"} | ${frags.toFixed(1)} | ${((inRate * 8) / 1e6).toFixed(2)} |`;
        rows.push(row);
        console.log(row);
      }
    } finally {
      ff.stop();
      await ff.done;
      await Bun.sleep(1500);
    }
  }
} finally {
  await browser.close();
  await stop(server.proc);
  await killAll();
}

const cmd = `bun run bench/remux-latency.ts${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(" ")}` : ""}`;
const md = `# Remuxed publishers: browser latency and publish delay

- Date: ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC
- Machine: ${m.nproc} cores, ${m.cpuModel}; ${Bun.spawnSync([CHROMIUM, "--version"]).stdout.toString().trim()}; ${m.ffmpeg}; Bun ${m.bun}
- Player: ${opts.label || "this tree"}
- Command: \`${cmd}\` (${SECONDS} s of samples per row after 5 s to settle); loopback; one Sluice process
- Publisher: testsrc2 1280x720 at 30 fps, x264 veryfast zerolatency, 2 s GOP, 3 Mbit/s + AAC 128 kbit/s, \`ffmpeg -re\`

| publisher | player target | e2e latency, s: median / p90 | buffer latency, s (median) | target, s (median) | dropped / decoded frames | stalls / jumps to the edge | publish delay, ms: p50 / p99 | fragments/s | publisher Mbit/s in |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join("\n")}

e2e = the frame's display time − the prft wallclock of its fragment. For RTMP and MPEG-TS, Sluice writes
the prft from the wallclock at which the frame's last byte arrived, so e2e covers Sluice, the WebSocket
and the player; for ffmpeg's fMP4 the prft is the time ffmpeg wrote the fragment (one fragment, ~100 ms,
after its first frame was encoded). Publish delay = Sluice's time from a chunk's arrival to the fragment
it completes being handed to the fan-out.
`;
const out = resolve(ROOT, opts.out);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, md);
console.log(`\nwritten to ${opts.out}`);
