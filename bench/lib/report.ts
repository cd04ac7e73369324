import type { FanoutResult } from "./fanout.ts";
import type { JoinResult } from "./join.ts";
import type { MachineInfo } from "./machine.ts";
import type { ParserResult } from "./parser.ts";
import type { Profile } from "./profile.ts";
import { fmt, ratio, table } from "./stats.ts";

/** Everything one `bun run bench` measured; rendered into BENCHMARKS.md by `renderReport`. */
export interface Results {
  date: string;
  command: string;
  minutes: number;
  machine: MachineInfo;
  seconds: number;
  warmupSeconds: number;
  clientProcs: number;
  recordings: Array<{ variant: string; file: string; recipe: string; mbps: number; fragments: number; medianFragmentBytes: number }>;
  loopback: { bytesPerMs: number; runsGBps: number[] };
  parsers: ParserResult[];
  fanout: FanoutResult[];
  joins: JoinResult[];
  profile?: { viewers: number; variant: string; seconds: number; sluice?: Profile; baseline?: Profile };
  /** Measurements that failed (the rest of the suite still ran). */
  failures: string[];
}

const ok = (met: boolean) => (met ? "met" : "**missed**");
const cpuMsPerFragment = (r: FanoutResult) => r.cpuPerGB * ((r.medianFragmentBytes * r.viewers) / 1e9) * 1000;

export function renderReport(R: Results): string {
  const base = (r: FanoutResult) => R.fanout.find((b) => b.server === "baseline" && b.variant === r.variant && b.viewers === r.viewers);
  const sluice = R.fanout.filter((r) => r.server === "sluice");
  const m = R.machine;
  const out: string[] = [];
  out.push(`# Sluice benchmarks

Command (repo root): \`${R.command}\` — runs \`bench/run.ts\`; took ${fmt(R.minutes, 1)} min on ${R.date}.

Machine: ${m.nproc} CPUs (${m.cpuModel}), ${fmt(m.memoryGiB, 1)} GiB RAM, Linux ${m.kernel}; Bun ${m.bun}, node ${m.node}, ws ${m.ws}, ${m.ffmpeg};
\`ulimit -n\` ${m.ulimitN} (servers and clients run under \`ulimit -n ${m.ulimitChildren}\`). Loopback only (127.0.0.1). Everything below comes from this one run.`);

  if (R.failures.length) out.push(`**Failed runs** (missing from the tables below):\n\n${R.failures.map((f) => `- ${f}`).join("\n")}`);

  // ---- targets
  const rows: string[][] = [];
  for (const r of sluice.filter((r) => r.viewers >= 500)) {
    const b = base(r);
    if (!b) continue;
    rows.push([
      `server CPU per delivered GB ≤ baseline (${r.variant} fragments, ${r.viewers} viewers)`,
      `${fmt(r.cpuPerGB, 2)} vs ${fmt(b.cpuPerGB, 2)} cpu-s/GB (${ratio(r.cpuPerGB, b.cpuPerGB)})`,
      ok(r.cpuPerGB <= b.cpuPerGB),
    ]);
  }
  for (const r of sluice.filter((r) => r.viewers <= 500)) {
    const b = base(r);
    if (!b) continue;
    rows.push([
      `p99 added latency < baseline (${r.variant}, ${r.viewers} viewers)`,
      `${fmt(r.latency.p99)} vs ${fmt(b.latency.p99)} ms`,
      ok(r.latency.p99 < b.latency.p99),
    ]);
    rows.push([
      `p99 added latency ≤ write floor + 2 ms (${r.variant}, ${r.viewers} viewers)`,
      `${fmt(r.latency.p99)} ms vs floor ${fmt(r.floor.p99)} + 2 ms`,
      ok(r.latency.p99 <= r.floor.p99 + 2),
    ]);
  }
  const cached = R.joins.find((j) => j.cache);
  if (cached) {
    rows.push([
      "join time with GOP cache, p99 < 50 ms",
      `connect → keyframe ${fmt(cached.connectToKeyframe.p99)} ms (p50 ${fmt(cached.connectToKeyframe.p50)}); open → keyframe ${fmt(cached.openToKeyframe.p99)} ms`,
      ok(cached.connectToKeyframe.p99 < 50 && cached.failed === 0),
    ]);
  }
  for (const p of R.parsers)
    rows.push([`parser ≥ 1 GB/s (${p.format}, ${p.recording})`, `${fmt(p.parseMBps, 0)} MB/s`, ok(p.parseMBps >= 1000)]);
  const idle = sluice.filter((r) => r.viewers === Math.max(...sluice.map((s) => s.viewers)))[0];
  if (idle)
    rows.push([
      `idle viewer memory ≤ 20 KB (${idle.viewers} idle viewers, no stream)`,
      `${fmt(idle.idlePerViewerKiB)} KiB per viewer`,
      ok(idle.idlePerViewerKiB <= 20),
    ]);
  const lost = R.fanout.reduce((n, r) => n + r.missing + r.corrupt, 0);
  rows.push([
    "no fragment lost, altered or reordered (every run, both servers)",
    `${lost} bad of ${R.fanout.reduce((n, r) => n + r.fragments * r.viewers, 0)} deliveries`,
    ok(lost === 0),
  ]);
  out.push(`## Targets (reported, not asserted)\n\n${table(["target", "measured", "status"], rows)}`);
  out.push(whereTheCostIs(R, sluice, base));

  // ---- 1. fan-out
  out.push(`## 1. Fan-out: Sluice vs the baseline relay

Same recording, same client processes, same run. Recordings (made by ffmpeg at bench time in \`.bench-tmp/\`), replayed for ${R.seconds} s at real time (paced by the fragments' decode times) to the ingest TCP port:

${table(
  ["variant", "file", "bitrate", "fragments", "median fragment"],
  R.recordings.map((r) => [
    r.variant,
    `\`${r.file}\``,
    `${fmt(r.mbps, 2)} Mbit/s`,
    String(r.fragments),
    `${fmt(r.medianFragmentBytes / 1000, 0)} KB`,
  ]),
)}

