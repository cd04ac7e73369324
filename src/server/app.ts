import type { Server } from "bun";
import { Hono } from "hono";
import { join, normalize } from "node:path";
import { STREAM_NAME_RE } from "../config.ts";
import type { StreamRegistry } from "../stream/registry.ts";
import type { Stream } from "../stream/stream.ts";
import type { ViewerData } from "./fanout.ts";

export interface AppDeps {
  registry: StreamRegistry;
  staticDir: string;
  /** The bundled player module served at /sluice-player.js. */
  playerJs: string;
}

type Env = { Bindings: Server<ViewerData> };

/**
 * The HTTP routes (Hono): the player page and module, stream JSON, health, and the WebSocket upgrade
 * at `/ws/:stream` (`/ws` = the default TCP-ingest stream). Bun passes the server as Hono's env.
 */
export function createApp(deps: AppDeps & { defaultStream: string }): Hono<Env> {
  const app = new Hono<Env>();
  const { registry, staticDir, playerJs } = deps;
  const page = () => new Response(Bun.file(join(staticDir, "index.html")), { headers: { "content-type": "text/html; charset=utf-8" } });

  app.get("/", page);
  app.get("/watch/:name", page);
  app.get("/sluice-player.js", () =>
    new Response(playerJs, { headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-cache", "access-control-allow-origin": "*" } }),
  );
  app.get("/healthz", (c) => c.json({ ok: true }));
  app.get("/api/streams", (c) => c.json(registry.all().filter((s) => s.live || s.viewers > 0).map(streamJson)));
  app.get("/api/streams/:name", (c) => {
    const s = registry.get(c.req.param("name"));
    return s ? c.json(streamJson(s)) : c.json({ error: "no such stream" }, 404);
  });

  const upgrade = (c: { env: Server<ViewerData>; req: { raw: Request } }, name: string) => {
    if (!STREAM_NAME_RE.test(name)) return new Response("invalid stream name: use 1-64 letters, digits, _ or -\n", { status: 400 });
    const req = c.req.raw;
    const remote = c.env.requestIP(req);
    const data: ViewerData = { stream: name, remote: remote ? `${remote.address}:${remote.port}` : "?", openedAt: Date.now() };
    if (c.env.upgrade(req, { data })) return new Response(null);
    return new Response("expected a WebSocket upgrade\n", { status: 426, headers: { upgrade: "websocket" } });
  };
  app.get("/ws", (c) => upgrade(c, deps.defaultStream));
  app.get("/ws/:stream", (c) => upgrade(c, c.req.param("stream")));

  // Other files of the player folder (e.g. styles), never outside it.
  app.get("/static/*", (c) => {
    const rel = normalize(c.req.path.slice("/static/".length));
    if (rel.startsWith("..") || rel.startsWith("/")) return c.notFound();
    const file = Bun.file(join(staticDir, rel));
    return file.size > 0 ? new Response(file) : c.notFound();
  });
  return app;
}

/** The public JSON view of a stream. */
export function streamJson(s: Stream): Record<string, unknown> {
  const d = s.describe();
  const st = s.stats;
  const num = (n: number) => (Number.isFinite(n) ? Math.round(n * 1000) / 1000 : null);
  return {
    name: s.name,
    live: s.live,
    mime: d?.mime ?? null,
    format: d?.format ?? null,
    width: d?.width ?? null,
    height: d?.height ?? null,
    viewers: s.viewers,
    bitrate: Math.round(st.bitrate),
    fragmentRate: num(st.fragmentRate),
    keyframeInterval: num(st.keyframeInterval),
    uptime: Number.isFinite(st.liveSince) ? num((Date.now() - st.liveSince) / 1000) : null,
    bytesIn: st.bytesIn,
    bytesOut: st.bytesOut,
    fragments: st.fragments,
    publisherConnects: st.publisherConnects,
    gopCacheBytes: s.gop.bytes,
    publishDelayMs: { p50: num(st.publishDelayPercentile(0.5)), p99: num(st.publishDelayPercentile(0.99)) },
  };
}
