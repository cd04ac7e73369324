import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { fixture } from "../helpers/fixtures.ts";
import { startTestSluice, type TestSluice } from "../helpers/sluice.ts";

/**
 * Issue 10, defect 1: the per-stream key table was a plain object, so stream names such as `__proto__`
 * or `constructor` found an inherited value, the address allowlist was skipped, and the "key"
 * `[object Object]` (or a function's source text) was accepted from any address. Here the allowlist
 * excludes this machine, so every request below must be refused.
 */
let sluice: TestSluice;
let base: string;
const INHERITED = ["__proto__", "constructor", "toString", "valueOf", "hasOwnProperty", "isPrototypeOf", "__defineGetter__"];

beforeAll(async () => {
  sluice = await startTestSluice(["--ingest-allow", "198.18.0.0/15", "--stream-key", "cam=secret-key-1"]);
  base = `http://127.0.0.1:${sluice.httpPort}`;
});
afterAll(async () => {
  await sluice.stop();
});

const put = (name: string, key?: string) =>
  fetch(`${base}/ingest/${name}`, {
    method: "PUT",
    body: fixture("h264-main-aac.mp4").slice(0, 4096),
    headers: key === undefined ? {} : { authorization: `Bearer ${key}` },
  });

describe("publish keys are looked up as data, never through the prototype", () => {
  test("inherited names with forged keys are refused by the address allowlist", async () => {
    for (const name of INHERITED) {
      const guesses = [
        "[object Object]",
        String((Object.prototype as unknown as Record<string, unknown>)[name]),
        "function Object() { [native code] }",
      ];
      for (const key of [undefined, ...guesses]) {
        const res = await put(name, key);
        expect({ name, key, status: res.status }).toEqual({ name, key, status: 403 });
      }
    }
    expect(sluice.logs.filter((l) => l.includes("publisher-connected"))).toEqual([]);
    expect(sluice.logs.filter((l) => /publisher-refused .*reason=address-not-allowed/.test(l)).length).toBeGreaterThanOrEqual(
      INHERITED.length,
    );
  });

  test("a configured stream key still works, and a wrong one is refused", async () => {
    expect((await put("cam", "wrong-key-123")).status).toBe(403);
    const ok = await put("cam", "secret-key-1");
    // The body is a truncated init: admitted (not 401/403), then refused by the parser.
    expect(ok.status).toBe(400);
    await sluice.waitLog(/publisher-connected stream=cam /);
  });
});
