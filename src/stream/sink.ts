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

/** A view that follows the fan-out (LL-HLS, recording), named for logs and metrics. */
export interface NamedView {
  name: string;
  sink: StreamSink;
}

/**
 * One sink that hands every change first to `primary` (the WebSocket fan-out: its exceptions reach the
 * caller, as before) and then to each view in order. A view that throws is reported through
 * `onViewError` and the others still get the change: a view can never end a publisher or the relay.
 */
export function teeSinks(
  primary: StreamSink,
  views: readonly NamedView[],
  onViewError: (view: string, stream: Stream, error: unknown) => void,
): StreamSink {
  if (views.length === 0) return primary;
  const each = (stream: Stream, f: (s: StreamSink) => void) => {
    f(primary);
    for (const v of views) {
      try {
        f(v.sink);
      } catch (e) {
        onViewError(v.name, stream, e);
      }
    }
  };
  return {
    started: (stream) => each(stream, (s) => s.started(stream)),
    fragment: (stream, fragment) => each(stream, (s) => s.fragment(stream, fragment)),
    ended: (stream, error) => each(stream, (s) => s.ended(stream, error)),
    skipped: (stream) => each(stream, (s) => s.skipped(stream)),
  };
}
