import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import Redis from "ioredis";
import { startCluster } from "../../src/cluster/index.ts";
import { createLogger } from "../../src/log.ts";
import { StreamRegistry } from "../../src/stream/registry.ts";
import { startTestRedis, type TestRedis } from "../cluster/redis-server.ts";
import { LOWLAT_MP4, runFfmpeg } from "../helpers/ffmpeg.ts";
import { startTestSluice, type TestSluice } from "../helpers/sluice.ts";
import { type SluiceProcess, spawnSluice } from "../helpers/sluice-process.ts";
import { connectViewer, texts } from "../helpers/ws-viewer.ts";
import { mutations } from "./bus-mutations.ts";

setDefaultTimeout(120_000);

const NAME = "fuzzed";
const CHANNEL = `sluice:s:${NAME}`;
const MUTATIONS = 1000;
const SEED = Number(process.env.SLUICE_FUZZ_SEED ?? 0x5eed10);
const ARGS = ["--cluster-lease-seconds", "2"];

let redis: TestRedis;
let a: TestSluice;
/** The following node runs as its own process: if a bus message kills it, the test sees the exit. */
let b: SluiceProcess;
let sub: Redis | undefined;
let pub: Redis | undefined;
beforeAll(async () => {
  redis = await startTestRedis();
  a = await startTestSluice(["--redis", redis.url, ...ARGS]);
  b = await spawnSluice(["--redis", redis.url, ...ARGS]);
});
afterAll(async () => {
  sub?.disconnect();
  pub?.disconnect();
  if (b?.proc.exitCode === null) await b.stop();
  await a?.stop();
  await redis?.stop();
});

const hashOf = (bytes: Uint8Array) => Bun.hash(bytes).toString();
const fragmentPayload = (m: Uint8Array) => m.subarray(24 + m[3]!);

test("a following node survives 1,000 malformed bus messages: it stays up, counts them in /healthz, logs one line for the stream, and its viewer keeps getting the real stream", async () => {
  // Capture the real bus traffic of the stream with the test's own Redis client.
  sub = new Redis(redis.url, { lazyConnect: true });
  pub = new Redis(redis.url, { lazyConnect: true });
  await sub.connect();
  await pub.connect();
  let phase: "before" | "flood" | "after" = "before";
  const samples: Uint8Array[] = [];
  const realAfter = new Set<string>();
  sub.on("messageBuffer", (_channel: Buffer, message: Buffer) => {
    const m = new Uint8Array(message);
    if (phase === "before" && samples.length < 200) samples.push(m.slice());
    else if (phase === "after" && m[1] === 2) realAfter.add(hashOf(fragmentPayload(m)));
  });
  await sub.subscribe(CHANNEL);

  const onB = await connectViewer(`ws://127.0.0.1:${b.httpPort}/ws/${NAME}`);
  await onB.until((m) => texts(m, "waiting").length === 1, 5000, "waiting on B");
  const ff = runFfmpeg(LOWLAT_MP4(40, `http://127.0.0.1:${a.httpPort}/ingest/${NAME}`, ["-method", "PUT"]));
  try {
    await onB.until((m) => m.filter((x) => x.kind === "binary").length >= 12, 20_000, "the real stream on B");
    expect(samples.filter((s) => s[1] === 1)).toHaveLength(1);
    expect(samples.filter((s) => s[1] === 2).length).toBeGreaterThan(10);

    phase = "flood";
    const batch = mutations(samples, MUTATIONS, SEED);
    for (const m of batch) await pub.publish(CHANNEL, Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength));
    phase = "after";
    const from = onB.messages.length;

    // B is still up and its viewer gets real fragments (byte-identical to what A published) after the flood.
    const realSince = () => onB.messages.slice(from).filter((x) => x.kind === "binary" && realAfter.has(hashOf(x.bytes))).length;
    const until = Date.now() + 20_000;
    while (realSince() < 10 && Date.now() < until && b.proc.exitCode === null) await Bun.sleep(50);
    if (b.proc.exitCode !== null) {
      const stderr = await new Response(b.proc.stderr).text();
      throw new Error(`node B exited with ${b.proc.exitCode}:\n${b.output().split("\n").slice(-5).join("\n")}\n${stderr.slice(-3000)}`);
    }
    expect(realSince()).toBeGreaterThanOrEqual(10);

    const health = (await (await fetch(`http://127.0.0.1:${b.httpPort}/healthz`)).json()) as {
      ok: boolean;
      cluster: { busRejected: number; errors: number; redis: string };
    };
    const malformed = batch.filter((m) => m.malformed).length;
    if (process.env.SLUICE_TEST_LOG)
      console.log(`${malformed} certainly malformed of ${MUTATIONS}; B rejected ${health.cluster.busRejected}`);
    expect(health.ok).toBe(true);
    expect(health.cluster.redis).toBe("up");
    expect(health.cluster.busRejected).toBeGreaterThanOrEqual(malformed);
    expect(health.cluster.busRejected).toBeLessThanOrEqual(MUTATIONS);
    // Nothing unexpected was thrown (and hidden) while handling them.
    expect(health.cluster.errors).toBe(0);

    // One log line for the stream about it, not one per message.
    const lines = b.output().split("\n");
    const rejected = lines.filter((l) => l.includes(" cluster-bus-rejected "));
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toContain(`stream=${NAME}`);
    expect(lines.filter((l) => l.includes(" cluster-internal-error "))).toHaveLength(0);
  } finally {
    ff.stop();
    onB.close();
  }
});

