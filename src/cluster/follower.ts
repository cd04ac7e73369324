import type { InitEvent } from "../container/types.ts";
import type { Logger } from "../log.ts";
import type { StreamRegistry } from "../stream/registry.ts";
import type { StreamSink } from "../stream/sink.ts";
import { type FollowState, newFollowState, onEnded, onFragment, onLost, onStream } from "./follow-state.ts";
import { createFollowTable, type TableEntry } from "./follow-table.ts";
import { firstTime, type Guard } from "./guard.ts";
import { RETRY_CAP_MS, type RedisLink } from "./redis-link.ts";
import { type BusMessage, channelOf, initKey, leaseKey, readMessage, streamOfChannel } from "./wire.ts";

/**
 * The following side of the bus. A node follows a stream while it has viewers for it: it subscribes
 * to the stream's channel and, when another node publishes the stream, feeds an ordinary `Stream` of
 * the registry (owned by the publisher id `cluster:<node>`) from the bus with the same calls a local
 * publisher makes (`setInit`/`addFragment`/`release` and the sink's `started`/`fragment`/`ended`), so
 * viewers get exactly what a local stream gives them, GOP cache and slow-viewer policy included.
 *
 * - `follow` (before an admitted viewer's socket opens) subscribes and reads the init key: a stream
 *   live elsewhere is announced to that viewer at once, and fed from the next keyframe fragment.
 * - Gaps and missed inits are handled by `follow-state.ts` (skip to the next keyframe with a `skip`).
 * - Malformed bus messages and init keys (the rules of wire.ts) are dropped, counted (`rejected`) and
 *   logged once per stream (`cluster-bus-rejected`); nothing thrown while handling a message escapes
 *   the Redis client's event (guard.ts).
 * - The follow table is bounded (`maxFollowed`, rules in follow-table.ts): when it is full, the entry
 *   without viewers on this node watched longest ago is unfollowed to make room (`evicted`), so only
 *   a table full of watched streams refuses a follow (logged at most once per `LIMIT_LOG_MS`). A stream
 *   refused, or evicted before its viewer's socket could open, is followed at the next check if it has
 *   viewers by then.
 * - `check` (every quarter lease) ends a stream whose lease is gone or owned by another node, revives
 *   a followed stream that is live elsewhere but not here (a `stream` message missed during an
 *   outage), and unfollows entries without viewers: `UNWATCHED_MS` after the last `follow` call when
 *   no viewer socket was ever seen on it, `FOLLOW_IDLE_MS` after its viewers left otherwise.
 */
export interface Follower {
  /** Starts following `name` (bounded wait, never rejects). */
  follow(name: string): Promise<void>;
  /** A local publisher took `name` cluster-wide: stop feeding it from the bus. */
  yieldToLocal(name: string): void;
  /** The node feeding `name` here, when it is fed from the bus. */
  sourceOf(name: string): string | undefined;
  /** Run every quarter lease: lease checks, revivals, unfollowing idle streams. Never rejects. */
  check(): Promise<void>;
  /** Subscribes every followed channel again and resyncs (Redis came back). */
  resubscribe(): void;
  readonly followed: number;
  /** Malformed bus messages and init keys dropped so far. */
  readonly rejected: number;
  /** Follows ended to make room in a full table. */
  readonly evicted: number;
}

export interface FollowerDeps {
  link: RedisLink;
  nodeId: string;
  registry: StreamRegistry;
  /** The fan-out (not the bus sink: what arrives from the bus is not published again). */
  sink: StreamSink;
  log: Logger;
  guard: Guard;
  leaseMs: number;
  /** Most streams followed at once; `MAX_FOLLOWED` unless given (tests lower it). */
  maxFollowed?: number;
}

/** A stream whose viewers left this long ago is no longer followed. */
const FOLLOW_IDLE_MS = 5000;
/** A followed stream no viewer socket was seen on is dropped at the first check this long after its last follow. */
const UNWATCHED_MS = 3000;
/** Most streams followed at once (each is a subscription). */
const MAX_FOLLOWED = 4096;
/** Longest a viewer's connection waits for the subscription and init key. */
const FOLLOW_WAIT_MS = 1000;
/** An entry followed this recently may still get its viewer's socket: if evicted, it is remembered. */
const PENDING_MS = FOLLOW_WAIT_MS + 1000;
/** At most one log line per this interval about a full follow table. */
const LIMIT_LOG_MS = 10_000;
/** Most streams whose malformed messages are logged (each once); past that they are only counted. */
const MAX_REJECT_LOGS = 256;

