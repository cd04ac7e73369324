import { mkdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Subprocess } from "bun";
import { TMP } from "./recording.ts";

/**
 * Child processes of the benchmark: the server under test (Sluice or the baseline relay), publishers
 * and client processes. Every child is tracked and killed by `killAll` (called from `finally` blocks
 * and on SIGINT/SIGTERM), and the servers' CPU time and RSS are read from /proc.
 */

export const ROOT = resolve(import.meta.dir, "../..");
export const BUN = process.execPath;
const LOGS = resolve(TMP, "logs");
/** Raise the soft descriptor limit (1000 viewers need > 1024 fds) before exec'ing the real command. */
const FD_LIMIT = 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"';

/** Sluice's entry point; BENCH_SLUICE_MAIN=<path> benchmarks another tree (e.g. a patched copy) instead. */
const SLUICE_MAIN = process.env.BENCH_SLUICE_MAIN || "src/main.ts";

const live = new Set<Subprocess>();

export function spawnChild(
  cmd: string[],
  opts: { log?: string; stdin?: "pipe" | "ignore"; stdout?: "pipe" } = {},
): Subprocess<"pipe" | "ignore", "pipe", "inherit"> {
  mkdirSync(LOGS, { recursive: true });
  const logFile = opts.log ? Bun.file(resolve(LOGS, opts.log)) : "ignore";
  const proc = Bun.spawn(["bash", "-c", FD_LIMIT, "bash", ...cmd], {
    cwd: ROOT,
    stdin: opts.stdin ?? "ignore",
    stdout: opts.stdout ?? logFile,
    stderr: logFile,
  }) as unknown as Subprocess<"pipe" | "ignore", "pipe", "inherit">;
  live.add(proc);
  proc.exited.then(() => live.delete(proc));
  return proc;
}

/** Kills one child (SIGTERM, then SIGKILL after `graceMs`) and waits for it. */
export async function stop(proc: Subprocess, graceMs = 2000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
  await proc.exited;
  clearTimeout(timer);
}

export async function killAll(): Promise<void> {
  await Promise.all([...live].map((p) => stop(p)));
}

for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    for (const p of live) p.kill("SIGKILL");
    process.exit(130);
  });
}

/** A free loopback port (bound, read, released). */
export function freePort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

/** User and system CPU seconds of a process so far (/proc/<pid>/stat, clock ticks of 10 ms). */
export function cpuSeconds(pid: number): { user: number; sys: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: Number(f[11]) / 100, sys: Number(f[12]) / 100 };
}

/** Resident set size in KiB (/proc/<pid>/status VmRSS). */
export function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : Number.NaN;
}

/** Busy and total jiffies of the whole machine (/proc/stat), to tell whether a run saturated the CPUs. */
export function machineJiffies(): { busy: number; total: number } {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3]! - f[4]!, total };
}

export interface ServerUnderTest {
  kind: "sluice" | "baseline";
  pid: number;
  httpPort: number;
  ingestPort: number;
  wsUrl: string;
  proc: Subprocess;
}

/** Starts Sluice (`bun run src/main.ts`) or the baseline relay as its own process and waits until it answers HTTP. */
/** Every bench viewer comes from 127.0.0.1: lift the per-address and total-queue limits that a real deployment keeps. */
const BENCH_LIMITS = ["--max-viewers-per-address", "1000000", "--viewer-total-buffer-bytes", "64GiB"];

export async function startServer(kind: "sluice" | "baseline", extraArgs: string[], log: string): Promise<ServerUnderTest> {
  const httpPort = freePort();
  const ingestPort = freePort();
  const cmd =
    kind === "sluice"
      ? [
          BUN,
          "run",
          SLUICE_MAIN,
          "--http-host",
          "127.0.0.1",
          "--http-port",
          String(httpPort),
          "--ingest-host",
          "127.0.0.1",
          "--ingest-port",
          String(ingestPort),
          "--rtmp-port",
          "0",
          "--log-level",
          "warn",
          ...BENCH_LIMITS,
          ...extraArgs,
        ]
      : ["node", "bench/child/baseline-relay.mjs", String(httpPort), String(ingestPort)];
  const proc = spawnChild(cmd, { log });
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${kind} exited with ${proc.exitCode} at start (see ${resolve(LOGS, log)})`);
    // Sluice answers /healthz; the baseline's ws server answers any plain GET with 426.
    const ok = await fetch(`http://127.0.0.1:${httpPort}/healthz`).then(
      () => true,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`${kind} did not answer HTTP within 20 s`);
    await Bun.sleep(50);
  }
  const wsUrl = kind === "sluice" ? `ws://127.0.0.1:${httpPort}/ws` : `ws://127.0.0.1:${httpPort}/`;
  return { kind, pid: proc.pid, httpPort, ingestPort, wsUrl, proc };
}

/** Reads a child's stdout line by line; `next(pred, ms)` resolves with the first matching line. */
export function lineReader(proc: Subprocess<"pipe" | "ignore", "pipe", "inherit">) {
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  (async () => {
    const dec = new TextDecoder();
    let buf = "";
    for await (const chunk of proc.stdout) {
      buf += dec.decode(chunk, { stream: true });
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
      wake?.();
    }
    ended = true;
    wake?.();
  })();
  return {
    async next(pred: (l: string) => boolean, ms: number, what: string): Promise<string> {
      const deadline = Date.now() + ms;
      for (;;) {
        const i = lines.findIndex(pred);
        if (i >= 0) return lines.splice(i, 1)[0]!;
        if (ended) throw new Error(`${what}: the process ended first`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`${what}: not within ${ms} ms`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, Math.min(left, 200));
        });
      }
    },
  };
}

/** A load-client process (bench/child/clients.ts) with its stdout read line by line. */
interface LoadClient {
  proc: Subprocess<"pipe" | "ignore", "pipe", "inherit">;
  lines: ReturnType<typeof lineReader>;
}

/**
 * Waits until every load client says "done" (all its viewers have the last fragment); a client that
 * has not within 15 s is told to stop and given 10 s more.
 */
export async function clientsDone(clients: readonly LoadClient[]): Promise<void> {
  await Promise.all(
    clients.map((c) =>
      c.lines
        .next((l) => l === "done", 15_000, "clients done")
        .catch(() => {
          c.proc.stdin!.write("stop\n");
          c.proc.stdin!.flush();
          return c.lines.next((l) => l === "done", 10_000, "clients done after stop");
        }),
    ),
  );
}
