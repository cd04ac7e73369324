import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { LOWLAT_MP4, runFfmpeg } from "../helpers/ffmpeg.ts";
import { startTestSluice, type TestSluice } from "../helpers/sluice.ts";
import { connectViewer, sessions, texts } from "../helpers/ws-viewer.ts";

setDefaultTimeout(60_000);

let sluice: TestSluice;
beforeAll(async () => {
  sluice = await startTestSluice();
});
afterAll(async () => {
  await sluice.stop();
});

test("a publisher restart reaches viewers as ended, then stream + the new init, and fragments keep coming", async () => {
  const viewer = await connectViewer(`ws://127.0.0.1:${sluice.httpPort}/ws/live`);
  const url = `tcp://127.0.0.1:${sluice.ingestPort}`;
  const first = runFfmpeg(LOWLAT_MP4(2, url));
  expect(await first.done, await first.stderr()).toBe(0);
  await viewer.until((m) => texts(m, "ended").length === 1, 5000, "first ended");
  const second = runFfmpeg(LOWLAT_MP4(2, url));
  expect(await second.done, await second.stderr()).toBe(0);
  await viewer.until((m) => texts(m, "ended").length === 2, 5000, "second ended");

  const s = sessions(viewer.messages);
  expect(s).toHaveLength(2);
  for (const session of s) {
    expect(session.stream.mime).toBe('video/mp4; codecs="avc1.64000D,mp4a.40.2"');
    expect(session.init.byteLength).toBeGreaterThan(500);
    expect(session.fragments.length).toBeGreaterThan(10);
    expect(session.ended).toBe(true);
  }
  expect(texts(viewer.messages, "error")).toHaveLength(0);
  expect(sluice.logs.filter((l) => l.includes(" publisher-connected stream=live"))).toHaveLength(2);
  expect(sluice.logs.filter((l) => l.includes(" publisher-disconnected stream=live"))).toHaveLength(2);
  viewer.close();
});
