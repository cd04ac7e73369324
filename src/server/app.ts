import type { Server } from "bun";
import { Hono } from "hono";
import { statSync } from "node:fs";
import { join, normalize } from "node:path";
import { STREAM_NAME_RE } from "../config.ts";
import type { IngestGate } from "../ingest/gate.ts";
import { ingestHttpBody } from "../ingest/http.ts";
import { reportRefusal, type SessionDeps } from "../ingest/publisher-session.ts";
import type { Logger } from "../log.ts";
import type { StreamRegistry } from "../stream/registry.ts";
import type { ServerCounters } from "../stream/server-counters.ts";
import { type AccessConfig, checkPublisher, checkViewer } from "./access.ts";
import type { ViewerData } from "./fanout.ts";
import { renderMetrics } from "./metrics.ts";
import { streamJson } from "./stream-json.ts";

export interface AppDeps {
  registry: StreamRegistry;
  counters: ServerCounters;
  log: Logger;
  access: AccessConfig;
  /** The stream `/ws` means (the one the main TCP ingest port feeds). */
  defaultStream: string;
  staticDir: string;
  /** The bundled player module served at /sluice-player.js. */
  playerJs: string;
  limits: { maxViewers: number; maxViewersPerStream: number };
  /** HTTP ingest shares the publisher sessions and per-address gate of TCP ingest. */
  ingest: { deps: SessionDeps; gate: IngestGate; idleSeconds: number };
  /** Cluster mode only (src/cluster). */
  cluster?: ClusterRoutes;
}

/** What the routes need from cluster mode. */
export interface ClusterRoutes {
  /** Before a viewer's socket opens: follow the stream from the cluster (bounded wait, never rejects). */
  beforeViewer(name: string): Promise<void>;
  /** Stream JSON of the whole cluster, each entry with `node`. */
  streams(): Promise<Array<Record<string, unknown>>>;
  stream(name: string): Promise<Record<string, unknown> | undefined>;
  /** Extra `/healthz` fields (node id, Redis state). */
  health(): Record<string, unknown>;
}

type Env = { Bindings: Server<ViewerData> };

const plain = (status: number, body: string, headers: Record<string, string> = {}) =>
  new Response(`${body}\n`, { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers } });

/**
 * The HTTP routes (Hono): player page and module, stream JSON, health, Prometheus metrics, HTTP
 * ingest at `/ingest/:name`, and the viewer WebSocket upgrade at `/ws/:stream`. Bun passes the server
 * as Hono's env, so routes can upgrade and read the peer address.
 */
export function createApp(deps: AppDeps): Hono<Env> {
  const app = new Hono<Env>();
  const { registry, counters, log, access, staticDir, playerJs } = deps;
  const page = () => new Response(Bun.file(join(staticDir, "index.html")), { headers: { "content-type": "text/html; charset=utf-8" } });
  const peer = (srv: Server<ViewerData>, req: Request) => srv.requestIP(req) ?? { address: "?", port: 0 };

  app.get("/", page);
  app.get("/watch/:name", page);
  app.get("/sluice-player.js", () =>
    new Response(playerJs, { headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-cache", "access-control-allow-origin": "*" } }),
  );
  const cluster = deps.cluster;
  app.get("/healthz", (c) => c.json({ ok: true, streams: registry.all().filter((s) => s.live).length, ...cluster?.health() }));
  app.get("/api/streams", async (c) => c.json(cluster ? await cluster.streams() : registry.all().map(streamJson)));
  app.get("/api/streams/:name", async (c) => {
    const name = c.req.param("name");
    const local = registry.get(name);
    const s = cluster ? await cluster.stream(name) : local && streamJson(local);
    return s ? c.json(s) : c.json({ error: "no such stream" }, 404);
  });
  app.get("/metrics", () =>
    new Response(renderMetrics(registry, counters, process.memoryUsage()), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } }),
  );

  app.on(["PUT", "POST"], "/ingest/:name", async (c) => {
    const name = c.req.param("name");
    const { address, port } = peer(c.env, c.req.raw);
    const remote = `${address}:${port}`;
    const refuse = (status: number, reason: string, message: string, headers?: Record<string, string>) => {
      reportRefusal(deps.ingest.deps, name, remote, reason, message);
      return plain(status, message, headers);
    };
    if (!STREAM_NAME_RE.test(name)) return refuse(400, "invalid-name", "invalid stream name: use 1-64 letters, digits, _ or -");
    const denied = checkPublisher(new URL(c.req.url), c.req.header("authorization") ?? null, name, address, access);
    if (denied) return refuse(denied.status, denied.reason, denied.message, denied.status === 401 ? { "www-authenticate": "Bearer" } : {});
    if (!deps.ingest.gate.admit(address)) return refuse(503, "too-many-from-address", `${address} has too many ingest connections`);
    try {
      // A long-lived upload: no request timeout for it; our own idle limit applies.
      c.env.timeout(c.req.raw, 0);
      return await ingestHttpBody(c.req.raw, name, remote, deps.ingest.deps, deps.ingest.idleSeconds);
    } finally {
      deps.ingest.gate.release(address);
    }
  });

  const upgrade = async (c: { env: Server<ViewerData>; req: { raw: Request; url: string; header(n: string): string | undefined } }, name: string) => {
    const { address, port } = peer(c.env, c.req.raw);
    const refuse = (status: number, reason: string, message: string) => {
      log.warn("viewer-refused", { stream: name, remote: `${address}:${port}`, reason, message });
      counters.reject("viewer", reason);
      return plain(status, message);
    };
    if (!STREAM_NAME_RE.test(name)) return refuse(400, "invalid-name", "invalid stream name: use 1-64 letters, digits, _ or -");
    const denied = await checkViewer(new URL(c.req.url), c.req.header("origin") ?? null, name, access);
    if (denied) return refuse(denied.status, denied.reason, denied.message);
    const total = registry.all().reduce((n, s) => n + s.viewers, 0);
    if (total >= deps.limits.maxViewers) return refuse(503, "too-many-viewers", `the server has ${deps.limits.maxViewers} viewers (--max-viewers)`);
    if ((registry.get(name)?.viewers ?? 0) >= deps.limits.maxViewersPerStream) {
      return refuse(503, "too-many-viewers-per-stream", `stream ${name} has ${deps.limits.maxViewersPerStream} viewers (--max-viewers-per-stream)`);
    }
    // Cluster mode: subscribe to the stream and read its init first, so a stream live on another node is announced at once.
    await deps.cluster?.beforeViewer(name);
    const data: ViewerData = { stream: name, remote: `${address}:${port}`, openedAt: Date.now() };
    if (c.env.upgrade(c.req.raw, { data })) return new Response(null);
    return plain(426, "expected a WebSocket upgrade", { upgrade: "websocket" });
  };
  app.get("/ws", (c) => upgrade(c, deps.defaultStream));
  app.get("/ws/:stream", (c) => upgrade(c, c.req.param("stream")));

  // Other files of the player folder (e.g. styles), never outside it.
  app.get("/static/*", (c) => {
    const rel = normalize(c.req.path.slice("/static/".length));
    if (rel.startsWith("..") || rel.startsWith("/")) return c.notFound();
    const path = join(staticDir, rel);
    return statSync(path, { throwIfNoEntry: false })?.isFile() ? new Response(Bun.file(path)) : c.notFound();
  });
  return app;
}
