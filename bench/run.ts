/**
 * `bun run bench` (= `bun run bench/run.ts`): every benchmark, bounded, on loopback, then BENCHMARKS.md
 * at the repo root.
 *
 * Measures: parser throughput; loopback bandwidth (the write floor); fan-out of a replayed 720p
 * H.264 + AAC recording to 100–1000 WebSocket viewers, Sluice vs the node + ws baseline relay
 * (bench/child/baseline-relay.mjs) alternating: server CPU per delivered GB, RSS per viewer, added
 * latency, losses; join times with and without the GOP cache; a perf profile when the CPU target was
 * missed.
 * Order: recordings → parser throughput → loopback bandwidth → fan-out runs (Sluice and baseline
 * alternating) → join times → a perf profile when the CPU target was missed → report.
 *
 * Takes about 5 minutes on a 2-core machine (plus ffmpeg making the recordings once into
 * `.bench-tmp/`). `--quick` shortens every run (6 s of streaming instead of 20, fewer viewer counts,
 * fewer repetitions; for trying the suite out, its numbers are not the reference) — it still rewrites
 * BENCHMARKS.md.
 *
 * Results: BENCHMARKS.md (repo root; its header states the command, machine and date), raw figures in
 * `.bench-tmp/results.json`, per-process logs in `.bench-tmp/logs/`. `BENCH_SLUICE_MAIN=<path>`
 * benchmarks another Sluice entry point (e.g. a patched copy) under the same conditions.
 */

import { resolve } from "node:path";
import { type FanoutResult, runFanout, WARMUP_S } from "./lib/fanout.ts";
import { runJoin } from "./lib/join.ts";
import { measureLoopback } from "./lib/loopback.ts";
import { machineInfo } from "./lib/machine.ts";
import { measureParser } from "./lib/parser.ts";
import { killAll, ROOT } from "./lib/processes.ts";
import { type Profile, perfAvailable, perfProfile } from "./lib/profile.ts";
import { bitrateMbps, ensureRecordings, fragmentsFor, loadPlan, type Plan, RECIPES, TMP } from "./lib/recording.ts";
import { type Results, renderReport } from "./lib/report.ts";
import { median } from "./lib/stats.ts";

