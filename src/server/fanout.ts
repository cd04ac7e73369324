import type { Server, ServerWebSocket } from "bun";
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import { encodeServerMessage } from "../protocol/messages.ts";
import type { CachedFragment } from "../stream/gop-cache.ts";
import type { StreamSink } from "../stream/sink.ts";
import type { Stream } from "../stream/stream.ts";
import type { ReportingViewer } from "./viewer-reports.ts";
import type { ViewerSlot } from "./viewer-slots.ts";

/** Per-viewer data carried by Bun's ServerWebSocket. */
export interface ViewerData {
  stream: string;
  remote: string;
  openedAt: number;
  /** The viewer's place in the viewer limits, released when the socket closes. */
  slot: ViewerSlot;
  /** Set once the socket opened (until then a timer may release the slot of an upgrade that never opened). */
  opened?: boolean;
  /** Unsubscribed by the slow-viewer policy, waiting for the next keyframe fragment. */
  lagging?: boolean;
  /** Bytes of the join replay still allowed on top of the lag threshold (a fresh viewer drains its GOP). */
  grace?: number;
  /** The viewer's last accepted playback report (see viewer-reports.ts). */
  lastReport?: ReportingViewer["lastReport"];
}

type ViewerSocket = ServerWebSocket<ViewerData>;

/**
 * Slow-viewer policy (issue 4), under the config's names: a viewer queueing more than
 * `slowViewerLagSeconds` of the stream's bitrate (at least `slowViewerMinLagBytes`) skips to the next
 * keyframe; past `viewerBufferBytes` it is closed; all viewers together may queue `viewerTotalBufferBytes`.
 */
export type SlowViewerPolicy = Pick<
  Config,
  "slowViewerLagSeconds" | "slowViewerMinLagBytes" | "viewerBufferBytes" | "viewerTotalBufferBytes"
>;

/** Close code for a viewer that fell past the hard limit (4000-4999: application codes, RFC 6455 §7.4.2). */
const CLOSE_TOO_SLOW = 4002;
/** Close code when the server shuts down (RFC 6455 §7.4.1 "going away"). */
export const CLOSE_GOING_AWAY = 1001;

/** The pub/sub topic of a stream: one per stream, all viewers of it subscribe. */
function topicOf(stream: string): string {
  return `stream:${stream}`;
}

function streamMessage(stream: Stream): string | undefined {
  const d = stream.describe();
  return d ? encodeServerMessage({ type: "stream", ...d }) : undefined;
}

export interface Fanout extends StreamSink {
  /** Brings a new viewer up to date and subscribes it; false when a send was refused. */
  join(ws: ViewerSocket, stream: Stream): boolean;
  leave(ws: ViewerSocket): void;
  /** Applies the slow-viewer policy to every viewer once (the server runs it on a short timer). */
  scan(lookup: (name: string) => Stream | undefined): void;
  /** Every viewer socket (for shutdown). */
  viewers(): Iterable<ViewerSocket>;
  /** Gives the fan-out the server it publishes through (once, when the server is up). */
  attach(server: Server<ViewerData>): void;
}

/**
 * The WebSocket fan-out: a `StreamSink` that turns stream changes into one `server.publish` per
 * message and stream (Bun copies the payload to each subscriber natively; no JS loop over viewers on
 * the send path), plus the keyframe-aware slow-viewer policy: a viewer queueing more than the lag
 * threshold is unsubscribed and resubscribed just before the next keyframe fragment is published, so
 * it gets whole GOPs or skips whole GOPs, never a hole inside one.
 */
