import { promisify } from "node:util";
import { brotliCompress, constants, gzip } from "node:zlib";

/**
 * HTTP delivery of in-memory assets (the player bundle, its source map, the player page): bodies
 * compressed once, the content coding chosen by `Accept-Encoding` (RFC 9110 §12.5.3), a strong
 * `ETag` per representation and `If-None-Match` answered with 304 (RFC 9110 §13.1.2).
 */

export type Encoding = "br" | "gzip" | "identity";
/** Bytes a `Response` can send. */
type Body = Uint8Array<ArrayBuffer>;

/** One asset: its bytes under each content coding it is offered in, and their validators. */
export interface Asset {
  readonly type: string;
  /** Hex digest (SHA-256, first 16 digits) of the uncompressed bytes: the asset's version. */
  readonly hash: string;
  readonly bodies: Readonly<Partial<Record<Encoding, Body>>> & { readonly identity: Body };
}

/** Strongest first: the server's preference between codings the client accepts equally. */
const PREFERENCE: Encoding[] = ["br", "gzip", "identity"];
/** `Content-Encoding` tokens, and the aliases clients may send for them (RFC 9110 §8.4.1.3: x-gzip). */
const TOKENS = new Map<string, Encoding>([
  ["br", "br"],
  ["gzip", "gzip"],
  ["x-gzip", "gzip"],
  ["identity", "identity"],
]);
/** An `Accept-Encoding` longer than this is ignored (identity is always acceptable then). */
const MAX_ACCEPT_ENCODING = 4096;
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** The asset's version: SHA-256 of `bytes`, first 16 hex digits. */
export function contentHash(bytes: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(bytes).digest("hex").slice(0, 16);
}

/** An asset offered uncompressed only (for small bodies built per request). */
export function plainAsset(bytes: Body, type: string): Asset {
  return { type, hash: contentHash(bytes), bodies: { identity: bytes } };
}

/**
 * An asset offered as identity, gzip (level 9) and brotli (`brotliQuality`, default the maximum 11),
 * compressed off the main thread. A coding that does not make the body smaller is left out.
 */
export async function compressAsset(bytes: Body, type: string, brotliQuality = 11): Promise<Asset> {
  const [br, gz] = await Promise.all([
    brotli(bytes, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: brotliQuality,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_SIZE_HINT]: bytes.byteLength,
      },
    }),
    gzipAsync(bytes, { level: 9 }),
  ]);
  const bodies: Partial<Record<Encoding, Body>> & { identity: Body } = { identity: bytes };
  if (br.byteLength < bytes.byteLength) bodies.br = new Uint8Array(br);
  if (gz.byteLength < bytes.byteLength) bodies.gzip = new Uint8Array(gz);
  return { type, hash: contentHash(bytes), bodies };
}

/**
 * The coding to send for `acceptEncoding` among `offered`: the highest q-value, ties broken br >
 * gzip > identity. No header means any coding (RFC 9110 §12.5.3: "any content coding is
 * acceptable"; identity is chosen then, as clients that send nothing rarely decode); `*` covers
 * codings not named; identity is acceptable unless excluded by `identity;q=0` or `*;q=0`, and when not
 * named ranks below every coding the client named. When
 * nothing offered is acceptable, identity is sent (the RFC allows ignoring the header).
 */
export function chooseEncoding(acceptEncoding: string | null | undefined, offered: readonly Encoding[] = PREFERENCE): Encoding {
  if (!acceptEncoding || acceptEncoding.length > MAX_ACCEPT_ENCODING) return "identity";
  const q = new Map<Encoding | "*", number>();
  for (const item of acceptEncoding.split(",")) {
    const [rawToken = "", ...params] = item.split(";");
    const token = rawToken.trim().toLowerCase();
    const coding = token === "*" ? "*" : TOKENS.get(token);
    if (!coding) continue;
    let weight = 1;
    for (const p of params) {
      const [k = "", v = ""] = p.split("=");
      if (k.trim().toLowerCase() !== "q") continue;
      weight = QVALUE.test(v.trim()) ? Number(v.trim()) : Number.NaN;
    }
    if (Number.isNaN(weight)) continue; // a malformed qvalue: the item is ignored
    q.set(coding, Math.max(q.get(coding) ?? 0, weight));
  }
  const star = q.get("*");
  // Unnamed identity stays acceptable, below any coding the client asked for.
  const weightOf = (e: Encoding) => q.get(e) ?? (star !== undefined ? star : e === "identity" ? Number.MIN_VALUE : 0);
  let best: Encoding = "identity";
  let bestQ = 0;
  for (const e of PREFERENCE) {
    if (!offered.includes(e)) continue;
    const w = weightOf(e);
    if (w > bestQ) {
      best = e;
      bestQ = w;
    }
  }
  return best;
}

/** The strong entity tag of `asset` under `encoding`: each representation has its own. */
export function entityTag(asset: Asset, encoding: Encoding): string {
  return encoding === "identity" ? `"${asset.hash}"` : `"${asset.hash}-${encoding === "gzip" ? "gz" : encoding}"`;
}

/** True when an `If-None-Match` value names `etag` (weak comparison, RFC 9110 §13.1.2) or is `*`. */
export function noneMatchHits(ifNoneMatch: string | null, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const opaque = (t: string) => t.trim().replace(/^W\//, "");
  return ifNoneMatch.split(",").some((t) => t.trim() === "*" || opaque(t) === etag);
}

/**
 * The response for a GET (or HEAD) of `asset`: the body in the chosen coding with `Content-Type`,
 * `Content-Encoding`, `Content-Length`, `Vary: Accept-Encoding` (when compressed bodies are offered),
 * `ETag` and `cacheControl` (and
 * `headers`), or a bodiless 304 when `If-None-Match` names the chosen representation.
 */
export function assetResponse(req: Request, asset: Asset, cacheControl: string, headers: Record<string, string> = {}): Response {
  const offered = PREFERENCE.filter((e) => asset.bodies[e] !== undefined);
  const encoding = chooseEncoding(req.headers.get("accept-encoding"), offered);
  const body = asset.bodies[encoding] ?? asset.bodies.identity;
  const etag = entityTag(asset, encoding);
  const common = { etag, "cache-control": cacheControl, ...(offered.length > 1 ? { vary: "Accept-Encoding" } : {}), ...headers };
  if (noneMatchHits(req.headers.get("if-none-match"), etag)) return new Response(null, { status: 304, headers: common });
  return new Response(body, {
    headers: {
      ...common,
      "content-type": asset.type,
      "content-length": String(body.byteLength),
      ...(encoding === "identity" ? {} : { "content-encoding": encoding }),
    },
  });
}
