import { readFileSync, statSync } from "node:fs";
import { join, normalize } from "node:path";
import type { Server } from "bun";
import { Hono } from "hono";
import { clientAddress } from "../access/client-address.ts";
import { type Config, STREAM_NAME_RE } from "../config.ts";
import type { PublisherAdmission } from "../ingest/admission.ts";
import { ingestHttp } from "../ingest/http.ts";
import type { Logger } from "../log.ts";
import type { Recorder } from "../record/recorder.ts";
import type { StreamRegistry } from "../stream/registry.ts";
import type { ServerCounters } from "../stream/server-counters.ts";
import type { ViewerData } from "./fanout.ts";
import type { HlsRoutes } from "./hls-routes.ts";
import { renderMetrics } from "./metrics.ts";
import { PLAYER_MAP_PATH, PLAYER_PATH, type PlayerBundle, playerMapResponse, playerResponse, withPlayerUrl } from "./player-bundle.ts";
import { mountRecordingRoutes } from "./recording-routes.ts";
import { assetResponse, plainAsset } from "./static-assets.ts";
import { streamJson } from "./stream-json.ts";
import { checkViewer } from "./viewer-access.ts";
import { type ViewerLimits, ViewerSlots } from "./viewer-slots.ts";

export interface AppDeps {
  registry: StreamRegistry;
  counters: ServerCounters;
  log: Logger;
  /** The config slice the routes use, under the config's own names. */
  config: Pick<Config, "viewerSecret" | "allowedOrigins" | "trustedProxies" | "pageSrcOrigins" | "ingestStream"> & ViewerLimits;
  staticDir: string;
  /** The bundled player module and source map (src/server/player-bundle.ts), served at /sluice-player.js(.map). */
  playerJs: PlayerBundle;
  /** HTTP ingest admits publishers through the same admission as every other ingest. */
  admission: PublisherAdmission;
  /** Cluster mode only (src/cluster). */
  cluster?: ClusterRoutes;
  /** With --record: the recordings API, files and VOD playlists (src/server/recording-routes.ts). */
  recorder?: Recorder;
  /** LL-HLS: /hls/:stream/index.m3u8 and its media (src/server/hls-routes.ts). */
  hls?: HlsRoutes;
}

/** What the routes need from cluster mode. */
export interface ClusterRoutes {
  /**
   * Before an admitted viewer's WebSocket upgrade (never for a plain GET or a refused request): follow
   * the stream from the cluster (bounded wait, never rejects).
   */
  beforeViewer(name: string): Promise<void>;
  /** Stream JSON of the whole cluster, each entry with `node`. */
  streams(): Promise<Array<Record<string, unknown>>>;
  stream(name: string): Promise<Record<string, unknown> | undefined>;
  /** Extra `/healthz` fields (node id, Redis state). */
  health(): Record<string, unknown>;
}

type Env = { Bindings: Server<ViewerData> };

/** How long an upgraded viewer's slot is held for a socket that never opens. */
const UNOPENED_SLOT_MS = 10_000;

const plain = (status: number, body: string, headers: Record<string, string> = {}) =>
  new Response(`${body}\n`, { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers } });

/**
 * The HTTP routes (Hono): player page and module, stream JSON, health, Prometheus metrics, HTTP
 * ingest at `/ingest/:name`, and the viewer WebSocket upgrade at `/ws/:stream`. Bun passes the server
 * as Hono's env, so routes can upgrade and read the peer address.
 */
