import type { Server, ServerWebSocket } from "bun";
import type { CachedFragment } from "../stream/gop-cache.ts";
import type { StreamSink } from "../stream/sink.ts";
import type { Stream } from "../stream/stream.ts";

/** Per-viewer data carried by Bun's ServerWebSocket. */
export interface ViewerData {
  stream: string;
  remote: string;
  openedAt: number;
}

export type ViewerSocket = ServerWebSocket<ViewerData>;

/** The pub/sub topic of a stream: one per stream, all viewers of it subscribe. */
export function topicOf(stream: string): string {
  return `stream:${stream}`;
}

export function streamMessage(stream: Stream): string | undefined {
  const d = stream.describe();
  return d ? JSON.stringify({ type: "stream", ...d }) : undefined;
}

/**
 * The WebSocket fan-out: a `StreamSink` that turns stream changes into one `server.publish` per
 * message and stream (Bun copies the payload once per subscriber natively; no JS loop over viewers),
 * plus `join`, which brings a new viewer up to date and subscribes it without a gap.
 */
export function createFanout(server: () => Server<ViewerData>): StreamSink & { join(ws: ViewerSocket, stream: Stream): boolean } {
  const publish = (stream: Stream, data: string | Uint8Array) => {
    const srv = server();
    const topic = topicOf(stream.name);
    srv.publish(topic, data, false);
    if (typeof data !== "string") stream.stats.bytesOut += data.byteLength * srv.subscriberCount(topic);
  };
  return {
    started(stream) {
      const msg = streamMessage(stream);
      if (!msg || !stream.init) return;
      publish(stream, msg);
      publish(stream, stream.init.bytes);
    },
    fragment(stream, fragment: CachedFragment) {
      publish(stream, fragment.bytes);
    },
    ended(stream, error) {
      if (error) publish(stream, JSON.stringify({ type: "error", stream: stream.name, reason: error.reason, message: error.message }));
      publish(stream, JSON.stringify({ type: "ended", stream: stream.name }));
    },
    /**
     * Must run synchronously from `open`: the `stream` message, the init segment and the GOP cache
     * are sent and only then is the socket subscribed, with no `await` in between, so the first live
     * fragment it gets is exactly the one after the cache. Returns false when a send was refused
     * (the socket is then being closed by the backpressure limit).
     */
    join(ws, stream) {
      const msg = streamMessage(stream);
      let ok = true;
      let sent = 0;
      if (msg && stream.init) {
        ok = ws.send(msg) !== 0 && ws.send(stream.init.bytes, false) !== 0;
        for (const f of stream.gop.fragments) {
          if (!ok) break;
          ok = ws.send(f.bytes, false) !== 0;
          sent += f.bytes.byteLength;
        }
        stream.stats.bytesOut += stream.init.bytes.byteLength + sent;
      } else {
        ok = ws.send(JSON.stringify({ type: "waiting", stream: stream.name })) !== 0;
      }
      if (ok) ws.subscribe(topicOf(stream.name));
      return ok;
    },
  };
}
