import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { fixture } from "../helpers/fixtures.ts";
import { startTestSluice, type TestSluice } from "../helpers/sluice.ts";
import { connectViewer, sessions, texts } from "../helpers/ws-viewer.ts";

setDefaultTimeout(30_000);

let sluice: TestSluice;
let base: string;
beforeAll(async () => {
  sluice = await startTestSluice();
  base = `http://127.0.0.1:${sluice.httpPort}`;
});
afterAll(async () => {
  await sluice.stop();
});

describe("HTTP routes", () => {
  test("the index page and /watch/:name serve the player page", async () => {
    for (const path of ["/", "/watch/cam2"]) {
      const r = await fetch(base + path);
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toContain("text/html");
      expect(await r.text()).toContain("<sluice-player");
    }
  });

  test("/healthz answers ok", async () => {
    expect(await (await fetch(`${base}/healthz`)).json()).toMatchObject({ ok: true });
  });

  test("/ws/:stream refuses invalid names and plain HTTP requests", async () => {
    expect((await fetch(`${base}/ws/bad%20name`)).status).toBe(400);
    expect((await fetch(`${base}/ws/live`)).status).toBe(426);
  });

  test("a viewer connected before the publisher is told to wait, then served when it starts; /api/streams shows it", async () => {
    const viewer = await connectViewer(`ws://127.0.0.1:${sluice.httpPort}/ws/live`);
    await viewer.until((m) => texts(m, "waiting").length === 1, 5000, "waiting");
    const file = fixture("vp8-opus.webm");
    const sock = await Bun.connect({ hostname: "127.0.0.1", port: sluice.ingestPort, socket: { data() {} } });
    sock.write(file);
    await viewer.until((m) => (sessions(m)[0]?.fragments.length ?? 0) > 5, 5000, "fragments");
    const list = (await (await fetch(`${base}/api/streams`)).json()) as Array<Record<string, unknown>>;
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ name: "live", live: true, mime: 'video/webm; codecs="vp8,opus"', width: 320, height: 240, viewers: 1 });
    const one = (await (await fetch(`${base}/api/streams/live`)).json()) as Record<string, unknown>;
    expect(one.bytesIn).toBeGreaterThan(0);
    expect((await fetch(`${base}/api/streams/nope`)).status).toBe(404);
    sock.end();
    await viewer.until((m) => texts(m, "ended").length === 1, 5000, "ended");
    viewer.close();
  });
});

describe("static files", () => {
  test("/static/* serves files of the player folder and nothing outside it", async () => {
    const ok = await fetch(`${base}/static/index.html`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("<sluice-player");
    expect((await fetch(`${base}/static/nope.txt`)).status).toBe(404);
    expect((await fetch(`${base}/static/player`)).status).toBe(404); // a folder, not a file
    for (const path of ["/static/%2e%2e/package.json", "/static/..%2fpackage.json", "/static/%2e%2e%2fsrc%2fconfig.ts"]) {
      const r = await fetch(base + path);
      expect(r.status).toBe(404);
    }
  });
});

describe("viewer control messages", () => {
  test("a ping is answered with a pong echoing its time; anything else is ignored", async () => {
    const viewer = await connectViewer(`ws://127.0.0.1:${sluice.httpPort}/ws/pinged`);
    await viewer.until((m) => texts(m, "waiting").length === 1, 5000, "waiting");
    viewer.ws.send('{"type":"ping","t":1234.5}');
    await viewer.until((m) => texts(m, "pong").length === 1, 5000, "pong");
    expect(texts(viewer.messages, "pong")[0]).toEqual({ type: "pong", t: 1234.5 });
    // Not pings: a substring match would have answered these.
    for (const text of ['{"type":"nope","x":"\\"ping\\""}', '"ping"', '{"type":"ping"}', "x".repeat(100)]) viewer.ws.send(text);
    viewer.ws.send('{"type":"ping","t":2}');
    await viewer.until((m) => texts(m, "pong").length === 2, 5000, "second pong");
    expect(texts(viewer.messages, "pong")[1]).toEqual({ type: "pong", t: 2 });
    viewer.close();
  });
});
