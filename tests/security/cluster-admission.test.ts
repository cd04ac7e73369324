import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { startTestRedis, type TestRedis } from "../cluster/redis-server.ts";
import { LOWLAT_MP4, runFfmpeg } from "../helpers/ffmpeg.ts";
import { startTestSluice, type TestSluice } from "../helpers/sluice.ts";
import { connectViewer, sessions, texts } from "../helpers/ws-viewer.ts";

setDefaultTimeout(90_000);

/**
 * Issue 10 in cluster mode, where the viewer path awaits Redis before the upgrade:
 * - defect 8: the viewer count was read before that await and raised only when the socket opened, so a
 *   burst overshot --max-viewers;
 * - defect 7: streams fed from the bus counted as local publishers, so one viewer of a remote live
 *   stream could make a node with --max-publishers 1 refuse its own publishers.
 */
let redis: TestRedis;
let a: TestSluice;
let b: TestSluice;
beforeAll(async () => {
  redis = await startTestRedis();
  const cluster = ["--redis", redis.url, "--cluster-lease-seconds", "2"];
  a = await startTestSluice([...cluster, "--ingest", "0=remote"]);
  b = await startTestSluice([
    ...cluster,
    "--max-publishers",
    "1",
    "--max-viewers",
    "5",
    "--max-viewers-per-stream",
    "5",
    "--ingest",
    "0=mine",
  ]);
});
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await redis?.stop();
});

describe("cluster admission", () => {
  test("a burst of 40 upgrades never overshoots --max-viewers while each waits for Redis", async () => {
    const url = `ws://127.0.0.1:${b.httpPort}/ws/burst`;
    const results = await Promise.all(
      Array.from(
        { length: 40 },
        () =>
          new Promise<{ ok: boolean; ws: WebSocket }>((resolve) => {
            const ws = new WebSocket(url);
            ws.onopen = () => resolve({ ok: true, ws });
            ws.onerror = () => resolve({ ok: false, ws });
          }),
      ),
    );
    const opened = results.filter((r) => r.ok).length;
    console.log(`cluster burst: ${opened} of 40 opened with --max-viewers 5`);
    expect(opened).toBe(5);
    for (const r of results) r.ws.close();
    await Bun.sleep(300);
  });

  test("a stream fed from the bus does not use up --max-publishers: a local publisher is still admitted", async () => {
    const remoteFf = runFfmpeg(LOWLAT_MP4(8, `tcp://127.0.0.1:${a.ingestPorts.remote}`));
    const viewer = await connectViewer(`ws://127.0.0.1:${b.httpPort}/ws/remote`);
    await viewer.until((m) => (sessions(m)[0]?.fragments.length ?? 0) > 2, 20_000, "remote stream fed on B");
    expect(b.registry.get("remote")?.publisher).toMatch(/^cluster:/);
    const localFf = runFfmpeg(LOWLAT_MP4(3, `tcp://127.0.0.1:${b.ingestPorts.mine}`));
    const local = await connectViewer(`ws://127.0.0.1:${b.httpPort}/ws/mine`);
    await local.until((m) => texts(m, "stream").length === 1, 15_000, "local stream live on B");
    expect(b.logs.filter((l) => /publisher-refused stream=mine/.test(l))).toEqual([]);
    expect(await localFf.done, await localFf.stderr()).toBe(0);
    remoteFf.stop();
    await remoteFf.done;
    viewer.close();
    local.close();
  });
});
