import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Subprocess } from "bun";
import { cpuSeconds, lineReader, ROOT, spawnChild, stop } from "./processes.ts";

/**
 * The real-network benchmark's hosts (bench/netns.ts): Linux network namespaces and veth pairs made
 * with Debian's iproute2, a `tbf` rate cap, and the user-space link emulator
 * (bench/child/link-emulator.py) for delay, jitter and loss, which this kernel lacks (`netem`).
 * Every address is in 198.18.0.0/15 (RFC 2544's benchmarking range); nothing is routed anywhere else.
 *
 *   root ns  ──m0 198.18.2.1/30 ─── m1 198.18.2.2/30──┐ (control: API polls from the orchestrator)
 *   srv ns (Sluice, publishers on 127.0.0.1) ──────────┤
 *       s0 198.18.0.1/24 ─ e0 [emu ns: link-emulator, a two-port wire, tbf on e1] e1 ─ v0 198.18.0.2/24   view ns (Chromium)
 *       s1 198.18.1.1/24 ─────────────── direct veth, kernel only ──────────────── l0 198.18.1.2/24   load ns (WebSocket load clients)
 *
 * Offloads (TSO/GSO/GRO, checksum) are off on the emulated path: frames must be MTU-sized and
 * carry real checksums to survive a copy through user space. The load path keeps the defaults.
 * `setUp` first removes leftovers of an earlier run with the same names; `tearDown` kills what
 * still runs inside the namespaces (by pid, from `ip netns pids`) and deletes them. Both are
 * synchronous so they can run from an `exit` handler.
 */

export interface Topology {
  srv: string;
  emu: string;
  view: string;
  load: string;
  /** Root end of the control link. */
  rootLink: string;
  /** Sluice's address as seen from the viewer namespace (through the emulator). */
  srvViaEmu: string;
  /** Sluice's address as seen from the load namespace (direct veth). */
  srvViaLoad: string;
  /** Sluice's address as seen from the root namespace (control link). */
  srvControl: string;
}

export interface LinkSpec {
  /** One-way delay in ms, applied in each direction. */
  delayMs: number;
  /** Uniform ± jitter in ms around the delay (no reordering). */
  jitterMs: number;
  /** Frame loss probability in each direction (0.01 = 1 %). */
  loss: number;
  /** `tbf` rate cap on the server → viewer direction in Mbit/s, or 0 for none. */
  capMbit: number;
}

const EMULATOR = resolve(ROOT, "bench/child/link-emulator.py");

/** Throws with what to install when a tool the benchmark needs is missing, or when not root. */
export function requireNetTools(): void {
  const missing = ["ip", "tc", "ethtool", "ping", "python3"].filter((t) => !Bun.which(t));
  const problems = missing.map(
    (t) => `${t} not found (apt-get install ${t === "ip" || t === "tc" ? "iproute2" : t === "ping" ? "iputils-ping" : t})`,
  );
  if (process.getuid?.() !== 0) problems.push("network namespaces need root");
  if (problems.length > 0) throw new Error(`the network benchmark cannot run:\n  - ${problems.join("\n  - ")}`);
}

export function topology(prefix = "slnb"): Topology {
  return {
    srv: `${prefix}-srv`,
    emu: `${prefix}-emu`,
    view: `${prefix}-view`,
    load: `${prefix}-load`,
    rootLink: `${prefix}-m0`,
    srvViaEmu: "198.18.0.1",
    srvViaLoad: "198.18.1.1",
    srvControl: "198.18.2.2",
  };
}

/** Runs a command; throws with its stderr when it fails (unless `allowFail`). */
function run(cmd: string[], allowFail = false): string {
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe", timeout: 15_000 });
  if (r.exitCode !== 0 && !allowFail) throw new Error(`${cmd.join(" ")} failed (${r.exitCode}): ${r.stderr.toString().trim()}`);
  return r.stdout.toString();
}

/** `cmd` run inside namespace `ns`. */
export const inNs = (ns: string, cmd: string[]): string[] => ["ip", "netns", "exec", ns, ...cmd];

const namespaces = (t: Topology) => [t.srv, t.emu, t.view, t.load];

