import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { LOWLAT_MP4, runFfmpeg } from "../helpers/ffmpeg.ts";
import { startTestSluice, type TestSluice } from "../helpers/sluice.ts";
import { connectViewer, texts } from "../helpers/ws-viewer.ts";

setDefaultTimeout(90_000);

/**
 * Issue 10, defect 10: a viewer of `/ws/<any valid name>` created a registry entry that was kept among
 * the idle streams, so anyone could fill `/api/streams` and `/metrics` with invented names and push real
 * streams' counters out of the idle list.
 */
let sluice: TestSluice;
let base: string;
beforeAll(async () => {
  sluice = await startTestSluice(["--idle-streams-kept", "4"]);
  base = `http://127.0.0.1:${sluice.httpPort}`;
});
afterAll(async () => {
  await sluice.stop();
});

test("names nobody published never reach the API or the metrics, and do not evict a real stream's counters", async () => {
  // A real stream, published once and now idle: its counters must survive.
  const ff = runFfmpeg(LOWLAT_MP4(2, `tcp://127.0.0.1:${sluice.ingestPort}`));
  expect(await ff.done, await ff.stderr()).toBe(0);
  await sluice.waitLog(/publisher-disconnected stream=live /);

  for (let i = 0; i < 40; i++) {
    const v = await connectViewer(`ws://127.0.0.1:${sluice.httpPort}/ws/invented-${i}`);
    await v.until((m) => texts(m, "waiting").length === 1, 5000, "waiting");
    v.close();
    await v.closed;
  }
  // One invented name still watched: still unlisted.
  const watching = await connectViewer(`ws://127.0.0.1:${sluice.httpPort}/ws/still-watched`);
  await watching.until((m) => texts(m, "waiting").length === 1, 5000, "waiting");
  await Bun.sleep(100);

  const list = (await (await fetch(`${base}/api/streams`)).json()) as Array<{ name: string; publisherConnects: number }>;
  expect(list.map((s) => s.name)).toEqual(["live"]);
  expect(list[0]!.publisherConnects).toBe(1);
  expect((await fetch(`${base}/api/streams/invented-3`)).status).toBe(404);
  expect((await fetch(`${base}/api/streams/still-watched`)).status).toBe(404);
  const metrics = await (await fetch(`${base}/metrics`)).text();
  expect(metrics).not.toMatch(/invented-|still-watched/);
  expect(metrics).toMatch(/sluice_stream_publisher_connects_total\{stream="live"\} 1/);

  // The watched name becomes a real stream the moment someone publishes to it.
  const ff2 = runFfmpeg(LOWLAT_MP4(2, `http://127.0.0.1:${sluice.httpPort}/ingest/still-watched`, ["-method", "PUT"]));
  await watching.until((m) => texts(m, "stream").length === 1, 15_000, "stream");
  expect(((await (await fetch(`${base}/api/streams`)).json()) as Array<{ name: string }>).map((s) => s.name).sort()).toEqual([
    "live",
    "still-watched",
  ]);
  await ff2.done;
  watching.close();
});
