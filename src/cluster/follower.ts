import type { InitEvent } from "../container/types.ts";
import type { Logger } from "../log.ts";
import type { StreamRegistry } from "../stream/registry.ts";
import type { StreamSink } from "../stream/sink.ts";
import { type FollowState, newFollowState, onEnded, onFragment, onLost, onStream } from "./follow-state.ts";
import { RETRY_CAP_MS, type RedisLink } from "./redis-link.ts";
import { type BusMessage, channelOf, decodeMessage, initKey, leaseKey, streamOfChannel } from "./wire.ts";

/**
 * The following side of the bus. A node follows a stream while it has viewers for it: it subscribes
 * to the stream's channel and, when another node publishes the stream, feeds an ordinary `Stream` of
 * the registry (owned by the publisher id `cluster:<node>`) from the bus with the same calls a local
 * publisher makes (`setInit`/`addFragment`/`release` and the sink's `started`/`fragment`/`ended`), so
 * viewers get exactly what a local stream gives them, GOP cache and slow-viewer policy included.
 *
 * - `follow` (before a viewer's socket opens) subscribes and reads the init key: a stream live
 *   elsewhere is announced to that viewer at once, and fed from the next keyframe fragment.
 * - Gaps and missed inits are handled by `follow-state.ts` (skip to the next keyframe with a `skip`).
 * - `check` (every quarter lease) ends a stream whose lease is gone or owned by another node, revives
 *   a followed stream that is live elsewhere but not here (a `stream` message missed during an
 *   outage), and stops following streams without viewers for `FOLLOW_IDLE_MS`.
 */
export interface Follower {
  /** Starts following `name` (bounded wait, never rejects). */
  follow(name: string): Promise<void>;
  /** A local publisher took `name` cluster-wide: stop feeding it from the bus. */
  yieldToLocal(name: string): void;
  /** The node feeding `name` here, when it is fed from the bus. */
  sourceOf(name: string): string | undefined;
  /** Run every quarter lease: lease checks, revivals, unfollowing idle streams. */
  check(): Promise<void>;
  /** Subscribes every followed channel again and resyncs (Redis came back). */
  resubscribe(): void;
  readonly followed: number;
}

export interface FollowerDeps {
  link: RedisLink;
  nodeId: string;
  registry: StreamRegistry;
  /** The fan-out (not the bus sink: what arrives from the bus is not published again). */
  sink: StreamSink;
  /** Sends a text message to every viewer of a stream (the `skip` notice). */
  notify(name: string, text: string): void;
  log: Logger;
  leaseMs: number;
}

/** A stream nobody watched for this long is no longer followed. */
const FOLLOW_IDLE_MS = 5000;
/** Most streams followed at once (each is a subscription). */
const MAX_FOLLOWED = 4096;
/** Longest a viewer's connection waits for the subscription and init key. */
const FOLLOW_WAIT_MS = 1000;

interface Followed {
  state: FollowState;
  /** The registry publisher id while fed from the bus. */
  claim?: string;
  lastWatched: number;
  ready: Promise<void>;
  /** An init-key read is in flight (one at a time). */
  fetching: boolean;
}

const within = <T>(p: Promise<T>, ms: number): Promise<T | undefined> =>
  Promise.race([p, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms))]);