export function setUp(t: Topology): void {
  tearDown(t);
  try {
    for (const ns of namespaces(t)) {
      run(["ip", "netns", "add", ns]);
      run(["ip", "-n", ns, "link", "set", "lo", "up"]);
      // No IPv6: no router solicitations or DAD chatter on the measured links.
      run(inNs(ns, ["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]));
    }
    const veth = (a: string, nsA: string, b: string, nsB: string) =>
      run(["ip", "link", "add", a, "netns", nsA, "type", "veth", "peer", "name", b, "netns", nsB]);
    veth("s0", t.srv, "e0", t.emu);
    veth("v0", t.view, "e1", t.emu);
    veth("s1", t.srv, "l0", t.load);
    run(["ip", "link", "add", t.rootLink, "type", "veth", "peer", "name", "m1", "netns", t.srv]);
    run(["ip", "addr", "add", "198.18.2.1/30", "dev", t.rootLink]);
    run(["ip", "link", "set", t.rootLink, "up"]);
    const addr = (ns: string, dev: string, cidr: string) => {
      run(["ip", "-n", ns, "addr", "add", cidr, "dev", dev]);
      run(["ip", "-n", ns, "link", "set", dev, "up"]);
    };
    addr(t.srv, "s0", "198.18.0.1/24");
    addr(t.view, "v0", "198.18.0.2/24");
    addr(t.srv, "s1", "198.18.1.1/24");
    addr(t.load, "l0", "198.18.1.2/24");
    addr(t.srv, "m1", "198.18.2.2/30");
    for (const dev of ["e0", "e1"]) {
      run(["ip", "-n", t.emu, "link", "set", dev, "promisc", "on", "up"]);
    }
    const offloadsOff = ["tso", "off", "gso", "off", "gro", "off", "tx", "off", "rx", "off", "sg", "off"];
    for (const [ns, dev] of [
      [t.srv, "s0"],
      [t.emu, "e0"],
      [t.emu, "e1"],
      [t.view, "v0"],
    ] as const) {
      run(inNs(ns, ["ethtool", "-K", dev, ...offloadsOff]));
    }
  } catch (e) {
    tearDown(t);
    throw e;
  }
}

/** Kills every process left in the namespaces (they are this benchmark's), deletes them and the root link. */
export function tearDown(t: Topology): void {
  const existing = new Set(
    run(["ip", "netns", "list"], true)
      .split("\n")
      .map((l) => l.split(" ")[0]!),
  );
  for (const ns of namespaces(t)) {
    if (!existing.has(ns)) continue;
    for (const pid of run(["ip", "netns", "pids", ns], true).split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {}
    }
  }
  if (existsSync(`/sys/class/net/${t.rootLink}`)) run(["ip", "link", "del", t.rootLink], true);
  for (const ns of namespaces(t)) if (existing.has(ns)) run(["ip", "netns", "del", ns], true);
}

/** Puts (capMbit > 0) or removes the `tbf` cap on the emulator's egress towards the viewer. */
export function setRateCap(t: Topology, capMbit: number): void {
  run(inNs(t.emu, ["tc", "qdisc", "del", "dev", "e1", "root"]), true);
  if (capMbit > 0) {
    // Bucket of 10 full frames; queue of ~100 ms at the capped rate (a small home-router buffer).
    const limitBytes = Math.max(30_000, Math.round((capMbit * 1e6 * 0.1) / 8));
    run(
      inNs(t.emu, [
        "tc",
        "qdisc",
        "add",
        "dev",
        "e1",
        "root",
        "tbf",
        "rate",
        `${capMbit}mbit`,
        "burst",
        "15140",
        "limit",
        String(limitBytes),
      ]),
    );
  }
}

/** tc's own statistics of the cap (sent, dropped, overlimits), or "" when none. */
export function rateCapStats(t: Topology): string {
  const out = run(inNs(t.emu, ["tc", "-s", "qdisc", "show", "dev", "e1"]), true);
  const m = /Sent (\d+) bytes (\d+) pkt \(dropped (\d+), overlimits (\d+)/.exec(out);
  return out.includes("tbf") && m ? `${m[2]} packets sent, ${m[3]} dropped, ${m[4]} overlimits` : "";
}

export interface Emulator {
  proc: Subprocess;
  /** Stops it; returns its counters per direction and the share of one core it used. */
  stop(): Promise<{ counts: Record<string, EmulatorCounts>; cpuPct: number }>;
}

export interface EmulatorCounts {
  frames: number;
  bytes: number;
  lost: number;
  overflow: number;
  capDrops: number;
  sendErrors: number;
  sent: number;
  /** How late frames left the emulator after they were due (its scheduling error), ms. */
  lateMs: { p50: number | null; p99: number | null; max: number | null };
}

/** Starts the emulator between e0 (server side) and e1 (viewer side) with `link`, at real-time priority. */
export async function startEmulator(t: Topology, link: LinkSpec, log: string): Promise<Emulator> {
  // SCHED_FIFO: the emulator sleeps in select() almost always, but when a frame is due it must not
  // wait behind Chromium, ffmpeg or the server for a time slice (that would add delay of its own).
  const cmd = [
    "chrt",
    "-f",
    "10",
    "python3",
    "-u",
    EMULATOR,
    "e0",
    "e1",
    "--delay",
    String(link.delayMs),
    "--jitter",
    String(link.jitterMs),
    "--loss",
    String(link.loss),
  ];
  const proc = spawnChild(inNs(t.emu, cmd), { stdout: "pipe", log });
  const lines = lineReader(proc);
  await lines.next((l) => l === "ready", 10_000, "link emulator ready");
  const t0 = performance.now();
  return {
    proc,
    async stop() {
      let cpuPct = Number.NaN;
      try {
        const c = cpuSeconds(proc.pid); // chrt and `ip netns exec` exec: the pid is python's
        cpuPct = (100 * (c.user + c.sys)) / ((performance.now() - t0) / 1000);
      } catch {}
      await stop(proc);
      const line = await lines.next((l) => l.startsWith("{"), 3000, "link emulator counters").catch(() => "{}");
      return { counts: JSON.parse(line) as Record<string, EmulatorCounts>, cpuPct };
    },
  };
}

/** Round trip viewer → server over the emulated path: `count` pings, 0.1 s apart. */
export function pingRtt(t: Topology, count = 20): { min: number; avg: number; max: number; loss: number } {
  const out = run(inNs(t.view, ["ping", "-q", "-n", "-i", "0.1", "-c", String(count), "-W", "2", t.srvViaEmu]), true);
  const rtt = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\//.exec(out);
  const loss = /([\d.]+)% packet loss/.exec(out);
  return {
    min: Number(rtt?.[1] ?? Number.NaN),
    avg: Number(rtt?.[2] ?? Number.NaN),
    max: Number(rtt?.[3] ?? Number.NaN),
    loss: Number(loss?.[1] ?? Number.NaN) / 100,
  };
}
