import type { Logger } from "../log.ts";
import { streamJson } from "../server/stream-json.ts";
import type { CachedFragment } from "../stream/gop-cache.ts";
import type { StreamSink } from "../stream/sink.ts";
import type { Stream } from "../stream/stream.ts";
import type { Guard } from "./guard.ts";
import type { Leases, RenewOutcome } from "./leases.ts";
import type { RedisLink } from "./redis-link.ts";
import { type BusMessage, channelOf, encodeMessage, infoKey, initKey, readMessage } from "./wire.ts";
import { wireError, wireTracks } from "./wire-fields.ts";

/**
 * The publishing side of the bus: a `StreamSink` in front of the fan-out that also publishes every
 * event of a locally published stream to its Redis channel, and keeps the stream's init key (the last
 * `stream` message) and info key (JSON for `/api/streams`) with the lease's TTL.
 *
 * Publishers never wait for Redis: PUBLISH is fire-and-forget, skipped while Redis is unreachable,
 * and skipped when more than `INFLIGHT_CAP_BYTES` are unanswered (a slow Redis); a skipped message
 * still takes its bus sequence number, so followers see the gap and resync at a keyframe. Failures
 * are counted, and logged at most once per `FAILURE_LOG_MS` while Redis is otherwise up.
 *
 * What is sent follows the bus rules of wire.ts: optional track numbers that are not finite and >= 0
 * are left out, a fragment's decode time is sent as >= 0 and its timescale as >= 1, an `ended` error is
 * cut to the bounds. A stream whose description still breaks the rules (e.g. a codec id with control
 * characters) is not relayed (logged once). The fan-out (`inner`) is always called first; the bus
 * part runs inside the guard, so a fault there never reaches the publisher.
 */
export interface BusOut {
  wrap(inner: StreamSink): StreamSink;
  /** After a lease renewal: refresh the stream's keys, and resync followers when the lease was regained. */
  renewed(name: string, outcome: RenewOutcome): void;
  readonly published: number;
  readonly failures: number;
}

const INFLIGHT_CAP_BYTES = 8 * 1024 * 1024;
const FAILURE_LOG_MS = 10_000;

interface Outgoing {
  stream: Stream;
  seq: number;
  initSeq: number;
  /** The current `stream` message (also the init key's value). */
  streamMsg?: Uint8Array;
  /** Followers were not fed (lease conflict): send `stream` again before the next keyframe fragment. */
  resync: boolean;
  /** The current init breaks the bus rules: nothing of it is sent. */
  unrelayable: boolean;
}

const buf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/** A fragment's decode time and timescale as the bus takes them (finite, >= 0; >= 1, u32). */
const wireTime = (f: CachedFragment) => ({
  decodeTime: Number.isFinite(f.decodeTime) && f.decodeTime! > 0 ? f.decodeTime! : 0,
  timescale: Number.isFinite(f.timescale) && f.timescale! >= 1 ? Math.min(Math.floor(f.timescale!), 0xffffffff) : 1,
});