export function createFollower(d: FollowerDeps): Follower {
  const { link, nodeId, registry, sink, log } = d;
  const followed = new Map<string, Followed>();
  const checkMs = d.leaseMs / 4;
  let full = false;

  const start = (name: string, f: Followed, m: Extract<BusMessage, { type: "stream" }>, fromKey: boolean) => {
    const stream = registry.open(name);
    const claim = `cluster:${m.node}`;
    if (stream.publisher !== undefined && stream.publisher !== f.claim) return; // published here: the lease decides
    if (onStream(f.state, m, fromKey) === "ignore") return;
    if (f.claim && f.claim !== claim && stream.release(f.claim)) sink.ended(stream);
    if (stream.publisher === undefined) stream.claim(claim, Date.now());
    f.claim = claim;
    const init: InitEvent = { type: "init", format: m.info.format, mime: m.info.mime, tracks: m.info.tracks, bytes: m.init.slice() };
    stream.setInit(init);
    log.info("cluster-stream-live", { stream: name, node: m.node, mime: init.mime, from: fromKey ? "init-key" : "bus" });
    sink.started(stream);
  };
  const end = (name: string, f: Followed, why: string, error?: { reason: string; message: string }) => {
    const claim = f.claim;
    const source = f.state.source;
    onLost(f.state);
    f.claim = undefined;
    const stream = registry.get(name);
    if (!claim || !stream?.release(claim)) return;
    log.info("cluster-stream-ended", { stream: name, node: source ?? claim.slice(8), reason: why });
    sink.ended(stream, error);
    registry.prune(name);
  };
  /** Reads lease + init key; starts the stream when another node holds the lease and its init is there. */
  const revive = async (name: string, f: Followed) => {
    if (f.fetching || link.cmd.status !== "ready") return;
    f.fetching = true;
    try {
      const [owner, raw] = (await link.cmd.mgetBuffer(leaseKey(name), initKey(name))) as Array<Buffer | null>;
      if (followed.get(name) !== f || !owner || !raw) return;
      const m = decodeMessage(raw);
      if (m?.type !== "stream" || m.node !== owner.toString() || m.node === nodeId) return;
      if (f.state.source !== undefined && f.state.source === m.node && f.state.initSeq !== m.initSeq) {
        // A new init of the same publisher was missed: a restart for viewers.
        end(name, f, "missed-init");
      }
      start(name, f, m, true);
    } catch {
      // Redis unreachable: the next check tries again.
    } finally {
      f.fetching = false;
    }
  };

  const onMessage = (channel: Buffer, raw: Buffer) => {
    const name = streamOfChannel(channel.toString());
    const f = name === undefined ? undefined : followed.get(name);
    if (!f || name === undefined) return;
    const m = decodeMessage(raw);
    if (!m || m.node === nodeId) return;
    if (m.type === "stream") return start(name, f, m, false);
    if (m.type === "ended") {
      if (onEnded(f.state, m) === "end") end(name, f, "publisher-ended", m.error);
      return;
    }
    const verdict = onFragment(f.state, m);
    if (verdict === "need-init") return void revive(name, f);
    if (verdict === "ignore" || verdict === "drop") return;
    const stream = registry.get(name);
    if (!stream || stream.publisher !== f.claim) return;
    if (verdict === "skip-then-deliver") {
      log.info("cluster-resync", { stream: name, node: m.node, seq: m.seq });
      d.notify(name, JSON.stringify({ type: "skip", stream: name }));
    }
    // A copy: the message buffer belongs to the Redis client's reader.
    const cached = stream.addFragment({ type: "fragment", bytes: m.bytes.slice(), keyframe: m.keyframe, decodeTime: m.decodeTime, timescale: m.timescale || 1 }, Date.now());
    sink.fragment(stream, cached);
  };
  link.sub.on("messageBuffer", onMessage);

  /**
   * Ends `name` when its lease is held by another node, or gone (not right after Redis came back: the
   * publisher may not have re-asserted it yet). A lease about to expire is looked at again right after
   * its expiry (`recheck`), so a crashed publisher's stream ends within the lease time, not a check later.
   */
  const verifyLease = async (name: string, f: Followed, recheck: boolean) => {
    const source = f.state.source;
    const r = await link.cmd.multi().get(leaseKey(name)).pttl(leaseKey(name)).exec().catch(() => null);
    const owner = r?.[0]?.[1] as string | null | undefined;
    const ttl = r?.[1]?.[1] as number | undefined;
    if (owner === undefined || followed.get(name) !== f || f.state.source !== source) return; // unknown, or changed meanwhile
    if (owner !== null && owner !== source) return end(name, f, "lease-moved");
    if (owner === null) {
      if (Date.now() - link.recoveredAt > d.leaseMs + RETRY_CAP_MS) end(name, f, "lease-expired");
      return;
    }
    if (recheck && ttl !== undefined && ttl >= 0 && ttl < checkMs) setTimeout(() => void verifyLease(name, f, false), ttl + 20);
  };

  const unfollow = (name: string, f: Followed) => {
    end(name, f, "no-viewers");
    followed.delete(name);
    full = false;
    link.sub.unsubscribe(channelOf(name)).catch(() => {});
    registry.prune(name);
  };

  return {
    follow(name) {
      const existing = followed.get(name);
      if (existing) {
        existing.lastWatched = Date.now();
        return within(existing.ready, FOLLOW_WAIT_MS).then(() => {});
      }
      if (followed.size >= MAX_FOLLOWED) {
        if (!full) log.warn("cluster-follow-limit", { stream: name, limit: MAX_FOLLOWED, message: "stream served from this node only" });
        full = true;
        return Promise.resolve();
      }
      const f: Followed = { state: newFollowState(), lastWatched: Date.now(), ready: Promise.resolve(), fetching: false };
      followed.set(name, f);
      f.ready = (async () => {
        if (link.sub.status !== "ready") return; // resubscribed when Redis is back
        await link.sub.subscribe(channelOf(name));
        await revive(name, f);
      })().catch(() => {});
      return within(f.ready, FOLLOW_WAIT_MS).then(() => {});
    },
    yieldToLocal(name) {
      const f = followed.get(name);
      if (f?.claim) end(name, f, "published-here");
    },
    sourceOf: (name) => followed.get(name)?.state.source,
    async check() {
      const now = Date.now();
      await Promise.all(
        [...followed].map(async ([name, f]) => {
          const stream = registry.get(name);
          if ((stream?.viewers ?? 0) > 0) f.lastWatched = now;
          else if (now - f.lastWatched > FOLLOW_IDLE_MS) return unfollow(name, f);
          if (f.state.source !== undefined) return verifyLease(name, f, true);
          if (stream?.publisher === undefined) await revive(name, f);
        }),
      );
    },
    resubscribe() {
      if (followed.size === 0) return;
      link.sub.subscribe(...[...followed.keys()].map(channelOf)).then(
        () => Promise.all([...followed].map(([name, f]) => (f.state.source === undefined ? revive(name, f) : undefined))),
        () => {},
      );
    },
    get followed() {
      return followed.size;
    },
  };
}
