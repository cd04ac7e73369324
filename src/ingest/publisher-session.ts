import { createSniffingParser, ParseError, type ParserEvent, type ParserOptions } from "../container/index.ts";
import type { Logger } from "../log.ts";
import type { StreamRegistry } from "../stream/registry.ts";
import type { ServerCounters } from "../stream/server-counters.ts";
import type { StreamSink } from "../stream/sink.ts";
import type { Stream } from "../stream/stream.ts";

export interface SessionDeps {
  registry: StreamRegistry;
  sink: StreamSink;
  log: Logger;
  counters: ServerCounters;
  parser: ParserOptions;
  /** Most streams with a publisher at once. */
  maxPublishers: number;
  /** A new publisher for a live stream replaces the old one instead of being refused. */
  takeover: boolean;
  /** Live sessions by stream name (one shared map per server), with the transport's way to drop each. */
  sessions: Map<string, ActiveSession>;
  /** Cluster mode only: claims a stream cluster-wide before its publisher's bytes go out. */
  cluster?: ClusterClaims;
}

/** A stream claimed cluster-wide for one local publisher; released exactly once when the session ends. */
export interface ClusterLease {
  release(): void;
}

/**
 * Cluster-wide one-publisher-per-stream (implemented by src/cluster). `acquire` resolves with a lease,
 * or with a refusal when another node publishes `name`; it never rejects (Redis trouble = a local lease).
 */
export interface ClusterClaims {
  acquire(name: string, remote: string): Promise<ClusterLease | Refusal>;
}

export interface ActiveSession {
  session: PublisherSession;
  disconnect: () => void;
}

/**
 * One publisher connection feeding one stream, whatever the transport (TCP or HTTP body): bytes go
 * through a sniffing container parser into the stream state and out to the sink as they complete.
 */
export interface PublisherSession {
  readonly stream: Stream;
  /** Feeds received bytes. Returns false once the session has failed: the caller closes the connection. */
  push(chunk: Uint8Array): boolean;
  /** The connection is gone (or is being closed for `why`): flush, release the stream, tell viewers. */
  close(why?: SessionError): void;
  /** Whether the session is over. */
  readonly closed: boolean;
  /** Why it failed, once it has. */
  readonly error: SessionError | undefined;
}

/** Why a session ended badly: a parser reason or a transport one such as `idle-timeout`. */
export interface SessionError {
  reason: string;
  message: string;
}

/** A refusal: the stream is taken or the publisher limit is reached (already logged and counted). */
export interface Refusal {
  refused: "stream-busy" | "stream-busy-in-cluster" | "too-many-publishers";
  message: string;
}

/** Session endings that are not the publisher's fault: viewers get a plain `ended`, no `error`. */
const ORDERLY = new Set(["shutdown", "taken-over"]);

/** Logs and counts a refused publisher: the one place every transport reports refusals through. */
export function reportRefusal(deps: Pick<SessionDeps, "log" | "counters">, stream: string, remote: string, reason: string, message: string): void {
  deps.log.warn("publisher-refused", { stream, remote, reason, message });
  deps.counters.reject("ingest", reason);
}

let nextId = 0;

/**
 * `openPublisherSession`, after claiming the stream cluster-wide when `deps.cluster` is set (then the
 * result is a promise: the transport holds the publisher's first bytes until it settles). Without
 * cluster mode the result is immediate, exactly as `openPublisherSession`.
 */
export function admitPublisher(name: string, remote: string, deps: SessionDeps, disconnect: () => void): PublisherSession | Refusal | Promise<PublisherSession | Refusal> {
  const cluster = deps.cluster;
  if (!cluster) return openPublisherSession(name, remote, deps, disconnect);
  return cluster.acquire(name, remote).then((lease) => {
    if ("refused" in lease) {
      reportRefusal(deps, name, remote, lease.refused, lease.message);
      return lease;
    }
    const session = openPublisherSession(name, remote, deps, disconnect, lease);
    if ("refused" in session) lease.release();
    return session;
  });
}

