import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mintViewerToken } from "../../src/access/secrets.ts";
import { startTestSluice, type TestSluice } from "../helpers/sluice.ts";
import { connectViewer, texts } from "../helpers/ws-viewer.ts";

setDefaultTimeout(30_000);

const SECRET = "viewer-secret-for-tests";
let sluice: TestSluice;
let base: string;
beforeAll(async () => {
  sluice = await startTestSluice([
    "--viewer-secret",
    SECRET,
    "--allowed-origins",
    "https://good.example",
    "--max-viewers-per-stream",
    "2",
    "--max-viewers",
    "3",
  ]);
  base = `http://127.0.0.1:${sluice.httpPort}`;
});
afterAll(async () => {
  await sluice.stop();
});

const now = () => Math.floor(Date.now() / 1000);

describe("viewer access", () => {
  test("no token is 401; forged, expired or other-stream tokens are 403", async () => {
    expect((await fetch(`${base}/ws/cam2`)).status).toBe(401);
    const forged = await mintViewerToken("not-the-server-secret", "cam2", now() + 60);
    expect((await fetch(`${base}/ws/cam2?token=${forged}`)).status).toBe(403);
    const expired = await mintViewerToken(SECRET, "cam2", now() - 1);
    expect((await fetch(`${base}/ws/cam2?token=${expired}`)).status).toBe(403);
    const other = await mintViewerToken(SECRET, "cam3", now() + 60);
    expect((await fetch(`${base}/ws/cam2?token=${other}`)).status).toBe(403);
    await sluice.waitLog(/viewer-refused stream=cam2 .*reason=token-expired/);
    expect(sluice.logs.join("\n")).not.toContain(SECRET);
  });

  test("a valid token opens the WebSocket", async () => {
    const token = await mintViewerToken(SECRET, "cam2", now() + 60);
    const v = await connectViewer(`ws://127.0.0.1:${sluice.httpPort}/ws/cam2?token=${token}`);
    await v.until((m) => texts(m, "waiting").length === 1, 5000, "waiting");
    v.close();
    await v.closed;
  });

  test("an Origin outside --allowed-origins is 403, an allowed one passes", async () => {
    const token = await mintViewerToken(SECRET, "cam2", now() + 60);
    expect((await fetch(`${base}/ws/cam2?token=${token}`, { headers: { origin: "https://evil.example" } })).status).toBe(403);
    // Passing the checks without an upgrade header ends at the upgrade itself: 426, not 403.
    expect((await fetch(`${base}/ws/cam2?token=${token}`, { headers: { origin: "https://good.example" } })).status).toBe(426);
  });

  test("viewer limits per stream and in total answer 503", async () => {
    const open = async (stream: string) => {
      const v = await connectViewer(
        `ws://127.0.0.1:${sluice.httpPort}/ws/${stream}?token=${await mintViewerToken(SECRET, stream, now() + 60)}`,
      );
      await v.until((m) => m.length > 0, 5000, "first message");
      return v;
    };
    const a = await open("cam2");
    const b = await open("cam2");
    expect((await fetch(`${base}/ws/cam2?token=${await mintViewerToken(SECRET, "cam2", now() + 60)}`)).status).toBe(503);
    const c = await open("cam3");
    expect((await fetch(`${base}/ws/cam4?token=${await mintViewerToken(SECRET, "cam4", now() + 60)}`)).status).toBe(503);
    for (const v of [a, b, c]) v.close();
    await Promise.all([a.closed, b.closed, c.closed]);
  });
});
