import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { fixture } from "../helpers/fixtures.ts";
import { startTestSluice, type TestSluice } from "../helpers/sluice.ts";

/**
 * Issue 10, deployment hardening: behind a reverse proxy every client is the proxy's address, so the
 * default allowlist (loopback and private networks) let anyone publish over HTTP without a key. With
 * `--trusted-proxies`, the forwarded client address is what allowlists, limits and logs see; without
 * it, forwarding headers are ignored (a client cannot pick its own address).
 */
const body = () => fixture("h264-main-aac.mp4").slice(0, 4096); // admitted, then refused as truncated (400)
const put = (port: number, name: string, headers: Record<string, string>) =>
  fetch(`http://127.0.0.1:${port}/ingest/${name}`, { method: "PUT", body: body(), headers });

describe("without --trusted-proxies", () => {
  let sluice: TestSluice;
  beforeAll(async () => {
    sluice = await startTestSluice(["--ingest-allow", "198.18.0.0/15"]);
  });
  afterAll(async () => {
    await sluice.stop();
  });

  test("forwarding headers are ignored: a client cannot claim an allowed address", async () => {
    expect((await put(sluice.httpPort, "a", { "x-forwarded-for": "198.18.0.5" })).status).toBe(403);
    expect((await put(sluice.httpPort, "b", { forwarded: "for=198.18.0.5" })).status).toBe(403);
    expect(
      sluice.logs.filter((l) => /publisher-refused stream=[ab] remote=127\.0\.0\.1:\d+ reason=address-not-allowed/.test(l)),
    ).toHaveLength(2);
  });
});

describe("with --trusted-proxies", () => {
  let sluice: TestSluice;
  beforeAll(async () => {
    // The default allowlist includes loopback, where the proxy is: the forwarded client decides.
    sluice = await startTestSluice(["--trusted-proxies", "127.0.0.1/32"]);
  });
  afterAll(async () => {
    await sluice.stop();
  });

  test("a public client behind the proxy may not publish without a key, a LAN client may", async () => {
    expect((await put(sluice.httpPort, "c", { "x-forwarded-for": "203.0.113.9" })).status).toBe(403);
    expect(sluice.logs.some((l) => /publisher-refused stream=c remote=203\.0\.113\.9:\d+ reason=address-not-allowed/.test(l))).toBe(true);
    expect((await put(sluice.httpPort, "d", { "x-forwarded-for": "192.168.1.20" })).status).toBe(400);
    await sluice.waitLog(/publisher-connected stream=d remote=192\.168\.1\.20:\d+/);
  });

  test("the right-most untrusted hop counts: a forged left part changes nothing", async () => {
    expect((await put(sluice.httpPort, "e", { "x-forwarded-for": "192.168.1.20, 203.0.113.9" })).status).toBe(403);
    expect(sluice.logs.some((l) => /publisher-refused stream=e remote=203\.0\.113\.9:/.test(l))).toBe(true);
  });

  test("per-address ingest limits apply to the forwarded client", async () => {
    const limited = await startTestSluice(["--trusted-proxies", "127.0.0.1/32", "--max-ingest-per-address", "1"]);
    try {
      // A body that never ends holds the one slot of 192.168.1.30 ...
      let push!: ReadableStreamDefaultController<Uint8Array>;
      const endless = new ReadableStream<Uint8Array>({ start: (c) => void (push = c) });
      const held = fetch(`http://127.0.0.1:${limited.httpPort}/ingest/f`, {
        method: "PUT",
        body: endless,
        headers: { "x-forwarded-for": "192.168.1.30" },
      });
      push.enqueue(body());
      await limited.waitLog(/publisher-connected stream=f remote=192\.168\.1\.30:/);
      // ... so a second connection from it is refused, while another client behind the same proxy is not.
      expect((await put(limited.httpPort, "g", { "x-forwarded-for": "192.168.1.30" })).status).toBe(503);
      expect((await put(limited.httpPort, "h", { "x-forwarded-for": "192.168.1.31" })).status).toBe(400);
      push.close();
      await held;
    } finally {
      await limited.stop();
    }
  });
});
