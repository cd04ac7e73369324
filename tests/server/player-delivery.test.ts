/**
 * Delivery of the player over real HTTP (issue 13, "first frame at once"): `/sluice-player.js` and
 * its linked source map precompressed with brotli and gzip by `Accept-Encoding`, strong ETags with
 * 304s, the versioned URL the pages reference cacheable for good, HEAD; the sizes are printed.
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { startTestSluice, type TestSluice } from "../helpers/sluice.ts";

let sluice: TestSluice;
let base: string;
beforeAll(async () => {
  sluice = await startTestSluice();
  base = `http://127.0.0.1:${sluice.httpPort}`;
});
afterAll(async () => {
  await sluice.stop();
});

/** A GET (or other method) whose body is read as sent: no automatic decompression. */
async function raw(path: string, headers: Record<string, string> = {}, method = "GET") {
  const res = await fetch(base + path, { method, headers, decompress: false } as RequestInit);
  return { res, body: new Uint8Array(await res.arrayBuffer()) };
}

const decode = (encoding: string | null, body: Uint8Array): Uint8Array =>
  new Uint8Array(encoding === "br" ? brotliDecompressSync(body) : encoding === "gzip" ? gunzipSync(body) : body);

const text = (b: Uint8Array) => new TextDecoder().decode(b);

const sha16 = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex").slice(0, 16);

describe("/sluice-player.js and /sluice-player.js.map", () => {
  for (const path of ["/sluice-player.js", "/sluice-player.js.map"]) {
    test(`${path}: br, gzip or identity by Accept-Encoding, each decoding to the same bytes`, async () => {
      const plain = await raw(path, { "accept-encoding": "identity" });
      expect(plain.res.status).toBe(200);
      expect(plain.res.headers.get("content-encoding")).toBeNull();
      expect(Number(plain.res.headers.get("content-length"))).toBe(plain.body.byteLength);
      const sizes: Record<string, number> = { identity: plain.body.byteLength };
      for (const [accept, expected] of [
        ["gzip, deflate, br, zstd", "br"],
        ["gzip, deflate", "gzip"],
        ["br;q=0, gzip", "gzip"],
        ["br;q=0, gzip;q=0", null],
        ["", null],
      ] as const) {
        const { res, body } = await raw(path, { "accept-encoding": accept });
        expect(res.status).toBe(200);
        expect(res.headers.get("content-encoding")).toBe(expected);
        expect(res.headers.get("vary")).toBe("Accept-Encoding");
        expect(res.headers.get("access-control-allow-origin")).toBe("*");
        expect(Number(res.headers.get("content-length"))).toBe(body.byteLength);
        expect(decode(expected, body)).toEqual(plain.body);
        if (expected) sizes[expected] = body.byteLength;
      }
      console.log(`${path}: identity ${sizes.identity} B, gzip ${sizes.gzip} B, br ${sizes.br} B`);
      expect(sizes.br!).toBeLessThan(sizes.identity! / 2.5);
      expect(sizes.gzip!).toBeLessThan(sizes.identity! / 2.5);
    });
  }

  test("the module links its source map (not inline); the map is served with the sources", async () => {
    const js = text((await raw("/sluice-player.js")).body);
    expect(js).not.toContain("sourceMappingURL=data:");
    expect(js.trimEnd().endsWith("//# sourceMappingURL=sluice-player.js.map")).toBe(true);
    // The module is the minified player (a few tens of KB), not the 200+ KB it was with the map inlined.
    expect(js.length).toBeLessThan(120_000);
    expect(js).toContain('customElements.define("sluice-player"');
    const res = await fetch(`${base}/sluice-player.js.map`);
    expect(res.headers.get("content-type")).toContain("application/json");
    const map = (await res.json()) as { version: number; sources: string[]; sourcesContent: string[]; mappings: string };
    expect(map.version).toBe(3);
    expect(map.sources).toContain("static/player/element.ts");
    expect(map.sources.some((s) => s.startsWith("src/container/"))).toBe(true);
    expect(map.sources.every((s) => !s.startsWith("..") && !s.startsWith("/"))).toBe(true);
    expect(map.sourcesContent).toHaveLength(map.sources.length);
    expect(map.sourcesContent[map.sources.indexOf("static/player/element.ts")]).toContain("class SluicePlayerElement");
    expect(map.mappings.length).toBeGreaterThan(1000);
  });

  test("strong ETags per representation; If-None-Match gets a bodiless 304 for the same representation only", async () => {
    for (const path of ["/sluice-player.js", "/sluice-player.js.map"]) {
      const br = await raw(path, { "accept-encoding": "br" });
      const gz = await raw(path, { "accept-encoding": "gzip" });
      const id = await raw(path, { "accept-encoding": "identity" });
      const tags = [br, gz, id].map((r) => r.res.headers.get("etag")!);
      for (const t of tags) expect(t).toMatch(/^"[0-9a-f]{16}(-br|-gz)?"$/); // strong: no W/
      expect(new Set(tags).size).toBe(3);
      expect(br.res.headers.get("cache-control")).toBe("no-cache");

      const again = await raw(path, { "accept-encoding": "br", "if-none-match": tags[0]! });
      expect(again.res.status).toBe(304);
      expect(again.body.byteLength).toBe(0);
      expect(again.res.headers.get("etag")).toBe(tags[0]!);
      expect(again.res.headers.get("cache-control")).toBe("no-cache");
      expect(again.res.headers.get("vary")).toBe("Accept-Encoding");
      // A list and a weak form match too (weak comparison, RFC 9110 §13.1.2).
      expect((await raw(path, { "accept-encoding": "br", "if-none-match": `"nope", W/${tags[0]}` })).res.status).toBe(304);
      // The gzip representation's tag does not validate the brotli one, nor a tag from another version.
      expect((await raw(path, { "accept-encoding": "br", "if-none-match": tags[1]! })).res.status).toBe(200);
      expect((await raw(path, { "accept-encoding": "br", "if-none-match": '"0000000000000000-br"' })).res.status).toBe(200);
    }
  });

  test("HEAD: the GET's status and headers, no body; 304 with If-None-Match", async () => {
    for (const accept of ["br", "gzip", "identity"]) {
      const get = await raw("/sluice-player.js", { "accept-encoding": accept });
      const head = await raw("/sluice-player.js", { "accept-encoding": accept }, "HEAD");
      expect(head.res.status).toBe(200);
      expect(head.body.byteLength).toBe(0);
      for (const h of ["content-type", "content-encoding", "content-length", "etag", "cache-control", "vary"]) {
        expect(head.res.headers.get(h)).toBe(get.res.headers.get(h));
      }
      const etag = get.res.headers.get("etag")!;
      expect((await raw("/sluice-player.js", { "accept-encoding": accept, "if-none-match": etag }, "HEAD")).res.status).toBe(304);
    }
    const map = await raw("/sluice-player.js.map", { "accept-encoding": "br" }, "HEAD");
    expect(map.res.status).toBe(200);
    expect(Number(map.res.headers.get("content-length"))).toBeGreaterThan(1000);
  });
});