export function createApp(deps: AppDeps): Hono<Env> {
  const app = new Hono<Env>();
  const { registry, counters, log, config, staticDir, playerJs } = deps;
  const srcOrigins = escapeHtml(config.pageSrcOrigins.join(" "));
  // Read per request, so the page can be edited while Sluice runs; the server fills in the allowed ?src= origins
  // and the player's versioned URL. Revalidated on every visit (a 304 while unchanged).
  const page = (c: { req: { raw: Request } }) => {
    const html = withPlayerUrl(
      readFileSync(join(staticDir, "index.html"), "utf8").replace(
        '<meta name="sluice-src-origins" content="">',
        `<meta name="sluice-src-origins" content="${srcOrigins}">`,
      ),
      playerJs,
    );
    return assetResponse(c.req.raw, plainAsset(new TextEncoder().encode(html), "text/html; charset=utf-8"), "no-cache");
  };
  /** The client behind the request: the peer, or with --trusted-proxies the forwarded client (port of the peer). */
  const peer = (srv: Server<ViewerData>, req: Request) => {
    const p = srv.requestIP(req) ?? { address: "?", port: 0 };
    return { address: clientAddress(p.address, req.headers, config.trustedProxies), port: p.port };
  };
  const slots = new ViewerSlots(config);

  app.get("/", page);
  app.get("/watch/:name", page);
  app.get(PLAYER_PATH, (c) => playerResponse(c.req.raw, playerJs));
  app.get(PLAYER_MAP_PATH, (c) => playerMapResponse(c.req.raw, playerJs));
  const cluster = deps.cluster;
  app.get("/healthz", (c) => c.json({ ok: true, streams: registry.all().filter((s) => s.live).length, ...cluster?.health() }));
  app.get("/api/streams", async (c) => c.json(cluster ? await cluster.streams() : registry.all().map(streamJson)));
  app.get("/api/streams/:name", async (c) => {
    const name = c.req.param("name");
    const local = registry.get(name);
    const s = cluster ? await cluster.stream(name) : local?.listed ? streamJson(local) : undefined;
    return s ? c.json(s) : c.json({ error: "no such stream" }, 404);
  });
  app.get(
    "/metrics",
    () =>
      new Response(renderMetrics(registry, counters, process.memoryUsage(), deps.recorder?.stats.families(), deps.hls?.metrics()), {
        headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      }),
  );

  // Before the live HLS routes: /hls/:stream/vod.m3u8 is the recordings' playlist.
  if (deps.recorder) mountRecordingRoutes(app, { store: deps.recorder.store, config, log, counters });
  deps.hls?.mount(app);

  app.on(["PUT", "POST"], "/ingest/:name", (c) => {
    const { address, port } = peer(c.env, c.req.raw);
    // A long-lived upload: no request timeout for it; the idle watchdog applies.
    c.env.timeout(c.req.raw, 0);
    return ingestHttp(c.req.raw, c.req.param("name"), { address, remote: `${address}:${port}` }, deps.admission);
  });

  const upgrade = async (
    c: { env: Server<ViewerData>; req: { raw: Request; url: string; header(n: string): string | undefined } },
    name: string,
  ) => {
    const { address, port } = peer(c.env, c.req.raw);
    const refuse = (status: number, reason: string, message: string, headers: Record<string, string> = {}) => {
      log.warn("viewer-refused", { stream: name, remote: `${address}:${port}`, reason, message });
      counters.reject("viewer", reason);
      return plain(status, message, headers);
    };
    if (!STREAM_NAME_RE.test(name)) return refuse(400, "invalid-name", "invalid stream name: use 1-64 letters, digits, _ or -");
    const denied = await checkViewer(new URL(c.req.url), c.req.header("origin") ?? null, name, config);
    if (denied) return refuse(denied.status, denied.reason, denied.message);
    // Taken synchronously, before the next await: a burst of upgrades cannot overshoot a limit.
    const slot = slots.reserve(name, address);
    if ("refused" in slot) return refuse(503, slot.refused, slot.message);
    // A plain GET is answered before anything is followed (issue 10: plain GETs filled the cluster's follow table).
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      slot.release();
      return plain(426, "expected a WebSocket upgrade", { upgrade: "websocket" });
    }
    try {
      // Cluster mode: subscribe to the stream and read its init first, so a stream live on another node is announced at once.
      await deps.cluster?.beforeViewer(name);
      const data: ViewerData = { stream: name, remote: `${address}:${port}`, openedAt: Date.now(), slot };
      if (c.env.upgrade(c.req.raw, { data })) {
        // Released by the socket's close; this only covers an upgrade whose socket never opened.
        setTimeout(() => data.opened || slot.release(), UNOPENED_SLOT_MS);
        return new Response(null);
      }
    } catch (e) {
      slot.release();
      throw e;
    }
    slot.release();
    return plain(400, "bad WebSocket upgrade request");
  };
  app.get("/ws", (c) => upgrade(c, config.ingestStream));
  app.get("/ws/:stream", (c) => upgrade(c, c.req.param("stream")));

  // Other files of the player folder (e.g. styles), never outside it; any path that is not such a file is a 404.
  app.get("/static/*", (c) => {
    const rel = normalize(c.req.path.slice("/static/".length));
    if (rel.startsWith("..") || rel.startsWith("/") || /[\0-\x1f\\]/.test(rel)) return c.notFound();
    const path = join(staticDir, rel);
    try {
      return statSync(path, { throwIfNoEntry: false })?.isFile() ? new Response(Bun.file(path)) : c.notFound();
    } catch {
      return c.notFound();
    }
  });
  return app;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
