import { ParseError, type ParserEvent, type SniffingParser } from "../container/index.ts";
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
  /** This session's parser (bytes → init/fragment events): one per session, never shared. */
  parser: SniffingParser;
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
  /** When bytes last arrived (performance.now() ms; the session's start before any). */
  readonly lastDataAt: number;
}

/** Why a session ended badly: a parser reason or a transport one such as `idle-timeout`. */
interface SessionError {
  reason: string;
  message: string;
}

/** Session endings that are not the publisher's fault: viewers get a plain `ended`, no `error`. */
const ORDERLY = new Set(["shutdown", "taken-over"]);

let nextId = 0;

/**
 * Opens the session of an admitted publisher of `name` (see `PublisherAdmission`, the only caller):
 * takes the stream, parses what `push` is given, and calls `onClosed` once when the session ends.
 */
export function openPublisherSession(name: string, remote: string, deps: SessionDeps, onClosed: () => void): PublisherSession {
  const { registry, sink, log, counters } = deps;
  const stream = registry.open(name);
  const id = `p${++nextId}`;
  stream.claim(id, Date.now());
  log.info("publisher-connected", { stream: name, remote });
  const { parser } = deps;
  const startedAt = Date.now();
  let closed = false;
  let failure: SessionError | undefined;
  let bytes = 0;
  let lastDataAt = performance.now();

  const apply = (events: ParserEvent[], arrivedAt: number) => {
    for (const ev of events) {
      if (ev.type === "init") {
        stream.setInit(ev);
        const video = ev.tracks.find((t) => t.kind === "video");
        log.info("stream-live", {
          stream: name,
          format: ev.format,
          mime: ev.mime,
          resolution: video?.width ? `${video.width}x${video.height}` : undefined,
          initBytes: ev.bytes.byteLength,
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
    onClosed();
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
    get lastDataAt() {
      return lastDataAt;
    },
    push(chunk) {
      if (closed) return false;
      const arrivedAt = performance.now();
      lastDataAt = arrivedAt;
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
        // Ended from this side (idle, taken over, shutdown): what the parser completes still goes out
        // (a remuxed stream's last frames); an unfinished unit is simply dropped.
        try {
          apply(parser.end(), performance.now());
        } catch (e) {
          if (!(e instanceof ParseError)) throw e;
        }
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
  return session;
}
