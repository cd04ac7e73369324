import type { CachedFragment } from "./gop-cache.ts";
import type { Stream } from "./stream.ts";

/**
 * Where a stream's changes go (the WebSocket fan-out implements it). Called synchronously, in order,
 * right after the stream state was updated.
 */
export interface StreamSink {
  /** The stream went live or its publisher sent a new init: announce it and send the init. */
  started(stream: Stream): void;
  /** A new fragment, already numbered and cached. */
  fragment(stream: Stream, fragment: CachedFragment): void;
  /** The publisher left (`error` set when it was closed for bad input). */
  ended(stream: Stream, error?: { reason: string; message: string }): void;
  /** Fragments were left out (a cluster resync after a gap): the next fragment starts at a keyframe. */
  skipped(stream: Stream): void;
}

/**
 * One sink that hands every change to each of `sinks` in order (the WebSocket fan-out first, then the
 * views that follow it: LL-HLS, recording). A sink that throws does not keep the others from the change.
 */
export function teeSinks(first: StreamSink, ...rest: StreamSink[]): StreamSink {
  if (rest.length === 0) return first;
  const all = [first, ...rest];
  const each = (f: (s: StreamSink) => void) => {
    let error: unknown;
    for (const s of all) {
      try {
        f(s);
      } catch (e) {
        error ??= e;
      }
    }
    if (error !== undefined) throw error;
  };
  return {
    started: (stream) => each((s) => s.started(stream)),
    fragment: (stream, fragment) => each((s) => s.fragment(stream, fragment)),
    ended: (stream, error) => each((s) => s.ended(stream, error)),
    skipped: (stream) => each((s) => s.skipped(stream)),
  };
}
