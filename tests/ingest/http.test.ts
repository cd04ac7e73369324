import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { fixture } from "../helpers/fixtures.ts";
import { startTestSluice, type TestSluice } from "../helpers/sluice.ts";

setDefaultTimeout(30_000);

/** HTTP ingest ends like TCP ingest: the one idle watchdog closes a silent body with 408. */
let sluice: TestSluice;
beforeAll(async () => {
  sluice = await startTestSluice(["--publisher-idle-seconds", "1"]);
});
afterAll(async () => {
  await sluice.stop();
});

test("a body that goes silent is closed by the idle watchdog with 408, and the stream ends", async () => {
  let push!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (push = c) });
  const started = performance.now();
  const res = fetch(`http://127.0.0.1:${sluice.httpPort}/ingest/quiet`, { method: "PUT", body });
  push.enqueue(fixture("h264-main-aac.mp4").slice(0, 2048));
  const answer = await res;
  expect(answer.status).toBe(408);
  expect(await answer.text()).toContain("no data for 1 s");
  expect(performance.now() - started).toBeLessThan(5000);
  await sluice.waitLog(/publisher-error stream=quiet .*reason=idle-timeout/);
  expect(sluice.registry.get("quiet")?.publisher).toBeUndefined();
});
