import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { LOWLAT_MP4, runFfmpeg } from "../helpers/ffmpeg.ts";
import { startTestSluice, type TestSluice } from "../helpers/sluice.ts";
import { type SluiceProcess, spawnSluice } from "../helpers/sluice-process.ts";
import { connectViewer, sessions, texts } from "../helpers/ws-viewer.ts";
import { startTestRedis, type TestRedis } from "./redis-server.ts";

setDefaultTimeout(120_000);

const LEASE_MS = 2000;
/** Scheduling slack: the follower looks at a lease again right after its expiry. */
const SLACK_MS = 250;

let redis: TestRedis;
let a: SluiceProcess;
let b: TestSluice;
beforeAll(async () => {
  redis = await startTestRedis();
  a = await spawnSluice(["--redis", redis.url, "--cluster-lease-seconds", String(LEASE_MS / 1000)]);
  b = await startTestSluice(["--redis", redis.url, "--cluster-lease-seconds", String(LEASE_MS / 1000)]);
});
afterAll(async () => {
  if (a?.proc.exitCode === null) a.proc.kill("SIGKILL");
  await b?.stop();
  await redis?.stop();
});

test("the publishing node crashes (SIGKILL, no lease released): B's viewer gets ended within the lease time, then the stream can be published on B", async () => {
  const onB = await connectViewer(`ws://127.0.0.1:${b.httpPort}/ws/live`);
  const ff = runFfmpeg(LOWLAT_MP4(30, `tcp://127.0.0.1:${a.ingestPort}`));
  await onB.until((m) => (sessions(m)[0]?.fragments.length ?? 0) >= 10, 20_000, "fragments from A on B");

  // While A holds the lease, B refuses a publisher for the stream.
  const busy = runFfmpeg(LOWLAT_MP4(2, `tcp://127.0.0.1:${b.ingestPort}`));
  await busy.done;
  await b.waitLog(/ publisher-refused stream=live .*reason=stream-busy-in-cluster/);

  a.proc.kill("SIGKILL");
  const killedAt = Date.now();
  await a.proc.exited;
  ff.stop();
  await onB.until((m) => texts(m, "ended").length === 1, LEASE_MS + 5000, "ended on B");
  const elapsed = Date.now() - killedAt;
  if (process.env.SLUICE_TEST_LOG) console.log(`ended on B ${elapsed} ms after the crash (lease ${LEASE_MS} ms)`);
  // The lease was renewed at most a third of it before the crash, so it expires within LEASE_MS of it.
  expect(elapsed).toBeLessThanOrEqual(LEASE_MS + SLACK_MS);
  expect(elapsed).toBeGreaterThanOrEqual(LEASE_MS / 2); // not ended by anything but the lease
  expect(b.logs.some((l) => / cluster-stream-ended stream=live .*reason=lease-expired/.test(l))).toBe(true);

  const onB2 = await connectViewer(`ws://127.0.0.1:${b.httpPort}/ws/live`);
  const local = runFfmpeg(LOWLAT_MP4(3, `tcp://127.0.0.1:${b.ingestPort}`));
  expect(await local.done, await local.stderr()).toBe(0);
  for (const v of [onB, onB2]) await v.until((m) => texts(m, "ended").length >= (v === onB ? 2 : 1), 10_000, "ended of B's own publisher");
  const s = sessions(onB.messages);
  expect(s).toHaveLength(2);
  expect(s[1]!.fragments.length).toBeGreaterThan(10);
  expect(sessions(onB2.messages)).toHaveLength(1);
  expect(b.logs.filter((l) => l.includes(" publisher-connected stream=live"))).toHaveLength(1);
  onB.close();
  onB2.close();
});
