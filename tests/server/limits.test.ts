import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { fixture } from "../helpers/fixtures.ts";
import { startTestSluice, type TestSluice } from "../helpers/sluice.ts";
import { connectViewer } from "../helpers/ws-viewer.ts";

setDefaultTimeout(30_000);

let sluice: TestSluice;
beforeAll(async () => {
  sluice = await startTestSluice(["--ingest", "0=cam2", "--max-publishers", "1", "--max-viewer-message-bytes", "1KiB"]);
});
afterAll(async () => {
  await sluice.stop();
});

test("a viewer message over --max-viewer-message-bytes closes that viewer with 1009", async () => {
  const viewer = await connectViewer(`ws://127.0.0.1:${sluice.httpPort}/ws/live`);
  viewer.ws.send("x".repeat(2048));
  const closed = await viewer.closed;
  expect(closed.code).toBe(1009);
});

test("past --max-publishers a new publisher is refused while the first keeps its stream", async () => {
  const first = await Bun.connect({ hostname: "127.0.0.1", port: sluice.ingestPorts.live!, socket: { data() {} } });
  first.write(fixture("vp8-opus.webm").subarray(0, 1000));
  await sluice.waitLog(/publisher-connected stream=live/);
  let closed!: () => void;
  const done = new Promise<void>((r) => (closed = r));
  await Bun.connect({ hostname: "127.0.0.1", port: sluice.ingestPorts.cam2!, socket: { data() {}, close: () => closed() } });
  await done;
  await sluice.waitLog(/publisher-refused stream=cam2 .*reason=too-many-publishers/);
  const busy = await fetch(`http://127.0.0.1:${sluice.httpPort}/ingest/cam3`, { method: "PUT", body: new Uint8Array(10) });
  expect(busy.status).toBe(503);
  expect(sluice.registry.get("live")?.publisher).toBeDefined();
  first.end();
});