Viewers are spread over ${R.clientProcs} Bun client processes. Sluice runs as \`bun run src/main.ts\`, the baseline as \`node bench/child/baseline-relay.mjs\` (node + \`net\` + \`ws\`, every TCP chunk sent as is to every client); each is its own process, so CPU (utime+stime from /proc/<pid>/stat, over the streaming window) and RSS (VmRSS) are the server's alone. RSS per viewer = (RSS with N viewers − RSS with none) ÷ N, idle (connected, no stream) and while streaming (median of samples); at 100 viewers it is dominated by fixed costs (heap growth, fragment copies, the GOP cache), so read it at 1000. "idle CPU" = server CPU with the N viewers connected and no stream (timers, pings), in % of one core. "machine busy" = all CPUs, all processes, during streaming. "lost" counts fragments a viewer never received plus messages whose bytes/order differ from the recording (Sluice: mfhd sequence numbers consecutive and bytes equal; baseline: byte stream equal to the recording).

${table(
  [
    "fragments",
    "viewers",
    "server",
    "delivered MB/s",
    "server CPU s (user + sys)",
    "CPU s per delivered GB",
    "idle CPU",
    "RSS/viewer idle KiB",
    "RSS/viewer streaming KiB",
    "lost",
    "machine busy",
  ],
  R.fanout.map((r) => [
    r.variant,
    String(r.viewers),
    r.server,
    fmt(r.deliveredMBps, 0),
    `${fmt(r.cpuUser + r.cpuSys, 2)} (${fmt(r.cpuUser, 2)} + ${fmt(r.cpuSys, 2)})`,
    fmt(r.cpuPerGB, 3),
    `${fmt(Math.max(0, r.idleCpuPct), 1)} %`,
    fmt(r.idlePerViewerKiB),
    fmt(r.streamPerViewerKiB),
    String(r.missing + r.corrupt),
    `${fmt(r.machineBusyPct, 0)} %`,
  ]),
)}

Sluice ÷ baseline (below 1 = Sluice better, except delivered MB/s where 1 = both delivered everything):

${table(
  ["fragments", "viewers", "delivered MB/s", "CPU per GB", "user CPU", "system CPU", "RSS/viewer streaming", "p50 latency", "p99 latency"],
  sluice.flatMap((r) => {
    const b = base(r);
    return b
      ? [
          [
            r.variant,
            String(r.viewers),
            ratio(r.deliveredMBps, b.deliveredMBps),
            ratio(r.cpuPerGB, b.cpuPerGB),
            ratio(r.cpuUser, b.cpuUser),
            ratio(r.cpuSys, b.cpuSys),
            ratio(r.streamPerViewerKiB, b.streamPerViewerKiB),
            ratio(r.latency.p50, b.latency.p50),
            ratio(r.latency.p99, b.latency.p99),
          ],
        ]
      : [];
  }),
)}`);

  // ---- 2. latency
  out.push(`## 2. Added latency

From the publisher process writing a fragment's last byte to a viewer receiving it (Sluice: the fragment's message; baseline: the chunk holding its last byte), both stamped with \`performance.timeOrigin + performance.now()\` (same machine clock, µs resolution), matched by mfhd sequence number; percentiles over every (fragment, viewer) pair, leaving out the fragments of the first ${R.warmupSeconds} s (fresh connections, TCP buffers still growing; the p99 including them is shown). Write floor = fragment size × N ÷ loopback bandwidth (the time just to push one fragment to every viewer through loopback), to compare with "last viewer" (per fragment, the delay until the last of the N viewers had it; "first viewer" likewise: the path without fan-out), with loopback bandwidth measured in this run: ${fmt(R.loopback.bytesPerMs / 1e6, 2)} GB/s (median of ${R.loopback.runsGBps.map((g) => fmt(g, 2)).join(", ")} GB/s; one Bun TCP pair, 1 GiB each). "CPU per fragment" = server CPU per delivered GB × bytes of one median fragment to all N viewers: the fan-out of one fragment runs on one thread, so the last viewer cannot get it sooner.

${table(
  [
    "fragments",
    "viewers",
    "server",
    "p50 ms",
    "p99 ms",
    "p99 incl. warm-up",
    "first viewer p50",
    "last viewer p50",
    "write floor p50 / p99 ms",
    "p99 − floor p99",
    "CPU per fragment ms",
  ],
  R.fanout.map((r) => [
    r.variant,
    String(r.viewers),
    r.server,
    fmt(r.latency.p50),
    fmt(r.latency.p99),
    fmt(r.latencyAllP99),
    fmt(r.firstViewerP50),
    fmt(r.lastViewerP50),
    `${fmt(r.floor.p50)} / ${fmt(r.floor.p99)}`,
    fmt(r.latency.p99 - r.floor.p99),
    fmt(cpuMsPerFragment(r)),
  ]),
)}

${tradeOff(R)}`);

  // ---- 3. join
  out.push(`## 3. Join time

${cached ? cached.joins : 100} viewers join one by one (every 103 ms, so they sample every phase of the 2 s GOP) while the ${R.recordings[0]?.variant} stream is live (a Sluice process of its own, no other viewers); each stamps \`new WebSocket()\`, the \`open\` event and the first keyframe fragment. Sluice sends \`stream\` + init + GOP from its \`open\` handler, so with the cache the keyframe arrives right behind the handshake.

${table(
  ["GOP cache", "joins", "failed", "connect → keyframe p50 ms", "p99 ms", "open → keyframe p50 / p99 ms", "connect → open p50 / p99 ms"],
  R.joins.map((j) => [
    j.cache ? "on (default 8 MiB)" : "off (`--gop-cache-bytes 0`)",
    String(j.joins),
    String(j.failed),
    fmt(j.connectToKeyframe.p50),
    fmt(j.connectToKeyframe.p99),
    `${fmt(j.openToKeyframe.p50)} / ${fmt(j.openToKeyframe.p99)}`,
    `${fmt(j.connectToOpen.p50)} / ${fmt(j.connectToOpen.p99)}`,
  ]),
)}`);

  // ---- 4. parsers
  out.push(`## 4. Parser throughput\n\n${renderParsers(R.parsers)}`);

  // ---- profile
  if (R.profile) {
    const P = R.profile;
    const part = (name: string, p?: Profile) =>
      p
        ? `**${name}** — by binary: ${p.byDso.map((d) => `${d.dso} ${fmt(d.pct)} %`).join(", ")}\n\n${table(
            ["% samples", "binary", "symbol"],
            p.top.map((t) => [fmt(t.pct), t.dso, `\`${t.symbol}\``]),
          )}`
        : `**${name}**: no profile (perf unavailable)`;
    out.push(`## Where the server CPU goes (perf)