describe("the pages reference the versioned module", () => {
  test("/ and /watch/:name preload and load /sluice-player.js?v=<hash of the module>, cacheable for good", async () => {
    const module = (await raw("/sluice-player.js", { "accept-encoding": "identity" })).body;
    const url = `/sluice-player.js?v=${sha16(module)}`;
    for (const path of ["/", "/watch/cam2"]) {
      const html = await (await fetch(base + path)).text();
      const head = html.slice(0, html.indexOf("</head>"));
      expect(head).toContain(`<link rel="modulepreload" href="${url}">`);
      expect(html).toContain(`<script type="module" src="${url}"></script>`);
      expect(html).not.toContain('src="/sluice-player.js"');
      expect(html).not.toContain('href="/sluice-player.js"');
    }
    const { res, body } = await raw(url, { "accept-encoding": "br" });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(res.headers.get("content-encoding")).toBe("br");
    expect(decode("br", body)).toEqual(module);
    // A hash this server does not have (a page from before an upgrade): the current module, revalidated.
    const stale = await raw("/sluice-player.js?v=0123456789abcdef", { "accept-encoding": "br" });
    expect(stale.res.status).toBe(200);
    expect(stale.res.headers.get("cache-control")).toBe("no-cache");
    expect(decode("br", stale.body)).toEqual(module);
  });

  test("the page is revalidated with its ETag (304 while unchanged)", async () => {
    const first = await fetch(`${base}/watch/live`);
    await first.text();
    const etag = first.headers.get("etag");
    expect(etag).toMatch(/^"[0-9a-f]{16}"$/);
    expect(first.headers.get("cache-control")).toBe("no-cache");
    const again = await fetch(`${base}/watch/live`, { headers: { "if-none-match": etag! } });
    expect(again.status).toBe(304);
    expect((await again.arrayBuffer()).byteLength).toBe(0);
    // Another stream's page is the same document (the stream is read from the path in the page).
    expect((await fetch(`${base}/watch/other`, { headers: { "if-none-match": etag! } })).status).toBe(304);
  });
});
