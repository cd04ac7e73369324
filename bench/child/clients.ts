import { wallMs } from "../lib/clock.ts";
import { fragmentsFor, loadPlan, mfhdSequence } from "../lib/recording.ts";

/**
 * Client process: holds `count` WebSocket viewers, timestamps every fragment's arrival and checks
 * that nothing is lost, duplicated, reordered or altered.
 * - sluice: every binary message after the init segment is one fragment; its mfhd sequence number
 *   must be the next one, and its bytes must equal that fragment of the recording.
 * - baseline: messages are raw TCP chunks; their concatenation must equal the recording; a
 *   fragment "arrives" when the byte count passes its last byte.
 * Prints `ready N` once its sockets are open and `done` when every viewer has everything (or on a
 * `stop` line on stdin, or the hard timeout); then writes its results to `out` and exits.
 * Usage: bun bench/child/clients.ts '<ClientConfig JSON>'
 */

export interface ClientConfig {
  url: string;
  count: number;
  mode: "sluice" | "baseline";
  recording: string;
  seconds: number;
  out: string;
  hardTimeoutMs: number;
}

export interface ClientResult {
  opened: number;
  bytes: number;
  messages: number;
  /** Fragments that never arrived (summed over viewers). */
  missing: number;
  /** Messages whose bytes or order did not match the recording. */
  corrupt: number;
  closedEarly: number;
  lastArrival: number;
  /** CPU seconds this client process used (user + system). */
  cpuSeconds: number;
  /** Per viewer, per fragment of the run: arrival wall time in ms (null = never). */
  arrivals: Array<Array<number | null>>;
}

const cfg = JSON.parse(process.argv[2]!) as ClientConfig;
const plan = await loadPlan(cfg.recording);
const frags = fragmentsFor(plan, cfg.seconds);
const rec = Buffer.from(plan.bytes.buffer, plan.bytes.byteOffset, plan.bytes.byteLength);
const F = frags.length;
const firstSeq = frags[0]!.seq;
const ends = frags.map((f) => f.offset + f.length);
const total = ends[F - 1]!;
const same = (b: Buffer, at: number) => at + b.byteLength <= rec.byteLength && rec.compare(b, 0, b.byteLength, at, at + b.byteLength) === 0;

class Viewer {
  ws!: WebSocket;
  arrivals = new Float64Array(F).fill(Number.NaN);
  next = 0;
  offset = 0;
  gotInit = false;
  complete = false;
  closedEarly = false;
  corrupt = 0;
  bytes = 0;
  messages = 0;

  onBinary(b: Buffer, t: number): void {
    this.bytes += b.byteLength;
    this.messages++;
    if (cfg.mode === "baseline") {
      if (!same(b, this.offset)) this.corrupt++;
      this.offset += b.byteLength;
      while (this.next < F && ends[this.next]! <= this.offset) this.arrivals[this.next++] = t;
      if (this.offset >= total) this.finish();
      return;
    }
    if (!this.gotInit) {
      this.gotInit = true;
      if (b.byteLength !== plan.initLength || !same(b, 0)) this.corrupt++;
      return;
    }
    const idx = mfhdSequence(b) - firstSeq;
    if (idx < this.next || idx >= F) {
      this.corrupt++;
      return;
    }
    const f = frags[idx]!;
    if (b.byteLength !== f.length || !same(b, f.offset)) this.corrupt++;
    this.arrivals[idx] = t;
    this.next = idx + 1;
    if (this.next === F) this.finish();
  }

  finish(): void {
    if (this.complete) return;
    this.complete = true;
    if (++completed === viewers.length) done();
  }
}

const viewers: Viewer[] = [];
let completed = 0;

function open(v: Viewer): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(cfg.url);
    ws.binaryType = "arraybuffer";
    v.ws = ws;
    const timer = setTimeout(() => resolve(false), 10_000);
    ws.onopen = () => {
      clearTimeout(timer);
      resolve(true);
    };
    ws.onerror = () => resolve(false);
    ws.onmessage = (ev) => {
      if (typeof ev.data !== "string") v.onBinary(Buffer.from(ev.data as ArrayBuffer), wallMs());
    };
    ws.onclose = () => {
      if (!v.complete) v.closedEarly = true;
      resolve(false);
    };
  });
}

// Open in batches of 50 (at most 3 tries each), so the listen backlog is never flooded.
for (let i = 0; i < cfg.count; i += 50) {
  const batch = Array.from({ length: Math.min(50, cfg.count - i) }, () => new Viewer());
  const ok = await Promise.all(batch.map(async (v) => (await open(v)) || (await open(v)) || (await open(v))));
  batch.forEach((v, k) => ok[k] && viewers.push(v));
}
console.log(`ready ${viewers.length}`);

let finished = false;
async function done(): Promise<void> {
  if (finished) return;
  finished = true;
  console.log("done");
  const result: ClientResult = {
    opened: viewers.length,
    bytes: viewers.reduce((n, v) => n + v.bytes, 0),
    messages: viewers.reduce((n, v) => n + v.messages, 0),
    missing: viewers.reduce((n, v) => n + v.arrivals.filter((t) => Number.isNaN(t)).length, 0),
    corrupt: viewers.reduce((n, v) => n + v.corrupt, 0),
    closedEarly: viewers.filter((v) => v.closedEarly).length,
    lastArrival: Math.max(...viewers.map((v) => v.arrivals.reduce((m, t) => Math.max(t, m), 0))),
    cpuSeconds: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
    arrivals: viewers.map((v) => Array.from(v.arrivals, (t) => (Number.isNaN(t) ? null : Math.round(t * 1000) / 1000))),
  };
  await Bun.write(cfg.out, JSON.stringify(result));
  process.exit(0);
}

if (viewers.length === 0) done();
process.stdin.on("data", (d) => String(d).includes("stop") && done());
setTimeout(done, cfg.hardTimeoutMs);
