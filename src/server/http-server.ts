import type { Server, WebSocketHandler } from "bun";
import type { Config } from "../config.ts";
import { encodeServerMessage } from "../protocol/messages.ts";
import { type AppDeps, createApp } from "./app.ts";
import { CLOSE_GOING_AWAY, type Fanout, type ViewerData } from "./fanout.ts";
import { handleViewerMessage, ignoredReports } from "./viewer-reports.ts";

export type HttpServerOptions = Pick<Config, "httpHost" | "httpPort" | "maxViewerMessageBytes" | "viewerBufferBytes">;

/** How often the slow-viewer policy looks at every viewer's queue. */
const SCAN_INTERVAL_MS = 100;

export interface HttpServer {
  server: Server<ViewerData>;
  /** Closes every viewer with 1001 and stops the server. */
  stop(): Promise<void>;
}

/**
 * `Bun.serve` with the Hono app for HTTP and Bun's native WebSocket pub/sub for viewers, fed by
 * `fanout` (which it attaches to the server it starts).
 */
export function startHttpServer(options: HttpServerOptions, deps: AppDeps & { fanout: Fanout }): HttpServer {
  const { registry, counters, log, fanout } = deps;
  const hono = createApp(deps);
  const hard = options.viewerBufferBytes;

  const websocket: WebSocketHandler<ViewerData> = {
    // The slow-viewer scan closes a viewer at the hard limit with a clear code; this is only the
    // backstop. Without closeOnBackpressureLimit Bun would silently drop fragments, breaking MSE.
    backpressureLimit: hard + Math.max(4 << 20, hard / 4),
    closeOnBackpressureLimit: true,
    maxPayloadLength: options.maxViewerMessageBytes,
    perMessageDeflate: false,
    idleTimeout: 120,
    sendPings: true,
    publishToSelf: false,
    open(ws) {
      ws.data.opened = true;
      const stream = registry.watch(ws.data.stream);
      stream.viewers++;
      counters.viewersTotal++;
      log.info("viewer-join", { stream: stream.name, remote: ws.data.remote, viewers: stream.viewers, live: stream.live });
      if (!fanout.join(ws, stream)) {
        log.warn("viewer-join-failed", { stream: stream.name, remote: ws.data.remote, reason: "send buffer full on join" });
        ws.close(1013, "send buffer full");
      }
    },
    message(ws, message) {
      // Viewers only send small control messages: a ping is answered, a report recorded, anything else ignored and counted.
      const reply = handleViewerMessage(message, ws.data, registry.get(ws.data.stream), ignoredReports(counters), Date.now());
      if (reply) ws.send(encodeServerMessage(reply));
    },
    close(ws, code, reason) {
      ws.data.slot.release();
      fanout.leave(ws);
      const stream = registry.get(ws.data.stream);
      if (stream) stream.viewers = Math.max(0, stream.viewers - 1);
      log.info("viewer-leave", {
        stream: ws.data.stream,
        remote: ws.data.remote,
        code,
        reason: reason || undefined,
        seconds: Math.round((Date.now() - ws.data.openedAt) / 100) / 10,
        viewers: stream?.viewers,
      });
      registry.prune(ws.data.stream);
    },
  };

  const server = Bun.serve<ViewerData>({
    hostname: options.httpHost,
    port: options.httpPort,
    // HTTP ingest bodies are endless streams: no size limit here, the parser caps each element.
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    fetch: (req, srv) => hono.fetch(req, srv),
    websocket,
    error(err) {
      log.warn("http-error", { message: err.message });
      return new Response("internal error\n", { status: 500 });
    },
  });
  fanout.attach(server);
  const scan = setInterval(() => fanout.scan((name) => registry.get(name)), SCAN_INTERVAL_MS);
  return {
    server,
    async stop() {
      clearInterval(scan);
      for (const ws of [...fanout.viewers()]) ws.close(CLOSE_GOING_AWAY, "server shutting down");
      await server.stop(true);
    },
  };
}
