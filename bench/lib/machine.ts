import { readFileSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";
import { resolve } from "node:path";
import { ROOT } from "./processes.ts";

/** What the benchmark ran on, for the header of BENCHMARKS.md. */
export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  bun: string;
  node: string;
  ws: string;
  ffmpeg: string;
  ulimitN: string;
  ulimitChildren: string;
}

const sh = (cmd: string) => {
  try {
    return Bun.spawnSync(["bash", "-c", cmd], { timeout: 10_000 }).stdout.toString().trim();
  } catch {
    return "?";
  }
};

export function machineInfo(): MachineInfo {
  const model = /model name\s*:\s*(.+)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? cpus()[0]?.model ?? "?";
  return {
    nproc: Number(sh("nproc")) || cpus().length,
    cpuModel: model.trim(),
    memoryGiB: totalmem() / 2 ** 30,
    kernel: release(),
    bun: Bun.version,
    node: sh("node --version"),
    ws: JSON.parse(readFileSync(resolve(ROOT, "node_modules/ws/package.json"), "utf8")).version,
    ffmpeg: sh("ffmpeg -version | head -n 1").split(" ").slice(0, 3).join(" "),
    ulimitN: sh("ulimit -n"),
    ulimitChildren: sh('ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; ulimit -n'),
  };
}