\`perf record -F 499 -p <server pid>\` for ${P.seconds} s in the middle of an extra ${P.variant}-fragment run with ${P.viewers} viewers (not one of the measured runs above), \`perf report --no-children --sort dso,sym\`:

${part("Sluice (bun)", P.sluice)}

${part("Baseline (node + ws)", P.baseline)}`);
  }

  out.push(`## Method notes

- Recipes: ${R.recordings.map((r) => `${r.variant}: \`${r.recipe}\``).join("; ")}.
- Each fan-out run: start the server, wait 1 s, read RSS; open the viewers (batches of 50), wait 2 s, read idle RSS; start the publisher process and read CPU; stream ${R.seconds} s; read CPU again when every client has reported all fragments. Runs are strictly sequential, Sluice and baseline alternate per viewer count.
- One run per configuration (to stay under 10 minutes): CPU and RSS are totals over ${R.seconds} s of streaming, latency percentiles are over ${R.fanout[0] ? `${R.fanout[0].fragments} fragments × N viewers` : "all fragments × viewers"}, join percentiles over the joins, parser figures are medians of repetitions. Expect a few % run-to-run noise in CPU and more in latency tails (the clients share the ${m.nproc} CPUs with the server: see "machine busy").
- Raw results: \`.bench-tmp/results.json\`; per-process logs: \`.bench-tmp/logs/\`. To compare a patched Sluice under the same conditions, point \`BENCH_SLUICE_MAIN\` at its \`main.ts\` (the command line above then shows it).
`);
  return out.join("\n\n");
}

