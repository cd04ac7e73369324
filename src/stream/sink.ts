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