/**
 * Claims `name` for a new publisher from `remote`. `disconnect` must close the transport connection;
 * it is called when another publisher takes the stream over. Returns a `Refusal` when the stream has a
 * publisher (unless takeover is on) or too many streams are published: the caller refuses the
 * connection and the live publisher is untouched. `lease` (cluster mode) is released when the session ends.
 */
export function openPublisherSession(name: string, remote: string, deps: SessionDeps, disconnect: () => void, lease?: ClusterLease): PublisherSession | Refusal {
  const { registry, sink, log, counters, sessions } = deps;
  const refuse = (refused: Refusal["refused"], message: string): Refusal => {
    reportRefusal(deps, name, remote, refused, message);
    registry.prune(name);
    return { refused, message };
  };
  const current = sessions.get(name);
  if (current && deps.takeover) {
    log.info("publisher-takeover", { stream: name, remote });
    current.session.close({ reason: "taken-over", message: `replaced by a new publisher from ${remote}` });
    current.disconnect();
  } else if (current || registry.get(name)?.publisher !== undefined) {
    return refuse("stream-busy", `stream "${name}" already has a publisher`);
  }
  // Local publisher sessions only: streams fed from the cluster bus are not this node's publishers (issue 10).
  if (sessions.size >= deps.maxPublishers) {
    return refuse("too-many-publishers", `the server already has ${deps.maxPublishers} publishers (--max-publishers)`);
  }
  const stream = registry.open(name);
  const id = `p${++nextId}`;
  stream.claim(id, Date.now());
  log.info("publisher-connected", { stream: name, remote });
  const parser = createSniffingParser(deps.parser);
  const startedAt = Date.now();
  let closed = false;
  let failure: SessionError | undefined;
  let bytes = 0;

  const apply = (events: ParserEvent[], arrivedAt: number) => {
    for (const ev of events) {
      if (ev.type === "init") {
        stream.setInit(ev);
        const video = ev.tracks.find((t) => t.kind === "video");
        log.info("stream-live", {
          stream: name, format: ev.format, mime: ev.mime,
          resolution: video?.width ? `${video.width}x${video.height}` : undefined, initBytes: ev.bytes.byteLength,
        });
        sink.started(stream);
      } else {
        const cached = stream.addFragment(ev, Date.now());
        sink.fragment(stream, cached);
        stream.stats.publishDelay(performance.now() - arrivedAt);
      }
    }
  };

  const finish = (error?: SessionError, fromParser = false) => {
    closed = true;
    failure = error;
    if (sessions.get(name)?.session === session) sessions.delete(name);
    const wasOwner = stream.release(id);
    const fields = { stream: name, remote, bytes, seconds: Math.round((Date.now() - startedAt) / 100) / 10 };
    if (error) {
      if (fromParser) counters.parserError(error.reason);
      log.warn("publisher-error", { ...fields, reason: error.reason, message: error.message });
      if (wasOwner) sink.ended(stream, ORDERLY.has(error.reason) ? undefined : error);
    } else {
      log.info("publisher-disconnected", fields);
      if (wasOwner) sink.ended(stream);
    }
    registry.prune(name);
    lease?.release();
  };
  const fail = (e: unknown) => {
    if (e instanceof ParseError) finish({ reason: e.reason, message: e.message }, true);
    else finish({ reason: "internal", message: e instanceof Error ? e.message : String(e) });
  };

  const session: PublisherSession = {
    stream,
    get closed() {
      return closed;
    },
    get error() {
      return failure;
    },
    push(chunk) {
      if (closed) return false;
      const arrivedAt = performance.now();
      bytes += chunk.byteLength;
      try {
        apply(parser.push(chunk), arrivedAt);
        return true;
      } catch (e) {
        fail(e);
        return false;
      }
    },
    close(why) {
      if (closed) return;
      if (why) {
        finish(why);
        return;
      }
      try {
        apply(parser.end(), performance.now());
      } catch (e) {
        fail(e);
        return;
      }
      finish();
    },
  };
  sessions.set(name, { session, disconnect });
  return session;
}
