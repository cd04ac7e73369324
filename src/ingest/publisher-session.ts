import { createSniffingParser, ParseError, type ParserEvent, type ParserOptions } from "../container/index.ts";
import type { Logger } from "../log.ts";
import type { StreamRegistry } from "../stream/registry.ts";
import type { StreamSink } from "../stream/sink.ts";
import type { Stream } from "../stream/stream.ts";

export interface SessionDeps {
  registry: StreamRegistry;
  sink: StreamSink;
  log: Logger;
  parser: ParserOptions;
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
  /** Whether `close` already ran. */
  readonly closed: boolean;
}

/** Why a session ended badly: a parser reason or a transport one such as `idle-timeout`. */
export interface SessionError {
  reason: string;
  message: string;
}

let nextId = 0;

/**
 * Claims `name` for a new publisher from `remote`. Returns a reason string (already logged) when the
 * stream has a publisher: the caller refuses the connection and the live publisher is untouched.
 */
export function openPublisherSession(name: string, remote: string, deps: SessionDeps): PublisherSession | string {
  const { registry, sink, log } = deps;
  const stream = registry.open(name);
  const id = `p${++nextId}`;
  if (!stream.claim(id, Date.now())) {
    registry.prune(name);
    const reason = `stream "${name}" already has a publisher`;
    log.warn("publisher-refused", { stream: name, remote, reason });
    return reason;
  }
  log.info("publisher-connected", { stream: name, remote });
  const parser = createSniffingParser(deps.parser);
  const startedAt = Date.now();
  let closed = false;
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

  const finish = (error?: SessionError) => {
    closed = true;
    const wasOwner = stream.release(id);
    const fields = { stream: name, remote, bytes, seconds: Math.round((Date.now() - startedAt) / 100) / 10 };
    if (error) {
      log.warn("publisher-error", { ...fields, reason: error.reason, message: error.message });
      if (wasOwner) sink.ended(stream, error);
    } else {
      log.info("publisher-disconnected", fields);
      if (wasOwner) sink.ended(stream);
    }
    registry.prune(name);
  };

  return {
    stream,
    get closed() {
      return closed;
    },
    push(chunk) {
      if (closed) return false;
      const arrivedAt = performance.now();
      bytes += chunk.byteLength;
      try {
        apply(parser.push(chunk), arrivedAt);
        return true;
      } catch (e) {
        finish(toSessionError(e));
        return false;
      }
    },
    close(why) {
      if (closed) return;
      try {
        apply(parser.end(), performance.now());
      } catch (e) {
        finish(why ?? toSessionError(e));
        return;
      }
      finish(why);
    },
  };
}

/** Parser errors keep their reason; anything else is a bug in Sluice, reported as `internal`. */
function toSessionError(e: unknown): SessionError {
  if (e instanceof ParseError) return { reason: e.reason, message: e.message };
  return { reason: "internal", message: e instanceof Error ? e.message : String(e) };
}
