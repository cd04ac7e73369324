import type { Server, WebSocketHandler } from "bun";
import { type AppDeps, createApp } from "./app.ts";
import { createFanout, type ViewerData } from "./fanout.ts";

export interface HttpServerOptions {
  hostname: string;
  port: number;
  viewerBufferBytes: number;
  maxViewerMessageBytes: number;
}

/**
 * `Bun.serve` with the Hono app for HTTP and Bun's native WebSocket pub/sub for viewers. Returns the
 * server and the fan-out sink that publishers feed. `app` is everything the routes need but the sink.
 */
export function startHttpServer(options: HttpServerOptions, app: (sink: ReturnType<typeof createFanout>) => AppDeps) {
  let server: Server<ViewerData> | undefined;
  const fanout = createFanout(() => server!);
  const deps = app(fanout);
  const { registry, log, counters } = deps;
  const hono = createApp(deps);

  const websocket: WebSocketHandler<ViewerData> = {
    // Past this many queued bytes Bun would silently drop published fragments for the socket, which
    // breaks MSE decoding; closing it instead lets the player reconnect and resync at a keyframe.
    backpressureLimit: options.viewerBufferBytes,
    closeOnBackpressureLimit: true,
    maxPayloadLength: options.maxViewerMessageBytes,
    perMessageDeflate: false,
    idleTimeout: 120,
    sendPings: true,
    publishToSelf: false,
    open(ws) {
      const stream = registry.open(ws.data.stream);
      stream.viewers++;
      counters.viewersTotal++;
      log.info("viewer-join", { stream: stream.name, remote: ws.data.remote, viewers: stream.viewers, live: stream.live });
      if (!fanout.join(ws, stream)) {
        log.warn("viewer-join-failed", { stream: stream.name, remote: ws.data.remote, reason: "send buffer full on join" });
        ws.close(1013, "send buffer full");
      }
    },
    message(ws, message) {
      // Viewers only send small control messages; answer pings, ignore the rest.
      if (typeof message === "string" && message.includes('"ping"')) ws.send(JSON.stringify({ type: "pong", t: Date.now() }));
    },
    close(ws, code, reason) {
      const stream = registry.get(ws.data.stream);
      if (stream) stream.viewers = Math.max(0, stream.viewers - 1);
      log.info("viewer-leave", {
        stream: ws.data.stream, remote: ws.data.remote, code, reason: reason || undefined,
        seconds: Math.round((Date.now() - ws.data.openedAt) / 100) / 10, viewers: stream?.viewers,
      });
      registry.prune(ws.data.stream);
    },
  };

  server = Bun.serve<ViewerData>({
    hostname: options.hostname,
    port: options.port,
    // HTTP ingest bodies are endless streams: no size limit here, the parser caps each element.
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    fetch: (req, srv) => hono.fetch(req, srv),
    websocket,
    error(err) {
      log.warn("http-error", { message: err.message });
      return new Response("internal error\n", { status: 500 });
    },
  });
  return { server, fanout };
}
