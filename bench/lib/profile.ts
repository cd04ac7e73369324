import { resolve } from "node:path";
import { TMP } from "./recording.ts";

/**
 * Where a server spends its CPU: `perf record` on its pid for a few seconds (sampling at 499 Hz, no
 * call graphs) and the top symbols of `perf report`, plus the share per binary (kernel, libc, bun/node,
 * JIT code). Optional: returns undefined when perf is missing or not permitted.
 */

interface ProfileRow {
  pct: number;
  dso: string;
  symbol: string;
}

export interface Profile {
  top: ProfileRow[];
  /** Share of samples in user-space memmove/memcpy (any binary but the kernel). */
  userCopyPct: number;
  byDso: Array<{ dso: string; pct: number }>;
}

export function perfAvailable(): boolean {
  try {
    return Bun.spawnSync(["perf", "--version"]).exitCode === 0;
  } catch {
    return false;
  }
}

export async function perfProfile(pid: number, seconds: number, name: string): Promise<Profile | undefined> {
  const file = resolve(TMP, `${name}.perf.data`);
  const rec = Bun.spawn(["perf", "record", "-F", "499", "-p", String(pid), "-o", file, "--", "sleep", String(seconds)], {
    stdout: "ignore",
    stderr: "ignore",
  });
  const timer = setTimeout(() => rec.kill("SIGKILL"), (seconds + 30) * 1000);
  const code = await rec.exited;
  clearTimeout(timer);
  if (code !== 0) return undefined;
  const report = Bun.spawnSync(["perf", "report", "-i", file, "--stdio", "--no-children", "--sort", "dso,sym"], {
    stderr: "ignore",
    timeout: 60_000,
  });
  const rows: ProfileRow[] = [];
  for (const line of report.stdout.toString().split("\n")) {
    const m = /^\s+([\d.]+)%\s+(\S+)\s+\[[.k]\]\s+(.+?)\s*$/.exec(line);
    if (m) rows.push({ pct: Number(m[1]), dso: m[2]!, symbol: m[3]! });
  }
  const byDso = new Map<string, number>();
  for (const r of rows) byDso.set(r.dso, (byDso.get(r.dso) ?? 0) + r.pct);
  return {
    top: rows.slice(0, 12),
    userCopyPct: rows.filter((r) => !r.dso.includes("kernel") && /memmove|memcpy/.test(r.symbol)).reduce((n, r) => n + r.pct, 0),
    byDso: [...byDso]
      .map(([dso, pct]) => ({ dso, pct }))
      .sort((a, b) => b.pct - a.pct)
      .slice(0, 6),
  };
}
