import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { concat } from "../helpers/feed.ts";
import { LOWLAT_MP4, runFfmpeg } from "../helpers/ffmpeg.ts";
import { equalBytes, firstVideoPacketIsKey, withoutMfra } from "../helpers/media.ts";
import type { TestSluice } from "../helpers/sluice.ts";
import { startTcpRecorder } from "../helpers/tcp-recorder.ts";
import { connectViewer, sessions, texts } from "../helpers/ws-viewer.ts";
import { startTestRedis, startTwoNodes, type TestRedis } from "./redis-server.ts";

setDefaultTimeout(90_000);

let redis: TestRedis;
let a: TestSluice;
let b: TestSluice;
beforeAll(async () => {
  redis = await startTestRedis();
  [a, b] = await startTwoNodes(redis);
});
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await redis?.stop();
});

const ws = (s: TestSluice, name = "live") => `ws://127.0.0.1:${s.httpPort}/ws/${name}`;

test("viewers on the publishing node and on another node get byte-identical init + fragments (= what ffmpeg sent); a late joiner on the other node starts at a keyframe GOP", async () => {
  const onA = await connectViewer(ws(a));
  const onB = await connectViewer(ws(b));
  await onA.until((m) => texts(m, "waiting").length === 1, 5000, "waiting on A");
  await onB.until((m) => texts(m, "waiting").length === 1, 5000, "waiting on B");
  const recorder = startTcpRecorder(a.ingestPort);
  const ff = runFfmpeg(LOWLAT_MP4(6, `tcp://127.0.0.1:${recorder.port}`));
  // Join B once its own GOP cache (filled from the bus) holds a later GOP than the first.
  await onB.until(() => (b.registry.get("live")?.stats.keyframes ?? 0) >= 2, 20_000, "a second GOP on B");
  const late = await connectViewer(ws(b));
  expect(await ff.done, await ff.stderr()).toBe(0);
  for (const v of [onA, onB, late]) await v.until((m) => texts(m, "ended").length === 1, 10_000, "ended");
  recorder.stop();

  const [sa] = sessions(onA.messages);
  const [sb] = sessions(onB.messages);
  expect(sessions(onA.messages)).toHaveLength(1);
  expect(sessions(onB.messages)).toHaveLength(1);
  expect(equalBytes(concat([sa!.init, ...sa!.fragments]), withoutMfra(concat(recorder.connections[0]!)))).toBe(true);
  expect(sb!.stream).toEqual(sa!.stream);
  expect(equalBytes(sb!.init, sa!.init)).toBe(true);
  expect(sb!.fragments.length).toBe(sa!.fragments.length);
  sb!.fragments.forEach((f, i) => expect(equalBytes(f, sa!.fragments[i]!)).toBe(true));
  expect(texts(onB.messages, "skip")).toHaveLength(0);

  const [sl] = sessions(late.messages);
  expect(equalBytes(sl!.init, sa!.init)).toBe(true);
  expect(firstVideoPacketIsKey(sl!.init, sl!.fragments[0]!, "mp4")).toBe(true);
  const k = sa!.fragments.findIndex((f) => equalBytes(f, sl!.fragments[0]!));
  expect(k).toBeGreaterThan(0);
  expect(sl!.fragments.length).toBe(sa!.fragments.length - k);
  sl!.fragments.forEach((f, i) => expect(equalBytes(f, sa!.fragments[k + i]!)).toBe(true));
  expect(b.logs.some((l) => / cluster-stream-live stream=live node=/.test(l))).toBe(true);
  for (const v of [onA, onB, late]) v.close();
});

test("the first viewer on node B of a stream live on node A gets stream + init at once (from the init key), then fragments from a keyframe", async () => {
  const onA = await connectViewer(ws(a, "fresh"));
  const ff = runFfmpeg(LOWLAT_MP4(5, `http://127.0.0.1:${a.httpPort}/ingest/fresh`, ["-method", "PUT"]));
  await onA.until(() => (a.registry.get("fresh")?.stats.keyframes ?? 0) >= 2, 20_000, "a second GOP on A");
  expect(b.registry.get("fresh")).toBeUndefined(); // B follows nothing it has no viewer for
  const first = await connectViewer(ws(b, "fresh"));
  await first.until((m) => m.length >= 2, 5000, "the first messages");
  expect(first.messages[0]).toMatchObject({ kind: "text", json: { type: "stream", stream: "fresh" } });
  expect(first.messages[1]!.kind).toBe("binary");
  expect(await ff.done, await ff.stderr()).toBe(0);
  for (const v of [onA, first]) await v.until((m) => texts(m, "ended").length === 1, 10_000, "ended");
  const [sa] = sessions(onA.messages);
  const [sf] = sessions(first.messages);
  expect(equalBytes(sf!.init, sa!.init)).toBe(true);
  expect(firstVideoPacketIsKey(sf!.init, sf!.fragments[0]!, "mp4")).toBe(true);
  const k = sa!.fragments.findIndex((f) => equalBytes(f, sf!.fragments[0]!));
  expect(k).toBeGreaterThan(0);
  expect(sf!.fragments.length).toBe(sa!.fragments.length - k);
  sf!.fragments.forEach((f, i) => expect(equalBytes(f, sa!.fragments[k + i]!)).toBe(true));
  expect(texts(first.messages, "waiting")).toHaveLength(0);
  expect(texts(first.messages, "skip")).toHaveLength(0);
  expect(b.logs.some((l) => / cluster-stream-live stream=fresh .*from=init-key/.test(l))).toBe(true);
  onA.close();
  first.close();
});

