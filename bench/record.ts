import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { FileWriter } from "../src/record/file-writer.ts";
import type { ClientConfig, ClientResult } from "./child/clients.ts";
import type { PublisherConfig } from "./child/publisher.ts";
import { machineInfo } from "./lib/machine.ts";
import { BUN, clientsDone, cpuSeconds, lineReader, spawnChild, startServer, stop } from "./lib/processes.ts";
import { bitrateMbps, loadPlan, type Plan, RECIPES, TMP } from "./lib/recording.ts";

/**
 * Recording cost, measured in one run:
 * (a) write throughput of the recording writer (src/record/file-writer.ts, the code Sluice runs): the
 *     720p recording's fragments appended through the bounded queue as fast as it drains, ~256 MB, to
 *     a file on the bench's disk (page cache; no fsync, as Sluice does not fsync either);
 * (b) Sluice's CPU while relaying the same real-time publish to N WebSocket viewers, recording off and
 *     on, alternated (off, on, off, on) so machine noise hits both alike.
 * Usage: bun bench/record.ts [viewers=100] [seconds=20] [reps=2]
 */

const viewers = Number(process.argv[2] ?? 100);
const seconds = Number(process.argv[3] ?? 20);
const reps = Number(process.argv[4] ?? 2);

async function source(): Promise<Plan> {
  mkdirSync(TMP, { recursive: true });
  const path = resolve(TMP, "record-bench-720p-100ms.mp4"); // own copy: other benches make theirs concurrently
  if (!existsSync(path)) {
    const cmd = RECIPES.fmp4Small;
    const proc = Bun.spawn([cmd[0]!, "-hide_banner", "-loglevel", "error", "-y", ...cmd.slice(1)], {
      stdout: Bun.file(`${path}.part`),
      stderr: "inherit",
    });
    if ((await proc.exited) !== 0) throw new Error("ffmpeg failed making the source recording");
    renameSync(`${path}.part`, path);
  }
  return loadPlan(path);
}

async function writeThroughput(plan: Plan, totalBytes = 256 << 20): Promise<{ mbps: number; bytes: number; ms: number }> {
  const dir = mkdtempSync(join(TMP, "rec-write-"));
  let failed: string | undefined;
  const w = new FileWriter(
    32 << 20,
    (f) => (failed = f.message),
    () => undefined,
  );
  const init = plan.bytes.subarray(0, plan.initLength);
  const header = { format: "fmp4" as const, mime: "video/mp4", initBytes: init.byteLength, timescale: 90000, startMs: Date.now() };
  const t0 = performance.now();
  w.push({ kind: "open", path: join(dir, "w.mp4"), indexPath: join(dir, "w.idx"), init, header, bytes: init.byteLength });
  let written = init.byteLength;
  let offset = init.byteLength;
  while (written < totalBytes && !failed) {
    for (const f of plan.fragments) {
      const data = plan.bytes.subarray(f.offset, f.offset + f.length);
      while (!w.fits(data.byteLength)) await w.drained();
      w.push({ kind: "fragment", data, point: f.keyframe ? { offset, decodeTime: 0, wallclockMs: 0 } : undefined, bytes: data.byteLength });
      offset += data.byteLength;
      written += data.byteLength;
    }
  }
  w.push({ kind: "close", end: undefined, bytes: 0 });
  await w.drained();
  const ms = performance.now() - t0;
  rmSync(dir, { recursive: true, force: true });
  if (failed) throw new Error(`write failed: ${failed}`);
  return { mbps: written / 1e6 / (ms / 1000), bytes: written, ms };
}

interface RelayRun {
  record: boolean;
  cpuPct: number;
  delivered: number;
  missing: number;
  corrupt: number;
  recordedBytes: number;
  dropped: number;
}

