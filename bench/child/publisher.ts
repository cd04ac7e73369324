import { wallMs } from "../lib/clock.ts";
import { fragmentsFor, loadPlan } from "../lib/recording.ts";

/**
 * Publisher process: replays a recording to a TCP ingest port at real time, paced by the fragments'
 * decode times, and records the wall time at which each fragment's last byte was handed to the kernel.
 * Usage: bun bench/child/publisher.ts '{"recording":…,"port":…,"seconds":…,"out":…}'
 * Writes {"start", "written": [[seq, ms], …]} to `out`.
 */

export interface PublisherConfig {
  recording: string;
  port: number;
  /** Replay the fragments whose decode time is below this. */
  seconds: number;
  out: string;
}

const cfg = JSON.parse(process.argv[2]!) as PublisherConfig;
const plan = await loadPlan(cfg.recording);
const frags = fragmentsFor(plan, cfg.seconds);
let wake: (() => void) | undefined;
let closed = false;
const socket = await Bun.connect({
  hostname: "127.0.0.1",
  port: cfg.port,
  socket: {
    data() {},
    drain: () => wake?.(),
    close: () => {
      closed = true;
      wake?.();
    },
    error: () => {},
  },
});

/** Writes every byte (waiting for `drain` on a partial write, at most 5 s per wait). */
async function writeAll(bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.byteLength) {
    if (closed) throw new Error("the ingest closed the connection");
    const n = socket.write(bytes.subarray(off));
    off += Math.max(0, n);
    if (off < bytes.byteLength) {
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 5000);
      });
    }
  }
}

const written: Array<[number, number]> = [];
await writeAll(plan.bytes.subarray(0, plan.initLength));
const start = wallMs() + 100;
const t0 = frags[0]!.time;
for (const f of frags) {
  const due = start + (f.time - t0) * 1000;
  const wait = due - wallMs();
  if (wait > 0) await Bun.sleep(wait);
  await writeAll(plan.bytes.subarray(f.offset, f.offset + f.length));
  written.push([f.seq, wallMs()]);
}
await Bun.write(cfg.out, JSON.stringify({ start, written }));
await Bun.sleep(300);
socket.end();
process.exit(0);
