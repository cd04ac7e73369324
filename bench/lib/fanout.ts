import { resolve } from "node:path";
import type { ClientConfig, ClientResult } from "../child/clients.ts";
import type { PublisherConfig } from "../child/publisher.ts";
import { BUN, clientsDone, cpuSeconds, lineReader, machineJiffies, rssKiB, spawnChild, startServer, stop } from "./processes.ts";
import { fragmentsFor, type Plan, TMP } from "./recording.ts";
import { median, percentile } from "./stats.ts";

/**
 * One fan-out run: a server (Sluice or the baseline) in its own process, `viewers` WebSocket viewers
 * spread over client processes, and a publisher replaying `seconds` of a recording at real time.
 * Measures the server's CPU time and RSS from /proc, and gets delivered bytes, losses and per-fragment
 * arrival times from the clients.
 */

export interface FanoutOptions {
  server: "sluice" | "baseline";
  viewers: number;
  /** Short name of the recording variant, e.g. "100ms". */
  variant: string;
  seconds: number;
  clientProcs: number;
  /** Measured loopback bandwidth, bytes per ms (for the write floor). */
  loopbackBytesPerMs: number;
  /** Called with the server's pid once the stream is flowing (e.g. to attach a profiler). */
  onStreaming?: (pid: number) => Promise<unknown>;
}

export interface FanoutResult {
  server: "sluice" | "baseline";
  variant: string;
  viewers: number;
  opened: number;
  fragments: number;
  medianFragmentBytes: number;
  deliveredBytes: number;
  deliveredMBps: number;
  cpuUser: number;
  cpuSys: number;
  cpuPerGB: number;
  rss0KiB: number;
  /** Server CPU (% of one core) with the viewers connected and no stream. */
  idleCpuPct: number;
  idlePerViewerKiB: number;
  streamPerViewerKiB: number;
  missing: number;
  corrupt: number;
  closedEarly: number;
  /** Added latency (publisher wrote the last byte → viewer received it), ms, over the fragments after WARMUP_S. */
  latency: { p50: number; p99: number; max: number };
  /** p99 over every fragment, including the first WARMUP_S (fresh connections, TCP buffers still growing). */
  latencyAllP99: number;
  /** Per fragment: when the first and the last viewer had it (ms after the publisher's write), median over fragments. */
  firstViewerP50: number;
  lastViewerP50: number;
  floor: { p50: number; p99: number };
  machineBusyPct: number;
  clientCpuSeconds: number;
}

/** Fragments in the first seconds of a run are left out of the steady-state latency figures. */
export const WARMUP_S = 2;

const split = (n: number, k: number) => Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0)).filter((x) => x > 0);

