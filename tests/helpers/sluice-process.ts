import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";

/** Sluice as its own process (`bun run src/main.ts`) on free loopback ports, for RSS and signal tests. */
export interface SluiceProcess {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  httpPort: number;
  ingestPort: number;
  output(): string;
  /** Resident set size in bytes, from /proc. */
  rss(): number;
  stop(): Promise<number>;
}

export async function spawnSluice(args: string[] = []): Promise<SluiceProcess> {
  const proc = Bun.spawn(
    [
      process.execPath,
      "run",
      join(import.meta.dir, "../../src/main.ts"),
      "--http-host",
      "127.0.0.1",
      "--http-port",
      "0",
      "--ingest-host",
      "127.0.0.1",
      "--ingest-port",
      "0",
      "--rtmp-host",
      "127.0.0.1",
      "--rtmp-port",
      "0",
      ...args,
    ],
    { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
  );
  let out = "";
  void (async () => {
    const dec = new TextDecoder();
    for await (const chunk of proc.stdout) out += dec.decode(chunk);
  })();
  const end = Date.now() + 15_000;
  let http = 0;
  let ingest = 0;
  while (!(http && ingest)) {
    if (Date.now() > end || proc.exitCode !== null)
      throw new Error(`sluice did not start: ${out}${await new Response(proc.stderr).text()}`);
    await Bun.sleep(20);
    http = Number(/http-listening address=127\.0\.0\.1:(\d+)/.exec(out)?.[1] ?? 0);
    ingest = Number(/ingest-listening address=127\.0\.0\.1:(\d+)/.exec(out)?.[1] ?? 0);
  }
  return {
    proc,
    httpPort: http,
    ingestPort: ingest,
    output: () => out,
    rss() {
      const status = readFileSync(`/proc/${proc.pid}/status`, "utf8");
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
    },
    async stop() {
      proc.kill("SIGTERM");
      return await proc.exited;
    },
  };
}
