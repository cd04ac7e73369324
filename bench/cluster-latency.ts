/**
 * What the Redis bus adds to latency in cluster mode: `bun run bench/cluster-latency.ts [seconds=30]`
 * (needs redis-server and ffmpeg).
 *
 * Starts a loopback `redis-server` and two Sluice nodes (own processes, `--redis`), connects one
 * WebSocket viewer to each, and replays the benchmark recording (720p H.264 + AAC, 4 Mbit/s, a fragment
 * every 100 ms) at real time into node A's TCP ingest (bench/child/publisher.ts, which stamps when each
 * fragment's last byte was written). Every fragment's arrival is stamped at both viewers (matched by
 * mfhd sequence number); reported: p50/p99/max of write → viewer on A, write → viewer on B, and B − A
 * per fragment (the bus: PUBLISH, Redis, the other node's subscriber, its fan-out).
 *
 * Takes the replayed `seconds` plus a few seconds of start-up (plus ffmpeg making the recording once into
 * `.bench-tmp/`, if `bun run bench` has not made it already).
 *
 * Results: a Markdown table printed to stdout, no results file (the publisher's write times go to
 * `.bench-tmp/cluster-latency-publisher.json`, process logs to `.bench-tmp/logs/cluster-*.log`). The
 * figures in README.md's "Cluster mode" section come from three runs of this command on the 2-core
 * development machine.
 */

import { resolve } from "node:path";
import { wallMs } from "./lib/clock.ts";
import { BUN, freePort, killAll, spawnChild, startServer } from "./lib/processes.ts";
import { ensureRecordings, fragmentsFor, loadPlan, mfhdSequence, TMP } from "./lib/recording.ts";
import { fmt, percentile, table } from "./lib/stats.ts";

const seconds = Number(process.argv[2] ?? 30);
if (!Bun.which("redis-server")) throw new Error("redis-server is not installed (apt-get install -y redis-server)");

async function redisUp(port: number): Promise<boolean> {
  return await new Promise<boolean>((done) => {
    setTimeout(() => done(false), 500);
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open: (s) => void s.write("PING\r\n"),
        data: (s, d) => {
          done(new TextDecoder().decode(d).startsWith("+PONG"));
          s.end();
        },
        connectError: () => done(false),
        error: () => done(false),
      },
    }).catch(() => done(false));
  });
}

interface Viewer {
  arrivals: Map<number, number>;
  ended: Promise<void>;
  ws: WebSocket;
}

async function viewer(url: string): Promise<Viewer> {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  const arrivals = new Map<number, number>();
  let onEnded!: () => void;
  const ended = new Promise<void>((r) => (onEnded = r));
  ws.onmessage = (ev) => {
    const at = wallMs();
    if (typeof ev.data === "string") {
      if ((JSON.parse(ev.data) as { type: string }).type === "ended") onEnded();
      return;
    }
    const seq = mfhdSequence(new Uint8Array(ev.data as ArrayBuffer));
    if (seq >= 0 && !arrivals.has(seq)) arrivals.set(seq, at);
  };
  await new Promise<void>((ok, fail) => {
    ws.onopen = () => ok();
    ws.onerror = () => fail(new Error(`WebSocket ${url} failed`));
  });
  return { arrivals, ended, ws };
}

try {
  const redisPort = freePort();
  spawnChild(["redis-server", "--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    log: "cluster-redis.log",
  });
  for (let i = 0; !(await redisUp(redisPort)); i++) {
    if (i > 100) throw new Error("redis-server did not start");
    await Bun.sleep(50);
  }
  const url = `redis://127.0.0.1:${redisPort}`;
  const a = await startServer("sluice", ["--redis", url], "cluster-node-a.log");
  const b = await startServer("sluice", ["--redis", url], "cluster-node-b.log");
  const { fmp4Small } = await ensureRecordings();
  const plan = await loadPlan(fmp4Small);
  const frags = fragmentsFor(plan, seconds);
  const onA = await viewer(a.wsUrl);
  const onB = await viewer(b.wsUrl);
  await Bun.sleep(300); // both nodes follow the stream before it starts
  const out = resolve(TMP, "cluster-latency-publisher.json");
  const pub = spawnChild([BUN, "bench/child/publisher.ts", JSON.stringify({ recording: fmp4Small, port: a.ingestPort, seconds, out })], {
    log: "cluster-publisher.log",
  });
  if ((await pub.exited) !== 0) throw new Error("publisher failed (see .bench-tmp/logs/cluster-publisher.log)");
  await Promise.race([Promise.all([onA.ended, onB.ended]), Bun.sleep(5000)]);
  const written = new Map((JSON.parse(await Bun.file(out).text()) as { written: Array<[number, number]> }).written);

  const toA: number[] = [];
  const toB: number[] = [];
  const bus: number[] = [];
  for (const [seq, w] of written) {
    const ta = onA.arrivals.get(seq);
    const tb = onB.arrivals.get(seq);
    if (ta !== undefined) toA.push(ta - w);
    if (tb !== undefined) toB.push(tb - w);
    if (ta !== undefined && tb !== undefined) bus.push(tb - ta);
  }
  const row = (what: string, xs: number[]) => [
    what,
    String(xs.length),
    fmt(percentile(xs, 0.5), 2),
    fmt(percentile(xs, 0.99), 2),
    fmt(Math.max(...xs), 2),
  ];
  console.log(
    `cluster latency: ${frags.length} fragments (${seconds} s of ${plan.path.split("/").pop()}) written to node A, viewers on A and B\n`,
  );
  console.log(
    table(
      ["ms", "fragments", "p50", "p99", "max"],
      [
        row("write → viewer on node A", toA),
        row("write → viewer on node B (via Redis)", toB),
        row("added by the bus (B − A, per fragment)", bus),
      ],
    ),
  );
  const lost = frags.length - bus.length;
  if (lost > 0) console.log(`\n${lost} fragment(s) did not reach both viewers`);
  onA.ws.close();
  onB.ws.close();
} finally {
  await killAll();
}
process.exit(0);
