/**
 * The VOD loader's fetches (static/player/range-fetch.ts) against a real HTTP server: byte ranges
 * with `Range` (206), a server that ignores `Range` (200: the range is cut out, reading no further),
 * the byte cap, 4xx as a refusal (not retried) and 5xx / short answers as errors.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Server } from "bun";
import { fetchBytes, HttpRefusal } from "../../static/player/range-fetch.ts";

const FILE = new Uint8Array(1_000_000).map((_, i) => (i * 7) & 0xff);
let server: Server<undefined>;
const seen: string[] = [];
const url = (path: string) => `http://127.0.0.1:${server.port}${path}`;
const signal = () => new AbortController().signal;

beforeAll(() => {
  server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req) {
      const path = new URL(req.url).pathname;
      const range = req.headers.get("range");
      seen.push(`${path} ${range ?? ""}`);
      if (path === "/404") return new Response("no such recording", { status: 404 });
      if (path === "/503") return new Response("busy", { status: 503 });
      if (path === "/short") return new Response(FILE.slice(0, 10), { status: 206 });
      const m = range && path === "/ranged" ? /^bytes=(\d+)-(\d+)$/.exec(range) : null;
      if (m) return new Response(FILE.slice(Number(m[1]), Number(m[2]) + 1), { status: 206 });
      return new Response(FILE); // /whole: Range ignored
    },
  });
});

afterAll(() => server.stop(true));

test("a byte range is asked for with Range and its bytes are returned", async () => {
  const bytes = await fetchBytes({ url: url("/ranged"), key: "k", range: { offset: 1000, length: 5000 } }, 1 << 20, signal());
  expect(bytes).toEqual(FILE.slice(1000, 6000));
  expect(seen.at(-1)).toBe("/ranged bytes=1000-5999");
});

test("a server that ignores Range (200): the range is cut out of the whole resource", async () => {
  const bytes = await fetchBytes({ url: url("/whole"), key: "k", range: { offset: 700_000, length: 1234 } }, 1 << 20, signal());
  expect(bytes).toEqual(FILE.slice(700_000, 701_234));
});

test("a whole resource within the cap is read; over the cap it is refused", async () => {
  expect(await fetchBytes({ url: url("/whole"), key: "k" }, 1 << 20, signal())).toEqual(FILE);
  await expect(fetchBytes({ url: url("/whole"), key: "k" }, 100_000, signal())).rejects.toThrow(/over the 100000-byte cap/);
  await expect(fetchBytes({ url: url("/ranged"), key: "k", range: { offset: 0, length: 200_000 } }, 100_000, signal())).rejects.toThrow(
    /over the 100000-byte cap/,
  );
});

test("4xx is a refusal carrying the status; 5xx and a short range are plain errors (the loader retries those)", async () => {
  const refusal = await fetchBytes({ url: url("/404"), key: "k" }, 1000, signal()).catch((e) => e);
  expect(refusal).toBeInstanceOf(HttpRefusal);
  expect(refusal).toMatchObject({ status: 404, message: "HTTP 404 for /404" });
  const busy = await fetchBytes({ url: url("/503"), key: "k" }, 1000, signal()).catch((e) => e);
  expect(busy).not.toBeInstanceOf(HttpRefusal);
  expect(busy.message).toBe("HTTP 503 for /503");
  await expect(fetchBytes({ url: url("/short"), key: "k", range: { offset: 0, length: 100 } }, 1000, signal())).rejects.toThrow(
    /got 10 of 100 bytes/,
  );
});
