import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { concat } from "../helpers/feed.ts";
import { LOWLAT_MP4, runFfmpeg } from "../helpers/ffmpeg.ts";
import { equalBytes, firstVideoPacketIsKey, withoutMfra } from "../helpers/media.ts";
import type { TestSluice } from "../helpers/sluice.ts";
import { startTcpRecorder } from "../helpers/tcp-recorder.ts";
import { connectViewer, sessions, texts } from "../helpers/ws-viewer.ts";
import { startTestRedis, startTwoNodes, type TestRedis } from "./redis-server.ts";

setDefaultTimeout(120_000);

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

test("Redis killed and restarted mid-stream: A's viewer gets every fragment, nothing crashes, degradation and recovery are logged, B's viewer resumes with skip + a keyframe", async () => {
  const onA = await connectViewer(`ws://127.0.0.1:${a.httpPort}/ws/live`);
  const onB = await connectViewer(`ws://127.0.0.1:${b.httpPort}/ws/live`);
  await onB.until((m) => texts(m, "waiting").length === 1, 5000, "waiting on B");
  const recorder = startTcpRecorder(a.ingestPort);
  const ff = runFfmpeg(LOWLAT_MP4(16, `tcp://127.0.0.1:${recorder.port}`));
  await onB.until((m) => (sessions(m)[0]?.fragments.length ?? 0) >= 10, 20_000, "fragments on B before the outage");

  await redis.kill();
  await a.waitLog(/ cluster-redis-down /);
  await b.waitLog(/ cluster-redis-down /);
  const receivedDuringOutage = sessions(onA.messages)[0]!.fragments.length;
  await Bun.sleep(2500);
  expect(sessions(onA.messages)[0]!.fragments.length).toBeGreaterThan(receivedDuringOutage + 10); // A's viewer never stopped
  await redis.start();
  await a.waitLog(/ cluster-redis-up /, 15_000);
  await b.waitLog(/ cluster-redis-up /, 15_000);
  await a.waitLog(/ cluster-lease-reasserted stream=live /, 10_000);
  await onB.until((m) => m.findIndex((x) => x.kind === "text" && x.json.type === "skip") >= 0, 15_000, "skip on B");
  await onB.until(
    (m) => m.slice(m.findIndex((x) => x.kind === "text" && x.json.type === "skip")).some((x) => x.kind === "binary"),
    5000,
    "a fragment after skip",
  );

  expect(await ff.done, await ff.stderr()).toBe(0);
  await onA.until((m) => texts(m, "ended").length === 1, 10_000, "ended on A");
  await onB.until((m) => texts(m, "ended").length === 1, 10_000, "ended on B");
  recorder.stop();

  // A: one session, byte-identical to what ffmpeg sent: no gap at all.
  const [sa] = sessions(onA.messages);
  expect(sessions(onA.messages)).toHaveLength(1);
  expect(equalBytes(concat([sa!.init, ...sa!.fragments]), withoutMfra(concat(recorder.connections[0]!)))).toBe(true);

  // B: one session; before the skip a contiguous prefix of A's fragments, after it a contiguous run from a keyframe to the end.
  const [sb] = sessions(onB.messages);
  expect(sessions(onB.messages)).toHaveLength(1);
  expect(texts(onB.messages, "skip")).toHaveLength(1);
  const skipAt = onB.messages.findIndex((x) => x.kind === "text" && x.json.type === "skip");
  const before = onB.messages.slice(0, skipAt).filter((x) => x.kind === "binary").length - 1; // minus the init
  sb!.fragments.slice(0, before).forEach((f, i) => expect(equalBytes(f, sa!.fragments[i]!)).toBe(true));
  const resumed = sb!.fragments.slice(before);
  expect(firstVideoPacketIsKey(sb!.init, resumed[0]!, "mp4")).toBe(true);
  const k = sa!.fragments.findIndex((f) => equalBytes(f, resumed[0]!));
  expect(k).toBeGreaterThan(before);
  expect(resumed.length).toBe(sa!.fragments.length - k);
  resumed.forEach((f, i) => expect(equalBytes(f, sa!.fragments[k + i]!)).toBe(true));

  // Both nodes alive; the outage was logged once each way.
  for (const node of [a, b]) {
    expect((await fetch(`http://127.0.0.1:${node.httpPort}/healthz`)).status).toBe(200);
    expect(node.logs.filter((l) => l.includes(" cluster-redis-down "))).toHaveLength(1);
    expect(node.logs.filter((l) => l.includes(" cluster-redis-up "))).toHaveLength(1);
  }
  expect(b.logs.some((l) => / cluster-resync stream=live /.test(l))).toBe(true);
  onA.close();
  onB.close();
});