const QUICK = process.argv.includes("--quick");
const SECONDS = QUICK ? 6 : 20;
const CLIENT_PROCS = 4;
const VARIANTS: Array<{ variant: string; key: "fmp4Small" | "fmp4Large" | "fmp4Frame"; viewers: number[] }> = [
  { variant: "frame", key: "fmp4Frame", viewers: QUICK ? [500] : [500] },
  { variant: "100ms", key: "fmp4Small", viewers: QUICK ? [100, 1000] : [100, 500, 1000] },
  { variant: "1s", key: "fmp4Large", viewers: QUICK ? [1000] : [500, 1000] },
];
const started = Date.now();
const say = (msg: string) => console.error(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${msg}`);
const failures: string[] = [];
/** Runs one measurement; a failure is reported (and kept for BENCHMARKS.md) instead of ending the suite. */
async function attempt<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (e) {
    const msg = `${what}: ${e instanceof Error ? e.message : String(e)}`;
    say(`FAILED ${msg}`);
    failures.push(msg);
    await killAll();
    return undefined;
  }
}

async function main(): Promise<void> {
  const machine = machineInfo();
  say(`machine: ${machine.nproc} × ${machine.cpuModel}, Bun ${machine.bun}, node ${machine.node}, ulimit -n ${machine.ulimitN}`);
  say("recordings (ffmpeg, once; kept in .bench-tmp/)");
  const paths = await ensureRecordings();
  const plans: Record<keyof typeof paths, Plan> = {
    fmp4Small: await loadPlan(paths.fmp4Small),
    fmp4Large: await loadPlan(paths.fmp4Large),
    fmp4Frame: await loadPlan(paths.fmp4Frame),
    webm: await loadPlan(paths.webm),
  };

  say("parser throughput");
  const parsers = [plans.fmp4Small, plans.fmp4Large, plans.webm].map((p) => measureParser(p, QUICK ? 3 : 9));

  say("loopback bandwidth");
  const loopback = await measureLoopback(QUICK ? 256 << 20 : 1 << 30);
  say(`loopback ${(loopback.bytesPerMs / 1e6).toFixed(2)} GB/s`);

  const fanout: FanoutResult[] = [];
  for (const { variant, key, viewers } of VARIANTS) {
    for (const n of viewers) {
      for (const server of ["sluice", "baseline"] as const) {
        say(`fan-out ${variant} fragments, ${n} viewers, ${server}`);
        const r = await attempt(`fan-out ${variant}/${n}/${server}`, () =>
          runFanout(
            { server, viewers: n, variant, seconds: SECONDS, clientProcs: CLIENT_PROCS, loopbackBytesPerMs: loopback.bytesPerMs },
            plans[key],
          ),
        );
        if (!r) continue;
        say(
          `  ${r.cpuPerGB.toFixed(3)} cpu-s/GB, ${r.deliveredMBps.toFixed(0)} MB/s, p50/p99 ${r.latency.p50.toFixed(1)}/${r.latency.p99.toFixed(1)} ms, lost ${r.missing + r.corrupt}`,
        );
        fanout.push(r);
      }
    }
  }

  const joins = [];
  for (const cache of [true, false]) {
    say(`join times, GOP cache ${cache ? "on" : "off"}`);
    const j = await attempt(`join (cache ${cache})`, () => runJoin(plans.fmp4Small, cache, QUICK ? 30 : 100));
    if (j) joins.push(j);
  }

  let profile: Results["profile"];
  const missed = fanout.some((r) => {
    const b = fanout.find((x) => x.server === "baseline" && x.variant === r.variant && x.viewers === r.viewers);
    return r.server === "sluice" && r.viewers >= 500 && b !== undefined && r.cpuPerGB > b.cpuPerGB;
  });
  if (missed && perfAvailable()) {
    const P = { viewers: 500, variant: "100ms", seconds: 5 } as const;
    profile = { ...P };
    for (const server of ["sluice", "baseline"] as const) {
      say(`perf profile of ${server} (${P.viewers} viewers)`);
      let p: Profile | undefined;
      await attempt(`perf run ${server}`, () =>
        runFanout(
          {
            server,
            viewers: P.viewers,
            variant: `${P.variant}-perf`,
            seconds: 10,
            clientProcs: CLIENT_PROCS,
            loopbackBytesPerMs: loopback.bytesPerMs,
            onStreaming: async (pid) => (p = await perfProfile(pid, P.seconds, `perf-${server}`)),
          },
          plans.fmp4Small,
        ),
      );
      profile[server] = p;
    }
  }

  const results: Results = {
    date: `${new Date().toISOString().replace("T", " ").slice(0, 16)} UTC`,
    command:
      (process.env.BENCH_SLUICE_MAIN ? `BENCH_SLUICE_MAIN=${process.env.BENCH_SLUICE_MAIN} ` : "") +
      "bun run bench" +
      (QUICK ? " --quick" : ""),
    minutes: (Date.now() - started) / 60_000,
    machine,
    seconds: SECONDS,
    warmupSeconds: WARMUP_S,
    clientProcs: CLIENT_PROCS,
    recordings: VARIANTS.map(({ variant, key }) => ({
      variant,
      file: paths[key].split("/").pop()!,
      recipe: RECIPES[key].join(" "),
      mbps: bitrateMbps(plans[key]),
      fragments: fragmentsFor(plans[key], SECONDS).length,
      medianFragmentBytes: median(plans[key].fragments.map((f) => f.length)),
    })),
    loopback,
    parsers,
    fanout,
    joins,
    profile,
    failures,
  };
  await Bun.write(resolve(TMP, "results.json"), JSON.stringify(results, null, 1));
  await Bun.write(resolve(ROOT, "BENCHMARKS.md"), renderReport(results));
  say(`wrote BENCHMARKS.md (${results.minutes.toFixed(1)} min)`);
}

try {
  await main();
} finally {
  await killAll();
}