/** Section 4 of BENCHMARKS.md without its heading (also printed by `bun run bench/parser-throughput.ts`). */
export function renderParsers(parsers: ParserResult[]): string {
  return `Each recording fed in 64 KiB chunks to a fresh push parser (\`createParser(format)\` from \`src/container\`), in this (Bun) process; references over the same chunks: one copy of every byte into a preallocated buffer the size of the recording (memcpy, the physical limit) and \`Uint8Array.slice\` of each chunk (allocation + copy). Median of ${parsers[0]?.parseRunsMBps.length ?? 0} repetitions of 5 passes each, after 3 warm-up repetitions.

${table(
  ["recording", "format", "median fragment", "parser MB/s", "copy MB/s", "slice MB/s", "parser ÷ copy", "parser runs MB/s (min – max)"],
  parsers.map((p) => [
    `\`${p.recording}\``,
    p.format,
    `${fmt(p.medianFragmentBytes / 1000, 0)} KB`,
    fmt(p.parseMBps, 0),
    fmt(p.copyMBps, 0),
    fmt(p.sliceMBps, 0),
    ratio(p.parseMBps, p.copyMBps),
    `${fmt(Math.min(...p.parseRunsMBps), 0)} – ${fmt(Math.max(...p.parseRunsMBps), 0)}`,
  ]),
)}`;
}

function tradeOff(R: Results): string {
  const [small, large] = R.recordings;
  if (!small || !large) return "";
  const pick = (server: string, variant: string) =>
    R.fanout.filter((r) => r.server === server && r.variant === variant && r.viewers >= 500);
  const cpu = (server: string, variant: string) =>
    pick(server, variant)
      .map((r) => fmt(r.cpuPerGB, 2))
      .join(" / ");
  const last = (server: string, variant: string) =>
    pick(server, variant)
      .map((r) => fmt(r.lastViewerP50, 0))
      .join(" / ");
  const ns = pick("sluice", large.variant)
    .map((r) => r.viewers)
    .join(" / ");
  return `Fragment size trade-off (${ns} viewers): with ~${fmt(large.medianFragmentBytes / 1000, 0)} KB fragments instead of ~${fmt(small.medianFragmentBytes / 1000, 0)} KB, CPU per GB drops from ${cpu("sluice", small.variant)} to ${cpu("sluice", large.variant)} for Sluice (baseline: ${cpu("baseline", small.variant)} → ${cpu("baseline", large.variant)}), because per-message costs (syscalls, frames, wake-ups) are paid ten times less often. The price is latency: the encoder can only emit a fragment once its ${large.variant} of media is complete, so viewers are that much further behind, and pushing one fragment to everyone takes longer (last viewer p50 ${last("sluice", small.variant)} → ${last("sluice", large.variant)} ms for Sluice). The baseline forwards TCP chunks (≤ 64 KiB) as they arrive, so the last byte of a large fragment reaches even its first viewer only after the earlier chunks went to everyone: hence its large "first viewer" delay with ${large.variant} fragments.`;
}

function sluiceClientCpu(R: Results): string {
  const r = R.fanout.find((x) => x.server === "sluice" && x.viewers === 100) ?? R.fanout[0];
  return r
    ? `${fmt(r.clientCpuSeconds, 1)} cpu-s for ${r.viewers} viewers over ${R.seconds} s vs the server's ${fmt(r.cpuUser + r.cpuSys, 1)}`
    : "";
}