interface Followed extends TableEntry {
  state: FollowState;
  /** The registry publisher id while fed from the bus. */
  claim?: string;
  ready: Promise<void>;
  /** An init-key read is in flight (one at a time). */
  fetching: boolean;
}

type StreamMessage = Extract<BusMessage, { type: "stream" }>;

const within = <T>(p: Promise<T>, ms: number): Promise<T | undefined> =>
  Promise.race([p, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms))]);

export function createFollower(d: FollowerDeps): Follower {
  const { link, nodeId, registry, sink, log, guard } = d;
  const maxFollowed = d.maxFollowed ?? MAX_FOLLOWED;
  const followed = createFollowTable<Followed>(
    { max: maxFollowed, idleMs: FOLLOW_IDLE_MS, unwatchedMs: UNWATCHED_MS },
    (name) => registry.get(name)?.viewers ?? 0,
  );
  const checkMs = d.leaseMs / 4;
  let rejected = 0;
  let evicted = 0;
  let lastLimitLog = 0;
  const firstReject = firstTime(MAX_REJECT_LOGS);

  const reject = (name: string, reason: string, from: "bus" | "init-key") => {
    rejected++;
    if (!firstReject(name)) return;
    log.warn("cluster-bus-rejected", {
      stream: name,
      reason,
      from,
      rejected,
      message: "malformed message from Redis dropped; further ones for this stream are only counted (/healthz busRejected)",
    });
  };

  const start = (name: string, f: Followed, m: StreamMessage, fromKey: boolean) => {
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
  /** Reads lease + init key; starts the stream when another node holds the lease and its init is there. Never rejects. */
  const revive = (name: string, f: Followed): Promise<void> =>
    guard
      .settle("init-key", name, async () => {
        if (f.fetching || link.cmd.status !== "ready") return;
        f.fetching = true;
        let reply: Array<Buffer | null>;
        try {
          reply = (await link.cmd.mgetBuffer(leaseKey(name), initKey(name))) as Array<Buffer | null>;
        } catch {
          return; // Redis unreachable: the next check tries again.
        } finally {
          f.fetching = false;
        }
        const [owner, raw] = reply;
        if (followed.get(name) !== f || !owner || !raw) return;
        const r = readMessage(raw);
        if (!r.ok) return reject(name, r.reason, "init-key");
        const m = r.message;
        if (m.type !== "stream") return reject(name, "not-a-stream-message", "init-key");
        if (m.node !== owner.toString() || m.node === nodeId) return;
        if (f.state.source !== undefined && f.state.source === m.node && f.state.initSeq !== m.initSeq) {
          // A new init of the same publisher was missed: a restart for viewers.
          end(name, f, "missed-init");
        }
        start(name, f, m, true);
      })
      .then(() => {});

  const onMessage = (name: string, f: Followed, raw: Uint8Array) => {
    const r = readMessage(raw);
    if (!r.ok) return reject(name, r.reason, "bus");
    const m = r.message;
    if (m.node === nodeId) return;
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
      sink.skipped(stream);
    }
    // A copy: the message buffer belongs to the Redis client's reader. The bus carries the facts the
    // stream state uses; the player inspects the bytes itself for the rest.
    const { keyframe, decodeTime, timescale } = m;
    const fragment = {
      type: "fragment",
      bytes: m.bytes.slice(),
      keyframe,
      syncPoint: keyframe,
      decodeTime,
      timescale,
      start: decodeTime / timescale,
    } as const;
    const cached = stream.addFragment(fragment, Date.now());
    sink.fragment(stream, cached);
  };
  // Nothing thrown here may reach the Redis client's event emitter: that would end the process.
  link.sub.on("messageBuffer", (channel: Buffer, raw: Buffer) => {
    guard.run("bus-message", undefined, () => {
      const name = streamOfChannel(channel.toString());
      const f = name === undefined ? undefined : followed.get(name);
      if (f && name !== undefined) guard.run("bus-message", name, () => onMessage(name, f, raw));
    });
  });

  /**
   * Ends `name` when its lease is held by another node, or gone (not right after Redis came back: the
   * publisher may not have re-asserted it yet). A lease about to expire is looked at again right after
   * its expiry (`recheck`), so a crashed publisher's stream ends within the lease time, not a check later.
   * Never rejects.
   */
  const verifyLease = (name: string, f: Followed, recheck: boolean): Promise<void> =>
    guard
      .settle("lease-check", name, async () => {
        const source = f.state.source;
        const r = await link.cmd
          .multi()
          .get(leaseKey(name))
          .pttl(leaseKey(name))
          .exec()
          .catch(() => null);
        const owner = r?.[0]?.[1] as string | null | undefined;
        const ttl = r?.[1]?.[1] as number | undefined;
        if (owner === undefined || followed.get(name) !== f || f.state.source !== source) return; // unknown, or changed meanwhile
        if (owner !== null && owner !== source) return end(name, f, "lease-moved");
        if (owner === null) {
          if (Date.now() - link.recoveredAt > d.leaseMs + RETRY_CAP_MS) end(name, f, "lease-expired");
          return;
        }
        if (recheck && typeof ttl === "number" && ttl >= 0 && ttl < checkMs) setTimeout(() => void verifyLease(name, f, false), ttl + 20);
      })
      .then(() => {});

  const unfollow = (name: string, f: Followed, why: string) => {
    end(name, f, why);
    followed.delete(name);
    link.sub.unsubscribe(channelOf(name)).catch(() => {});
    registry.prune(name);
  };
  /** Unfollows the least recently watched entry that has no viewers here; false when every entry has viewers. */
  const makeRoom = (forName: string, now: number): boolean => {
    const victim = followed.victim();
    if (!victim) return false;
    const [name, f] = victim;
    // Its viewer's socket may not be open yet: if it opens, the next check follows the stream again.
    if (now - f.lastWatched < PENDING_MS) followed.remember(name);
    unfollow(name, f, "evicted");
    evicted++;
    if (now - lastLimitLog >= LIMIT_LOG_MS) {
      lastLimitLog = now;
      log.warn("cluster-follow-table-full", {
        stream: forName,
        limit: maxFollowed,
        unfollowed: name,
        evicted,
        message: "unfollowing streams without viewers on this node to make room",
      });
    }
    return true;
  };

  const follow = (name: string): Promise<void> => {
    const now = Date.now();
    const existing = followed.get(name);
    if (existing) {
      followed.touch(name, existing, now);
      return within(existing.ready, FOLLOW_WAIT_MS).then(() => {});
    }
    if (followed.full && !makeRoom(name, now)) {
      followed.remember(name);
      if (now - lastLimitLog >= LIMIT_LOG_MS) {
        lastLimitLog = now;
        log.warn("cluster-follow-limit", {
          stream: name,
          limit: maxFollowed,
          message: "every followed stream has viewers here: this one is served from this node only until one is free",
        });
      }
      return Promise.resolve();
    }
    const f: Followed = { state: newFollowState(), lastWatched: now, watched: false, ready: Promise.resolve(), fetching: false };
    followed.add(name, f, now);
    f.ready = (async () => {
      if (link.sub.status !== "ready") return; // resubscribed when Redis is back
      await link.sub.subscribe(channelOf(name));
      await revive(name, f);
    })().catch(() => {});
    return within(f.ready, FOLLOW_WAIT_MS).then(() => {});
  };

  return {
    follow: (name) => guard.run("follow", name, () => follow(name)) ?? Promise.resolve(),
    yieldToLocal(name) {
      const f = followed.get(name);
      if (f?.claim) end(name, f, "published-here");
    },
    sourceOf: (name) => followed.get(name)?.state.source,
    async check() {
      const now = Date.now();
      const jobs: Array<Promise<unknown>> = [];
      for (const [name, f] of followed.entries()) {
        guard.run("follow-check", name, () => {
          if (followed.get(name) !== f) return;
          if (followed.idle(name, f, now)) return unfollow(name, f, "no-viewers");
          const stream = registry.get(name);
          if (f.state.source !== undefined) jobs.push(verifyLease(name, f, true));
          else if (stream?.publisher === undefined) jobs.push(revive(name, f));
        });
      }
      // Streams refused or evicted too early that have viewers now.
      for (const name of followed.takeDisplaced()) {
        const stream = registry.get(name);
        if (!followed.get(name) && stream && stream.viewers > 0 && stream.publisher === undefined)
          jobs.push(guard.settle("follow", name, () => follow(name)));
      }
      await Promise.all(jobs);
    },
    resubscribe() {
      if (followed.size === 0) return;
      void guard.settle("resubscribe", undefined, async () => {
        try {
          await link.sub.subscribe(...followed.entries().map(([name]) => channelOf(name)));
        } catch {
          return; // Redis went away again: the next "up" resubscribes
        }
        await Promise.all(followed.entries().map(([name, f]) => (f.state.source === undefined ? revive(name, f) : undefined)));
      });
    },
    get followed() {
      return followed.size;
    },
    get rejected() {
      return rejected;
    },
    get evicted() {
      return evicted;
    },
  };
}