export async function runFanout(o: FanoutOptions, plan: Plan): Promise<FanoutResult> {
  const frags = fragmentsFor(plan, o.seconds);
  const tag = `${o.variant}-${o.server}-${o.viewers}`;
  const server = await startServer(o.server, [], `${tag}-server.log`);
  const clients: Array<{ proc: ReturnType<typeof spawnChild>; lines: ReturnType<typeof lineReader>; out: string }> = [];
  let publisher: ReturnType<typeof spawnChild> | undefined;
  try {
    await Bun.sleep(1000);
    const rss0 = rssKiB(server.pid);
    split(o.viewers, o.clientProcs).forEach((count, i) => {
      const out = resolve(TMP, `${tag}-clients${i}.json`);
      const cfg: ClientConfig = {
        url: server.wsUrl,
        count,
        mode: o.server,
        recording: plan.path,
        seconds: o.seconds,
        out,
        hardTimeoutMs: (o.seconds + 120) * 1000,
      };
      const proc = spawnChild([BUN, "bench/child/clients.ts", JSON.stringify(cfg)], {
        stdin: "pipe",
        stdout: "pipe",
        log: `${tag}-clients${i}.log`,
      });
      clients.push({ proc, lines: lineReader(proc), out });
    });
    const ready = await Promise.all(clients.map((c) => c.lines.next((l) => l.startsWith("ready"), 90_000, "clients ready")));
    const opened = ready.reduce((n, l) => n + Number(l.split(" ")[1]), 0);

    const idleFrom = { cpu: cpuSeconds(server.pid), at: performance.now() };
    await Bun.sleep(2000);
    const idle: number[] = [];
    for (let i = 0; i < 3; i++, await Bun.sleep(300)) idle.push(rssKiB(server.pid));
    const idleCpu = cpuSeconds(server.pid);
    const idleCpuPct =
      (100 * (idleCpu.user + idleCpu.sys - idleFrom.cpu.user - idleFrom.cpu.sys)) / ((performance.now() - idleFrom.at) / 1000);

    const cpu0 = cpuSeconds(server.pid);
    const m0 = machineJiffies();
    const pubOut = resolve(TMP, `${tag}-publisher.json`);
    const pcfg: PublisherConfig = { recording: plan.path, port: server.ingestPort, seconds: o.seconds, out: pubOut };
    publisher = spawnChild([BUN, "bench/child/publisher.ts", JSON.stringify(pcfg)], { log: `${tag}-publisher.log` });
    const profiling = o.onStreaming ? Bun.sleep(2000).then(() => o.onStreaming!(server.pid)) : undefined;
    const streaming: number[] = [];
    const deadline = Date.now() + (o.seconds + 30) * 1000;
    for (let i = 0; publisher.exitCode === null && Date.now() < deadline; i++) {
      await Bun.sleep(500);
      if (i >= 4) streaming.push(rssKiB(server.pid));
    }
    if ((await publisher.exited) !== 0) throw new Error(`publisher failed (see .bench-tmp/logs/${tag}-publisher.log)`);
    await profiling;
    // Every client says "done" when all its viewers have the last fragment; stragglers are told to stop.
    await clientsDone(clients);
    const cpu1 = cpuSeconds(server.pid);
    const m1 = machineJiffies();
    await Promise.all(clients.map((c) => Promise.race([c.proc.exited, Bun.sleep(10_000)])));

    const pub = (await Bun.file(pubOut).json()) as { start: number; written: Array<[number, number]> };
    const results = await Promise.all(clients.map(async (c) => (await Bun.file(c.out).json()) as ClientResult));
    const written = new Float64Array(frags.length).fill(Number.NaN);
    pub.written.forEach(([seq, t]) => (written[frags.findIndex((f) => f.seq === seq)] = t));
    const lat: number[] = [];
    const latAll: number[] = [];
    const first = new Float64Array(frags.length).fill(Infinity);
    const lastIn = new Float64Array(frags.length).fill(-Infinity);
    for (const r of results) {
      for (const arr of r.arrivals) {
        arr.forEach((t, i) => {
          if (t === null) return;
          const d = t - written[i]!;
          latAll.push(d);
          if (frags[i]!.time < WARMUP_S) return;
          lat.push(d);
          first[i] = Math.min(first[i]!, d);
          lastIn[i] = Math.max(lastIn[i]!, d);
        });
      }
    }
    const steady = frags.flatMap((f, i) => (f.time >= WARMUP_S && Number.isFinite(first[i]!) ? [i] : []));
    const floors = frags.map((f) => (f.length * o.viewers) / o.loopbackBytesPerMs);
    const delivered = results.reduce((n, r) => n + r.bytes, 0);
    const last = Math.max(...results.map((r) => r.lastArrival));
    const cpuUser = cpu1.user - cpu0.user;
    const cpuSys = cpu1.sys - cpu0.sys;
    return {
      server: o.server,
      variant: o.variant,
      viewers: o.viewers,
      opened,
      fragments: frags.length,
      medianFragmentBytes: median(frags.map((f) => f.length)),
      deliveredBytes: delivered,
      deliveredMBps: delivered / 1e6 / ((last - pub.start) / 1000),
      cpuUser,
      cpuSys,
      cpuPerGB: (cpuUser + cpuSys) / (delivered / 1e9),
      rss0KiB: rss0,
      idleCpuPct,
      idlePerViewerKiB: (median(idle) - rss0) / o.viewers,
      streamPerViewerKiB: (median(streaming) - rss0) / o.viewers,
      missing: results.reduce((n, r) => n + r.missing, 0) + (o.viewers - opened) * frags.length,
      corrupt: results.reduce((n, r) => n + r.corrupt, 0),
      closedEarly: results.reduce((n, r) => n + r.closedEarly, 0),
      latency: { p50: percentile(lat, 0.5), p99: percentile(lat, 0.99), max: percentile(lat, 1) },
      latencyAllP99: percentile(latAll, 0.99),
      firstViewerP50: median(steady.map((i) => first[i]!)),
      lastViewerP50: median(steady.map((i) => lastIn[i]!)),
      floor: { p50: percentile(floors, 0.5), p99: percentile(floors, 0.99) },
      machineBusyPct: (100 * (m1.busy - m0.busy)) / (m1.total - m0.total),
      clientCpuSeconds: results.reduce((n, r) => n + r.cpuSeconds, 0),
    };
  } finally {
    if (publisher) await stop(publisher);
    await Promise.all(clients.map((c) => stop(c.proc)));
    await stop(server.proc);
  }
}