test("a publisher restart on node A reaches node B's viewer as ended, then stream + the new init, and fragments keep coming", async () => {
  const onB = await connectViewer(ws(b, "restart"));
  await onB.until((m) => texts(m, "waiting").length === 1, 5000, "waiting");
  const url = `http://127.0.0.1:${a.httpPort}/ingest/restart`;
  for (const seconds of [2, 3]) {
    const ff = runFfmpeg(LOWLAT_MP4(seconds, url, ["-method", "PUT"]));
    expect(await ff.done, await ff.stderr()).toBe(0);
  }
  await onB.until((m) => texts(m, "ended").length === 2, 10_000, "two ended");
  const s = sessions(onB.messages);
  expect(s).toHaveLength(2);
  for (const session of s) {
    expect(session.stream.mime).toBe('video/mp4; codecs="avc1.64000D,mp4a.40.2"');
    expect(session.init.byteLength).toBeGreaterThan(500);
    expect(session.fragments.length).toBeGreaterThan(10);
    expect(session.ended).toBe(true);
  }
  expect(texts(onB.messages, "error")).toHaveLength(0);
  onB.close();
});

test("a second publisher for the stream on node B is refused (stream-busy-in-cluster, logged) while node A's goes on undisturbed", async () => {
  const onB = await connectViewer(ws(b, "busy"));
  const first = runFfmpeg(LOWLAT_MP4(5, `http://127.0.0.1:${a.httpPort}/ingest/busy`, ["-method", "PUT"]));
  await onB.until((m) => (sessions(m)[0]?.fragments.length ?? 0) >= 5, 15_000, "fragments from A");
  const put = await fetch(`http://127.0.0.1:${b.httpPort}/ingest/busy`, { method: "PUT", body: new Uint8Array(1000) });
  expect(put.status).toBe(409);
  expect(await put.text()).toContain("published on node");
  await b.waitLog(/ publisher-refused stream=busy .*reason=stream-busy-in-cluster/);
  expect(await first.done, await first.stderr()).toBe(0);
  await onB.until((m) => texts(m, "ended").length === 1, 10_000, "ended");
  const [s] = sessions(onB.messages);
  expect(s!.fragments.length).toBeGreaterThan(30);
  expect(texts(onB.messages, "skip")).toHaveLength(0);
  expect(a.logs.filter((l) => l.includes(" publisher-disconnected stream=busy"))).toHaveLength(1);
  onB.close();
});

test("/api/streams on either node lists the cluster's streams with the publishing node and its viewers' latency; /healthz tells the node and Redis state", async () => {
  const ff = runFfmpeg(LOWLAT_MP4(4, `http://127.0.0.1:${a.httpPort}/ingest/listed`, ["-method", "PUT"]));
  await a.waitLog(/ stream-live stream=listed /);
  const healthA = (await (await fetch(`http://127.0.0.1:${a.httpPort}/healthz`)).json()) as { cluster: { node: string; redis: string } };
  expect(healthA.cluster.redis).toBe("up");
  // A viewer on node A reports its latency: node B shows it in the cluster-wide view.
  const viewerOnA = await connectViewer(ws(a, "listed"));
  await viewerOnA.until((m) => (sessions(m)[0]?.fragments.length ?? 0) >= 1, 10_000, "a fragment");
  viewerOnA.ws.send(JSON.stringify({ type: "report", latency: 0.25, kind: "e2e", stalls: 0, dropped: 0, decoded: 10 }));
  await Bun.sleep(1200); // the info key is rewritten with the stream's fragments
  const list = (await (await fetch(`http://127.0.0.1:${b.httpPort}/api/streams`)).json()) as Array<Record<string, unknown>>;
  const entry = list.find((s) => s.name === "listed");
  expect(entry).toMatchObject({ name: "listed", live: true, node: healthA.cluster.node, format: "fmp4" });
  const latency = entry?.viewerLatency as { kind: string; p50: number; p95: number; reports: number };
  expect(latency).toMatchObject({ kind: "e2e", reports: 1 });
  expect(latency.p50).toBeCloseTo(0.25, 1); // percentiles come from the node's histogram buckets
  viewerOnA.close();
  const one = (await (await fetch(`http://127.0.0.1:${b.httpPort}/api/streams/listed`)).json()) as Record<string, unknown>;
  expect(one).toMatchObject({ name: "listed", live: true, node: healthA.cluster.node });
  const onA = (await (await fetch(`http://127.0.0.1:${a.httpPort}/api/streams/listed`)).json()) as Record<string, unknown>;
  expect(onA).toMatchObject({ name: "listed", live: true, node: healthA.cluster.node });
  expect(await ff.done, await ff.stderr()).toBe(0);
  await Bun.sleep(300);
  const after = (await (await fetch(`http://127.0.0.1:${b.httpPort}/api/streams`)).json()) as Array<Record<string, unknown>>;
  expect(after.find((s) => s.name === "listed" && s.live)).toBeUndefined();
});
