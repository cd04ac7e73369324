import { expect, test } from "bun:test";
import { mintViewerToken, viewerTokenExpiry } from "../../src/access/secrets.ts";
import { cachedViewerCheck } from "../../src/server/viewer-access.ts";

const cfg = { viewerSecret: "s3cret", allowedOrigins: ["https://good.example"] };
const url = (token?: string) => new URL(`http://sluice/hls/cam/index.m3u8${token ? `?token=${token}` : ""}`);
const inAMinute = () => Math.floor(Date.now() / 1000) + 60;

test("a remembered token is still subject to the Origin rule and bound to its stream", async () => {
  const check = cachedViewerCheck(cfg);
  const token = await mintViewerToken(cfg.viewerSecret, "cam", inAMinute());
  expect(await check(url(token), "https://good.example", "cam")).toBeUndefined();
  expect(await check(url(token), null, "cam")).toBeUndefined(); // remembered
  expect((await check(url(token), "https://evil.example", "cam"))?.reason).toBe("origin-not-allowed");
  expect((await check(url(token), null, "cam2"))?.reason).toBe("token-bad-signature");
});

test("missing, forged and expired tokens are refused every time, never remembered", async () => {
  const check = cachedViewerCheck(cfg, 2);
  const expired = await mintViewerToken(cfg.viewerSecret, "cam", Math.floor(Date.now() / 1000) - 1);
  for (let i = 0; i < 3; i++) {
    expect((await check(url(), null, "cam"))?.status).toBe(401);
    expect((await check(url(`${inAMinute()}.${"A".repeat(43)}`), null, "cam"))?.reason).toBe("token-bad-signature");
    expect((await check(url(expired), null, "cam"))?.reason).toBe("token-expired");
  }
});

test("a token's stated expiry is read without verifying it", () => {
  expect(viewerTokenExpiry(`1999.${"x".repeat(43)}`)).toBe(1999);
  expect(viewerTokenExpiry("nonsense")).toBeUndefined();
});