test("malformed init keys and stream info keys written to Redis are dropped: the viewer waits, /api/streams leaves them out, the node stays up", async () => {
  pub ??= new Redis(redis.url);
  const before = ((await (await fetch(`http://127.0.0.1:${b.httpPort}/healthz`)).json()) as { cluster: { busRejected: number } }).cluster
    .busRejected;
  // A lease with an init key that is not a valid `stream` message (tracks: [null]).
  const json = Buffer.from(JSON.stringify({ format: "fmp4", mime: "video/mp4", tracks: [null] }));
  const node = Buffer.from("forger-1");
  const header = Buffer.alloc(24);
  header.writeUInt8(1, 0);
  header.writeUInt8(1, 1);
  header.writeUInt8(node.byteLength, 3);
  header.writeUInt32BE(9, 4);
  header.writeUInt32BE(9, 8);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(json.byteLength);
  await pub.set("sluice:lease:poisoned", "forger-1", "PX", 60_000);
  await pub.set("sluice:init:poisoned", Buffer.concat([header, node, len, json, Buffer.alloc(16, 1)]), "PX", 60_000);
  const viewer = await connectViewer(`ws://127.0.0.1:${b.httpPort}/ws/poisoned`);
  await viewer.until((m) => texts(m, "waiting").length === 1, 5000, "waiting");
  const health = (await (await fetch(`http://127.0.0.1:${b.httpPort}/healthz`)).json()) as {
    cluster: { busRejected: number; errors: number };
  };
  expect(health.cluster.busRejected).toBeGreaterThan(before); // read again at every check while it stays there
  expect(health.cluster.errors).toBe(0);
  expect(
    b
      .output()
      .split("\n")
      .filter((l) => / cluster-bus-rejected stream=poisoned .*from=init-key/.test(l)),
  ).toHaveLength(1);
  viewer.close();

  // Info keys: not JSON, another name, wrong types, a name that is no stream name; and one valid with extra fields.
  const info = (name: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      name,
      live: true,
      mime: "video/mp4",
      format: "fmp4",
      width: 320,
      height: 240,
      viewers: 1,
      bitrate: 1000,
      fragmentRate: 10,
      keyframeInterval: 1,
      uptime: 3,
      bytesIn: 1,
      bytesOut: 2,
      fragments: 3,
      keyframes: 1,
      publisherConnects: 1,
      publisherRestarts: 0,
      slowViewerSkips: 0,
      slowViewerCloses: 0,
      gopCacheBytes: 5,
      publishDelayMs: { p50: 1, p99: 2 },
      node: "other-node",
      updatedAt: Date.now(),
      ...extra,
    });
  await pub.set("sluice:info:bad-json", "{not json", "PX", 60_000);
  await pub.set("sluice:info:bad-name", info("someone-else"), "PX", 60_000);
  await pub.set("sluice:info:bad-types", info("bad-types", { viewers: "many", publishDelayMs: null }), "PX", 60_000);
  await pub.set("sluice:info:bad-node", info("bad-node", { node: "a b\u001b" }), "PX", 60_000);
  await pub.set("sluice:info:../x y", info("../x y"), "PX", 60_000);
  await pub.set("sluice:info:extra", info("extra", { secret: "x" }).replace(/}$/, ',"__proto__":{"polluted":true}}'), "PX", 60_000);
  const list = (await (await fetch(`http://127.0.0.1:${b.httpPort}/api/streams`)).json()) as Array<Record<string, unknown>>;
  const names = list.map((s) => s.name);
  for (const bad of ["bad-json", "someone-else", "bad-name", "bad-types", "bad-node", "../x y"]) expect(names).not.toContain(bad);
  const extra = list.find((s) => s.name === "extra");
  expect(extra).toMatchObject({ name: "extra", live: true, node: "other-node", viewers: 1 });
  expect(Object.keys(extra!)).not.toContain("secret");
  expect(Object.keys(extra!)).not.toContain("__proto__");
  expect((await fetch(`http://127.0.0.1:${b.httpPort}/api/streams/bad-types`)).status).toBe(404);
  expect(b.proc.exitCode).toBeNull();
});

test("an exception thrown while a bus message is handled is contained: counted in /healthz errors, logged once for the stream, and later messages are still handled", async () => {
  // The cluster side of a node whose fan-out throws on every third fragment (standing in for any bug
  // reached from the Redis client's message event, where an escaping exception would end the process).
  const logs: string[] = [];
  const registry = new StreamRegistry(8 << 20);
  const cluster = await startCluster({
    redis: redis.url,
    clusterLeaseSeconds: 2,
    registry,
    log: createLogger("info", (l) => logs.push(l)),
  });
  let fragments = 0;
  cluster.attach({
    started() {},
    fragment() {
      if (++fragments % 3 === 0) throw new TypeError("fan-out bug");
    },
    ended() {},
    skipped() {},
  });
  const ff = runFfmpeg(LOWLAT_MP4(6, `http://127.0.0.1:${a.httpPort}/ingest/buggy`, ["-method", "PUT"]));
  try {
    registry.open("buggy").viewers = 1;
    await cluster.routes.beforeViewer("buggy");
    const until = Date.now() + 15_000;
    while (fragments < 30 && Date.now() < until) await Bun.sleep(50);
    expect(fragments).toBeGreaterThanOrEqual(30);
    const { errors } = (cluster.routes.health() as { cluster: { errors: number } }).cluster;
    expect(errors).toBeGreaterThanOrEqual(10);
    const lines = logs.filter((l) => l.includes(" cluster-internal-error "));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/ cluster-internal-error stream=buggy .*in=bus-message .*error="TypeError: fan-out bug"/);
  } finally {
    ff.stop();
    await cluster.stop();
  }
});
