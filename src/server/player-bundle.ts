import { dirname, isAbsolute, relative, resolve } from "node:path";
import { type Asset, assetResponse, compressAsset } from "./static-assets.ts";

/** Where the module is served; pages reference it as `<PLAYER_PATH>?v=<hash>`. */
export const PLAYER_PATH = "/sluice-player.js";
/** Where its source map is served (the module's last line links it relatively: `sluice-player.js.map`). */
export const PLAYER_MAP_PATH = "/sluice-player.js.map";

/** A year: the longest `max-age` caches honour; the versioned URL never changes content. */
const IMMUTABLE = "public, max-age=31536000, immutable";
/** Stored, but revalidated (a 304 when unchanged) on every use: the unversioned URLs. */
const REVALIDATE = "no-cache";
/** Any page may embed the player as a module script (which is fetched in CORS mode). */
const CORS = { "access-control-allow-origin": "*" };

/** The browser player, bundled and precompressed once at start. */
export interface PlayerBundle {
  /** The ES module; it ends with `//# sourceMappingURL=sluice-player.js.map`. */
  js: Asset;
  /** Its source map (with the sources inlined as `sourcesContent`). */
  map: Asset;
  /** The versioned URL pages reference, cacheable for good: `/sluice-player.js?v=<hash of the module>`. */
  url: string;
}

/**
 * Bundles the browser player (`<staticDir>/sluice-player.ts` and what it imports) with Bun's own
 * bundler into one minified ES module with a linked source map, in memory, once at start (no
 * separate build step for the user), and compresses both with gzip and brotli. Source paths in the
 * map are relative to the static folder's parent (`static/player/…`, `src/…` for the default layout).
 * Throws with Bun's build messages when the player does not compile.
 */
export async function bundlePlayer(staticDir: string): Promise<PlayerBundle> {
  const result = await Bun.build({
    entrypoints: [resolve(staticDir, "sluice-player.ts")],
    target: "browser",
    format: "esm",
    minify: true,
    sourcemap: "linked",
    naming: "[name].[ext]",
  });
  const js = result.outputs.find((o) => o.kind === "entry-point");
  const map = result.outputs.find((o) => o.kind === "sourcemap");
  if (!result.success || !js || !map) {
    throw new Error(`the player in ${staticDir} failed to build:\n${result.logs.map(String).join("\n")}`);
  }
  const mapJson = JSON.parse(await map.text()) as { sources?: unknown };
  // Bun writes sources relative to the process's working directory; make them independent of it.
  if (Array.isArray(mapJson.sources)) {
    const base = dirname(resolve(staticDir));
    mapJson.sources = mapJson.sources.map((s) =>
      typeof s === "string" && !s.includes(":") ? relative(base, isAbsolute(s) ? s : resolve(s)) : s,
    );
  }
  const [jsAsset, mapAsset] = await Promise.all([
    compressAsset(new Uint8Array(await js.arrayBuffer()), "text/javascript; charset=utf-8"),
    // Only fetched by developer tools: a cheaper brotli level (~10 ms instead of ~400 ms for ~200 KB).
    compressAsset(new TextEncoder().encode(JSON.stringify(mapJson)), "application/json; charset=utf-8", 5),
  ]);
  return { js: jsAsset, map: mapAsset, url: `${PLAYER_PATH}?v=${jsAsset.hash}` };
}

/**
 * `GET|HEAD /sluice-player.js`: with `?v=` equal to the module's hash, cacheable for a year
 * (`immutable`); otherwise (embedders' plain URL, or a page from before a server upgrade naming an
 * older hash) the current module, revalidated on every use with its ETag.
 */
export function playerResponse(req: Request, bundle: PlayerBundle): Response {
  const version = new URL(req.url).searchParams.get("v");
  return assetResponse(req, bundle.js, version === bundle.js.hash ? IMMUTABLE : REVALIDATE, CORS);
}

/** `GET|HEAD /sluice-player.js.map`: revalidated with its ETag. */
export function playerMapResponse(req: Request, bundle: PlayerBundle): Response {
  return assetResponse(req, bundle.map, REVALIDATE, CORS);
}

/**
 * Points a page's references to the player (`src="/sluice-player.js"`, `href="/sluice-player.js"`,
 * e.g. its module script and `modulepreload` link) at the versioned URL.
 */
export function withPlayerUrl(html: string, bundle: PlayerBundle): string {
  return html.replaceAll(`src="${PLAYER_PATH}"`, `src="${bundle.url}"`).replaceAll(`href="${PLAYER_PATH}"`, `href="${bundle.url}"`);
}