function whereTheCostIs(R: Results, sluice: FanoutResult[], base: (r: FanoutResult) => FanoutResult | undefined): string {
  const notes: string[] = [];
  const cpuMiss = sluice.filter((r) => r.viewers >= 500 && base(r) && r.cpuPerGB > base(r)!.cpuPerGB);
  if (cpuMiss.length) {
    const r = cpuMiss.reduce((a, b) => (b.viewers > a.viewers ? b : a));
    const b = base(r)!;
    const memmove = R.profile?.sluice?.userCopyPct;
    const bMemmove = R.profile?.baseline?.userCopyPct;
    notes.push(
      `- **CPU per GB**: the difference is user time, not the kernel: at ${r.viewers} viewers (${r.variant}) Sluice used ${fmt(r.cpuUser, 2)} s user + ${fmt(r.cpuSys, 2)} s system, the baseline ${fmt(b.cpuUser, 2)} s + ${fmt(b.cpuSys, 2)} s.` +
        (memmove !== undefined
          ? ` perf puts ${fmt(memmove)} % of Sluice's samples in user-space memmove (baseline: ${fmt(bMemmove ?? 0)} %): \`server.publish\` → uWebSockets frames and copies each message into every subscriber's send buffer before writing it (its zero-copy \`writev\` path for messages ≥ 16 KiB is skipped for sockets subscribed to a topic), while \`ws\` hands the caller's buffer to \`writev\` (one kernel copy, no user-space copy). Larger fragments amortise per-message costs (see the 1 s rows) but not the per-byte copy.`
          : ""),
    );
  }
  const latMiss = sluice.filter(
    (r) => r.viewers <= 500 && base(r) && (r.latency.p99 >= base(r)!.latency.p99 || r.latency.p99 > r.floor.p99 + 2),
  );
  if (latMiss.length) {
    const list = (f: (r: FanoutResult, b: FanoutResult) => string) => latMiss.map((r) => f(r, base(r)!)).join(" / ");
    notes.push(
      `- **Latency** (${latMiss.map((r) => `${r.variant}, ${r.viewers} viewers`).join(" / ")}): p99 ${list((r) => fmt(r.latency.p99))} ms vs baseline ${list((_, b) => fmt(b.latency.p99))} ms and write floor + 2 ms ${list((r) => fmt(r.floor.p99 + 2))} ms. ` +
        `Per fragment (p50 over fragments), the first viewer has it after ${list((r) => fmt(r.firstViewerP50))} ms: the relay path itself (parse, publish, one loopback hop) is short. ` +
        `The last viewer has it after ${list((r) => fmt(r.lastViewerP50))} ms, which tracks the server's CPU time per fragment fan-out, ${list((r) => fmt(cpuMsPerFragment(r)))} ms (baseline ${list((_, b) => fmt(cpuMsPerFragment(b)))} ms): one fragment is written to every viewer synchronously on one thread, ${cpuMiss.length ? "and the per-subscriber copy above makes that slower than the baseline" : "so the server's CPU per fragment bounds the spread"}. ` +
        `Neither server gets near the write floor because the receivers need CPU too: ${R.machine.nproc} CPUs are shared by the server, the publisher and ${R.clientProcs} client processes (${sluiceClientCpu(R)}).`,
    );
  }
  return notes.length ? `Where a target is missed, the cost is here:\n\n${notes.join("\n")}` : "";
}
