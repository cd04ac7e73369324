import { wallMs } from "./clock.ts";
import { BUN, lineReader, spawnChild, stop } from "./processes.ts";
import { median } from "./stats.ts";

/**
 * Loopback bandwidth of this machine: a Bun sender (this process) blasts `bytes` over one TCP
 * connection to a Bun receiver process, which prints the wall time of the last byte. This sets the
 * write floor: a fragment of S bytes cannot reach N viewers faster than S × N ÷ bandwidth.
 * The receiver is the child program bench/child/loopback-receiver.ts.
 */

const CHUNK = 1 << 20;

export async function measureLoopback(bytes = 1 << 30, reps = 3): Promise<{ bytesPerMs: number; runsGBps: number[] }> {
  const runs: number[] = [];
  for (let r = 0; r < reps; r++) {
    const recv = spawnChild([BUN, "bench/child/loopback-receiver.ts", String(bytes)], { stdout: "pipe", log: "loopback.log" });
    try {
      const lines = lineReader(recv);
      const port = Number((await lines.next((l) => l.startsWith("port"), 10_000, "loopback receiver")).split(" ")[1]);
      let wake: (() => void) | undefined;
      const sock = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {}, drain: () => wake?.() } });
      const chunk = new Uint8Array(CHUNK).fill(7);
      const t0 = wallMs();
      for (let sent = 0, guard = 0; sent < bytes && guard < 10_000_000; guard++) {
        const n = sock.write(chunk.subarray(0, Math.min(CHUNK, bytes - sent)));
        sent += Math.max(0, n);
        if (n < CHUNK && sent < bytes) await new Promise<void>((res) => ((wake = res), setTimeout(res, 1000)));
      }
      const end = Number((await lines.next((l) => l.startsWith("done"), 30_000, "loopback done")).split(" ")[1]);
      sock.end();
      runs.push(bytes / 1e6 / (end - t0)); // GB/s
    } finally {
      await stop(recv);
    }
  }
  return { bytesPerMs: median(runs) * 1e6, runsGBps: runs };
}