export function createFanout(policy: SlowViewerPolicy, log: Logger): Fanout {
  const byStream = new Map<string, Set<ViewerSocket>>();
  let server: Server<ViewerData> | undefined;
  const publish = (stream: Stream, data: string | Uint8Array) => {
    const srv = server;
    if (!srv) return; // not serving yet: nobody to tell
    const topic = topicOf(stream.name);
    srv.publish(topic, data, false);
    if (typeof data !== "string") stream.stats.bytesOut += data.byteLength * srv.subscriberCount(topic);
  };
  const threshold = (stream: Stream) => Math.max(policy.slowViewerMinLagBytes, (policy.slowViewerLagSeconds * stream.stats.bitrate) / 8);
  /** Resubscribes lagging viewers of `stream` (those that drained enough, or all of them). */
  const rejoin = (stream: Stream, all: boolean, notice: boolean) => {
    const limit = threshold(stream) / 2;
    for (const ws of byStream.get(stream.name) ?? []) {
      if (!ws.data.lagging || (!all && ws.getBufferedAmount() > limit)) continue;
      ws.data.lagging = false;
      if (notice) ws.send(encodeServerMessage({ type: "skip", stream: stream.name }));
      ws.subscribe(topicOf(stream.name));
    }
  };
  return {
    started(stream) {
      const msg = streamMessage(stream);
      if (!msg || !stream.init) return;
      rejoin(stream, true, false); // a new init: everyone starts over from it
      publish(stream, msg);
      publish(stream, stream.init.bytes);
    },
    fragment(stream, fragment: CachedFragment) {
      // Subscribe drained laggers before the keyframe fragment goes out, in the same tick.
      if (fragment.keyframe) rejoin(stream, false, true);
      publish(stream, fragment.bytes);
    },
    skipped(stream) {
      publish(stream, encodeServerMessage({ type: "skip", stream: stream.name }));
    },
    ended(stream, error) {
      rejoin(stream, true, false);
      if (error) publish(stream, encodeServerMessage({ type: "error", stream: stream.name, reason: error.reason, message: error.message }));
      publish(stream, encodeServerMessage({ type: "ended", stream: stream.name }));
    },
    /**
     * Must run synchronously from `open`: the `stream` message, the init segment and the GOP cache
     * are sent and only then is the socket subscribed, with no `await` in between, so the first live
     * fragment it gets is exactly the one after the cache.
     */
    join(ws, stream) {
      let set = byStream.get(stream.name);
      if (!set) {
        set = new Set();
        byStream.set(stream.name, set);
      }
      set.add(ws);
      const msg = streamMessage(stream);
      let ok = true;
      let sent = 0;
      if (msg && stream.init) {
        ok = ws.send(msg) !== 0 && ws.send(stream.init.bytes, false) !== 0;
        sent = stream.init.bytes.byteLength;
        for (const f of stream.gop.fragments) {
          if (!ok) break;
          ok = ws.send(f.bytes, false) !== 0;
          sent += f.bytes.byteLength;
        }
        stream.stats.bytesOut += sent;
      } else {
        ok = ws.send(encodeServerMessage({ type: "waiting", stream: stream.name })) !== 0;
      }
      ws.data.grace = sent;
      if (ok) ws.subscribe(topicOf(stream.name));
      return ok;
    },
    leave(ws) {
      const set = byStream.get(ws.data.stream);
      set?.delete(ws);
      if (set?.size === 0) byStream.delete(ws.data.stream);
    },
    scan(lookup) {
      let total = 0;
      const queues: Array<{ ws: ViewerSocket; queued: number; stream: Stream }> = [];
      const close = (ws: ViewerSocket, stream: Stream, queued: number, limit: number, why: string) => {
        byStream.get(ws.data.stream)?.delete(ws);
        stream.stats.viewerCloses++;
        log.warn("slow-viewer-closed", { stream: stream.name, remote: ws.data.remote, queued, limit, reason: why });
        ws.close(CLOSE_TOO_SLOW, `too slow: ${queued} bytes queued`);
      };
      for (const [name, set] of byStream) {
        const stream = lookup(name);
        if (!stream) continue;
        const lag = threshold(stream);
        for (const ws of set) {
          const queued = ws.getBufferedAmount();
          if (queued > policy.viewerBufferBytes) {
            close(ws, stream, queued, policy.viewerBufferBytes, "viewer-limit");
            continue;
          }
          total += queued;
          if (queued > 0) queues.push({ ws, queued, stream });
          const grace = ws.data.grace ?? 0;
          if (grace > 0 && queued <= lag) ws.data.grace = 0;
          if (!ws.data.lagging && queued > lag + grace) {
            ws.data.lagging = true;
            ws.unsubscribe(topicOf(name));
            stream.stats.viewerSkips++;
            log.info("slow-viewer-skip", { stream: name, remote: ws.data.remote, queued, threshold: Math.round(lag) });
          }
        }
      }
      // Many never-reading viewers together must not exhaust memory: close the longest queues first.
      if (total <= policy.viewerTotalBufferBytes) return;
      queues.sort((a, b) => b.queued - a.queued);
      for (const q of queues) {
        if (total <= policy.viewerTotalBufferBytes) break;
        close(q.ws, q.stream, q.queued, policy.viewerTotalBufferBytes, "server-budget");
        total -= q.queued;
      }
    },
    *viewers() {
      for (const set of byStream.values()) yield* set;
    },
    attach(s) {
      server = s;
    },
  };
}