export function createBusOut(link: RedisLink, nodeId: string, leases: Leases, leaseMs: number, log: Logger, guard: Guard): BusOut {
  const out = new Map<string, Outgoing>();
  let inflight = 0;
  let published = 0;
  let failures = 0;
  let lastFailureLog = 0;
  const failed = (name: string, error: string) => {
    failures++;
    const now = Date.now();
    if (!link.up || now - lastFailureLog < FAILURE_LOG_MS) return; // an outage is logged once by the link
    lastFailureLog = now;
    log.warn("cluster-publish-failed", { stream: name, node: nodeId, failures, error });
  };
  const send = (name: string, m: BusMessage) => {
    if (link.cmd.status !== "ready") return failed(name, "redis not connected");
    const bytes = encodeMessage(m);
    if (inflight + bytes.byteLength > INFLIGHT_CAP_BYTES) return failed(name, `more than ${INFLIGHT_CAP_BYTES} bytes unanswered by Redis`);
    inflight += bytes.byteLength;
    link.cmd.publish(channelOf(name), buf(bytes)).then(
      () => {
        inflight -= bytes.byteLength;
        published++;
      },
      (e: Error) => {
        inflight -= bytes.byteLength;
        failed(name, e.message);
      },
    );
  };
  const storeKeys = (name: string, o: Outgoing) => {
    if (link.cmd.status !== "ready") return;
    if (o.streamMsg) link.cmd.set(initKey(name), buf(o.streamMsg), "PX", leaseMs).catch(() => {});
    const info = JSON.stringify({ ...streamJson(o.stream), node: nodeId, updatedAt: Date.now() });
    link.cmd.set(infoKey(name), info, "PX", leaseMs).catch(() => {});
  };
  const announce = (name: string, o: Outgoing) => {
    const init = o.stream.init;
    if (!init) return;
    o.seq = (o.seq + 1) >>> 0;
    o.initSeq = o.seq;
    o.resync = false;
    const m: BusMessage = {
      type: "stream",
      node: nodeId,
      seq: o.seq,
      initSeq: o.initSeq,
      info: { format: init.format, mime: init.mime, tracks: wireTracks(init.tracks) },
      init: init.bytes,
    };
    const bytes = encodeMessage(m);
    const check = readMessage(bytes);
    o.unrelayable = !check.ok;
    if (!check.ok) {
      // Followers fed with an earlier init of this publisher must not wait for fragments that will not come.
      if (o.streamMsg) {
        send(name, { type: "ended", node: nodeId, seq: o.seq, initSeq: o.initSeq });
        if (link.cmd.status === "ready") link.cmd.del(initKey(name), infoKey(name)).catch(() => {});
      }
      o.streamMsg = undefined;
      log.warn("cluster-stream-not-relayed", {
        stream: name,
        node: nodeId,
        reason: check.reason,
        message: "the stream description breaks the cluster bus rules: served on this node only",
      });
      return;
    }
    o.streamMsg = bytes;
    send(name, m);
    storeKeys(name, o);
  };
  const blocked = (name: string) => leases.state(name) === "conflict";
  const fragment = (stream: Stream, f: CachedFragment) => {
    const o = out.get(stream.name);
    if (!o) return;
    if (blocked(stream.name)) {
      o.resync = true;
      o.seq = (o.seq + 1) >>> 0;
      return;
    }
    if (o.resync) {
      if (!f.keyframe) return;
      announce(stream.name, o);
    }
    if (o.unrelayable) return;
    o.seq = (o.seq + 1) >>> 0;
    send(stream.name, {
      type: "fragment",
      node: nodeId,
      seq: o.seq,
      initSeq: o.initSeq,
      keyframe: f.keyframe,
      ...wireTime(f),
      bytes: f.bytes,
    });
  };
  return {
    wrap: (inner) => ({
      started(stream) {
        inner.started(stream);
        guard.run("bus-out", stream.name, () => {
          let o = out.get(stream.name);
          // A random first sequence per publisher session: (node, init sequence) then names the session.
          if (!o) {
            o = { stream, seq: (Math.random() * 2 ** 32) >>> 0, initSeq: 0, resync: false, unrelayable: false };
            out.set(stream.name, o);
          }
          o.stream = stream;
          if (blocked(stream.name)) o.resync = true;
          else announce(stream.name, o);
        });
      },
      fragment(stream, f: CachedFragment) {
        inner.fragment(stream, f);
        guard.run("bus-out", stream.name, () => fragment(stream, f));
      },
      skipped(stream) {
        inner.skipped(stream);
      },
      ended(stream, error) {
        inner.ended(stream, error);
        guard.run("bus-out", stream.name, () => {
          const o = out.get(stream.name);
          if (!o) return;
          out.delete(stream.name);
          o.seq = (o.seq + 1) >>> 0;
          if (!blocked(stream.name) && !o.unrelayable)
            send(stream.name, { type: "ended", node: nodeId, seq: o.seq, initSeq: o.initSeq, error: error && wireError(error) });
        });
      },
    }),
    renewed(name, outcome) {
      const o = out.get(name);
      if (!o) return;
      if (outcome === "conflict") o.resync = true;
      else if (outcome === "renewed" || outcome === "asserted") {
        if (!o.resync) storeKeys(name, o); // a resyncing stream stores its keys when it announces at the next keyframe
      }
    },
    get published() {
      return published;
    },
    get failures() {
      return failures;
    },
  };
}