async function relay(plan: Plan, record: boolean, run: number): Promise<RelayRun> {
  const dir = mkdtempSync(join(TMP, "rec-dir-"));
  const tag = `record-${record ? "on" : "off"}-${run}`;
  const server = await startServer("sluice", record ? ["--record", dir] : [], `${tag}-server.log`);
  const clients: Array<{ proc: ReturnType<typeof spawnChild>; lines: ReturnType<typeof lineReader>; out: string }> = [];
  try {
    for (const [i, count] of [Math.ceil(viewers / 2), Math.floor(viewers / 2)].entries()) {
      if (count === 0) continue;
      const out = resolve(TMP, `${tag}-clients${i}.json`);
      const cfg: ClientConfig = {
        url: server.wsUrl,
        count,
        mode: "sluice",
        recording: plan.path,
        seconds,
        out,
        hardTimeoutMs: (seconds + 120) * 1000,
      };
      const proc = spawnChild([BUN, "bench/child/clients.ts", JSON.stringify(cfg)], {
        stdin: "pipe",
        stdout: "pipe",
        log: `${tag}-clients${i}.log`,
      });
      clients.push({ proc, lines: lineReader(proc), out });
    }
    await Promise.all(clients.map((c) => c.lines.next((l) => l.startsWith("ready"), 90_000, "clients ready")));
    await Bun.sleep(1000);
    const cpu0 = cpuSeconds(server.pid);
    const t0 = performance.now();
    const pcfg: PublisherConfig = { recording: plan.path, port: server.ingestPort, seconds, out: resolve(TMP, `${tag}-publisher.json`) };
    const publisher = spawnChild([BUN, "bench/child/publisher.ts", JSON.stringify(pcfg)], { log: `${tag}-publisher.log` });
    if ((await publisher.exited) !== 0) throw new Error(`publisher failed (${tag})`);
    await clientsDone(clients);
    const cpu1 = cpuSeconds(server.pid);
    const wall = (performance.now() - t0) / 1000;
    const metrics = await (await fetch(`http://127.0.0.1:${server.httpPort}/metrics`)).text();
    const dropped = Number(/sluice_recording_dropped_fragments_total\{stream="live"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    await Promise.all(clients.map((c) => c.proc.exited));
    const results = await Promise.all(clients.map(async (c) => (await Bun.file(c.out).json()) as ClientResult));
    const live = join(dir, "live");
    const recordedBytes = existsSync(live)
      ? readdirSync(live)
          .filter((n) => n.endsWith(".mp4"))
          .reduce((n, f) => n + statSync(join(live, f)).size, 0)
      : 0;
    return {
      record,
      cpuPct: (100 * (cpu1.user + cpu1.sys - cpu0.user - cpu0.sys)) / wall,
      delivered: results.reduce((n, r) => n + r.bytes, 0),
      missing: results.reduce((n, r) => n + r.missing, 0),
      corrupt: results.reduce((n, r) => n + r.corrupt, 0),
      recordedBytes,
      dropped,
    };
  } finally {
    for (const c of clients) await stop(c.proc);
    await stop(server.proc);
    rmSync(dir, { recursive: true, force: true });
  }
}

const plan = await source();
const m = machineInfo();
console.log(`source: ${plan.path} (${bitrateMbps(plan).toFixed(2)} Mbit/s, ${plan.fragments.length} fragments)`);
const w = await writeThroughput(plan);
console.log(`write throughput: ${w.mbps.toFixed(0)} MB/s (${(w.bytes / 1e6).toFixed(0)} MB in ${(w.ms / 1000).toFixed(2)} s)`);
const runs: RelayRun[] = [];
for (let r = 0; r < reps; r++) {
  for (const record of [false, true]) {
    const x = await relay(plan, record, r);
    runs.push(x);
    console.log(
      `recording ${record ? "on " : "off"}: Sluice CPU ${x.cpuPct.toFixed(1)} % of a core, ${(x.delivered / 1e6).toFixed(0)} MB to ${viewers} viewers, missing ${x.missing}, corrupt ${x.corrupt}, recorded ${(x.recordedBytes / 1e6).toFixed(1)} MB, dropped ${x.dropped}`,
    );
  }
}
const mean = (on: boolean) => {
  const xs = runs.filter((r) => r.record === on).map((r) => r.cpuPct);
  return xs.reduce((a, b) => a + b, 0) / xs.length;
};
console.log(`\nmean CPU: off ${mean(false).toFixed(1)} %, on ${mean(true).toFixed(1)} % (${(mean(true) - mean(false)).toFixed(1)} points)`);
console.log(
  `command: bun bench/record.ts ${viewers} ${seconds} ${reps}; machine: ${m.cpuModel}, ${m.nproc} cores; ${new Date().toISOString()}`,
);
