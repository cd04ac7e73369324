import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { constantTimeEqual, mintViewerToken, presentedKey, verifyViewerToken } from "../../src/access/secrets.ts";

const SECRET = "correct horse battery";

describe("viewer tokens", () => {
  test("a minted token verifies for its stream until it expires", async () => {
    const t = await mintViewerToken(SECRET, "cam2", 2000);
    expect(await verifyViewerToken(SECRET, "cam2", t, 1999)).toEqual({ ok: true });
    expect(await verifyViewerToken(SECRET, "cam2", t, 2001)).toEqual({ ok: false, reason: "expired" });
  });

  test("a token for another stream, another secret or a changed expiry is refused", async () => {
    const t = await mintViewerToken(SECRET, "cam2", 2000);
    expect(await verifyViewerToken(SECRET, "cam3", t, 0)).toEqual({ ok: false, reason: "bad-signature" });
    expect(await verifyViewerToken("another secret", "cam2", t, 0)).toEqual({ ok: false, reason: "bad-signature" });
    expect(await verifyViewerToken(SECRET, "cam2", t.replace(/^2000/, "9999"), 0)).toEqual({ ok: false, reason: "bad-signature" });
    expect(await verifyViewerToken(SECRET, "cam2", "garbage", 0)).toEqual({ ok: false, reason: "malformed" });
    expect(await verifyViewerToken(SECRET, "cam2", undefined, 0)).toEqual({ ok: false, reason: "missing" });
  });

  test("scripts/mint-token.ts mints a token the server accepts", async () => {
    const r = Bun.spawnSync([process.execPath, "run", join(import.meta.dir, "../../scripts/mint-token.ts"), "cam2", "60"], {
      env: { ...process.env, SLUICE_VIEWER_SECRET: SECRET },
    });
    expect(r.exitCode).toBe(0);
    const token = r.stdout.toString().trim();
    expect(await verifyViewerToken(SECRET, "cam2", token, Date.now() / 1000)).toEqual({ ok: true });
  });
});

describe("publish keys", () => {
  test("constant-time comparison gives the right answers", () => {
    expect(constantTimeEqual("abcdefgh", "abcdefgh")).toBe(true);
    expect(constantTimeEqual("abcdefgh", "abcdefgx")).toBe(false);
    expect(constantTimeEqual("abcdefgh", "abcdefg")).toBe(false);
    expect(constantTimeEqual("", "a")).toBe(false);
  });

  test("keys come from ?key= or a Bearer header, the header winning", () => {
    expect(presentedKey(new URL("http://x/ingest/a?key=k1"), null)).toBe("k1");
    expect(presentedKey(new URL("http://x/ingest/a?key=k1"), "Bearer k2")).toBe("k2");
    expect(presentedKey(new URL("http://x/ingest/a"), "Basic zzz")).toBeUndefined();
  });
});
