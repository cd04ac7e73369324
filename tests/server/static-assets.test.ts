import { describe, expect, test } from "bun:test";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import {
  chooseEncoding,
  compressAsset,
  contentHash,
  type Encoding,
  entityTag,
  noneMatchHits,
  plainAsset,
} from "../../src/server/static-assets.ts";

describe("chooseEncoding (Accept-Encoding, RFC 9110 §12.5.3)", () => {
  const cases: Array<[string | null, Encoding]> = [
    [null, "identity"],
    ["", "identity"],
    ["gzip, deflate, br, zstd", "br"], // Chromium's header: equal weights, the server's preference
    ["gzip, deflate", "gzip"],
    ["x-gzip", "gzip"],
    ["BR", "br"],
    ["br;q=0, gzip", "gzip"],
    ["br;q=0.5, gzip;q=0.8", "gzip"], // a higher q-value wins over the server's preference
    ["br;q=1.0, gzip;q=1", "br"],
    ["gzip;q=0, br;q=0", "identity"],
    ["identity;q=0, gzip", "gzip"],
    ["*", "br"],
    ["*;q=0.1, br;q=0", "gzip"],
    ["*;q=0", "identity"], // nothing acceptable: the RFC allows ignoring the header
    ["deflate, zstd", "identity"],
    ["br;q=2, gzip", "gzip"], // an invalid q-value: that item is ignored
    ["br;q=abc", "identity"],
    ["br ; q=0.3 , identity;q=0.2", "br"],
    [",,;;=,q=1", "identity"],
  ];
  for (const [header, expected] of cases) {
    test(`${JSON.stringify(header)} → ${expected}`, () => {
      expect(chooseEncoding(header)).toBe(expected);
    });
  }

  test("only offered codings are chosen; an absurdly long header is ignored", () => {
    expect(chooseEncoding("br, gzip", ["gzip", "identity"])).toBe("gzip");
    expect(chooseEncoding("br", ["gzip", "identity"])).toBe("identity");
    expect(chooseEncoding(`${"x, ".repeat(5000)}br`)).toBe("identity");
  });
});

describe("validators", () => {
  test("each representation has its own strong entity tag; If-None-Match uses weak comparison", async () => {
    const asset = await compressAsset(new TextEncoder().encode("hello ".repeat(200)), "text/plain");
    const tags = (["identity", "gzip", "br"] as const).map((e) => entityTag(asset, e));
    expect(new Set(tags).size).toBe(3);
    for (const t of tags) expect(t).toMatch(/^"[0-9a-f]{16}(-gz|-br)?"$/);
    expect(noneMatchHits(tags[0]!, tags[0]!)).toBe(true);
    expect(noneMatchHits(`"other", W/${tags[2]}`, tags[2]!)).toBe(true);
    expect(noneMatchHits("*", tags[1]!)).toBe(true);
    expect(noneMatchHits(tags[2]!, tags[1]!)).toBe(false);
    expect(noneMatchHits(null, tags[1]!)).toBe(false);
    expect(noneMatchHits("", tags[1]!)).toBe(false);
  });

  test("compressAsset: bodies decompress to the original; the hash is the content's", async () => {
    const bytes = new TextEncoder().encode(JSON.stringify({ a: Array.from({ length: 2000 }, (_, i) => i) }));
    const asset = await compressAsset(bytes, "application/json");
    expect(asset.hash).toBe(contentHash(bytes));
    expect(new Uint8Array(gunzipSync(asset.bodies.gzip!))).toEqual(bytes);
    expect(new Uint8Array(brotliDecompressSync(asset.bodies.br!))).toEqual(bytes);
    expect(asset.bodies.br!.byteLength).toBeLessThan(bytes.byteLength / 2);
    expect(contentHash(new TextEncoder().encode("x"))).not.toBe(asset.hash);
  });

  test("a body that compression would not shrink is offered as identity only", async () => {
    const asset = await compressAsset(crypto.getRandomValues(new Uint8Array(64)), "application/octet-stream");
    expect(Object.keys(asset.bodies)).toEqual(["identity"]);
    expect(Object.keys(plainAsset(new Uint8Array(10), "x").bodies)).toEqual(["identity"]);
  });
});
