/**
 * The LL-HLS view of every stream: a `StreamSink` that cuts each fMP4 stream's fragments into parts and
 * segments and keeps them in a `LiveWindow`, pure (timers are the web-standard ones).
 */

import type { CachedFragment } from "../stream/gop-cache.ts";
import type { StreamSink } from "../stream/sink.ts";
import type { Stream } from "../stream/stream.ts";
import { isStatableWallclock, prftWallclock } from "../stream/wallclock.ts";
import { LiveWindow, type LiveWindowOptions } from "./live-window.ts";
import { newEpoch } from "./media-names.ts";
import { type BuildEvent, PartBuilder, type PartBuilderOptions, type TimedFragment } from "./part-builder.ts";

export interface HlsViewsOptions {
  /** Part target, seconds. */
  partTarget: number;
  /** Complete segments listed per playlist. */
  segments: number;
  /** Byte cap per stream. */
  maxBytes: number;
  /** How long an ended stream's playlist (with EXT-X-ENDLIST) is kept before its memory is freed, ms. */
  endedKeepMs: number;
  /** A keyframe starts a new segment once the current one is this long, seconds (default 0.5). */
  minSegment?: number;
  /** The lowest EXT-X-TARGETDURATION, seconds (default 1). */
  minTargetDuration?: number;
  /** One line per event that matters (the stream name among the fields). */
  log?: (event: string, fields: Record<string, string | number>) => void;
}

interface HlsStream {
  window: LiveWindow | undefined;
  builder: PartBuilder;
  /** The stream's media is WebM (no HLS). */
  webm: boolean;
  /** Wallclock of a media time: the publisher's (`prft`) when known, else the arrival of the first fragment. */
  anchor: { wallMs: number; time: number } | undefined;
  freeTimer: ReturnType<typeof setTimeout> | undefined;
}

interface HlsWindowStats {
  name: string;
  bytes: number;
  segments: number;
  overflows: number;
  dropped: number;
  splits: number;
  longParts: number;
  longSegments: number;
}

/** A stream's HLS state as the routes see it. */
export type HlsLookup = { kind: "live"; window: LiveWindow } | { kind: "webm" } | { kind: "none" };

/**
 * Follows every stream change (after the WebSocket fan-out, see `teeSinks`). fMP4 media (native, or
 * remuxed from RTMP / MPEG-TS) gets a window; a new init starts a new epoch after a discontinuity; an
 * ended stream keeps its playlist (EXT-X-ENDLIST) for `endedKeepMs`, then everything is freed.
 * `subscribe` tells waiters (blocking requests) about every change of a stream.
 */
export class HlsViews implements StreamSink {
  private readonly opts: HlsViewsOptions;
  private readonly streams = new Map<string, HlsStream>();
  private readonly listeners = new Map<string, Set<() => void>>();

  constructor(opts: HlsViewsOptions) {
    this.opts = opts;
  }

  lookup(name: string): HlsLookup {
    const s = this.streams.get(name);
    if (!s) return { kind: "none" };
    if (s.webm) return { kind: "webm" };
    return s.window ? { kind: "live", window: s.window } : { kind: "none" };
  }

  /** Calls `fn` after every change of stream `name` until the returned function is called. */
  subscribe(name: string, fn: () => void): () => void {
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0 && this.listeners.get(name) === set) this.listeners.delete(name);
    };
  }

  /**
   * Per stream: bytes held, segments listed, fragments dropped while waiting for a keyframe, segments
   * split without a keyframe to keep the target duration, parts and segments over their fixed targets.
   */
  *windows(): Iterable<HlsWindowStats> {
    for (const [name, s] of this.streams) {
      if (!s.window) continue;
      const w = s.window;
      yield {
        name,
        bytes: w.bytes,
        segments: w.segments.length,
        overflows: w.overflows,
        dropped: s.builder.dropped,
        splits: s.builder.splits,
        longParts: w.longParts,
        longSegments: w.longSegments,
      };
    }
  }

  started(stream: Stream): void {
    const init = stream.init;
    if (!init) return;
    const s = this.state(stream.name);
    if (s.freeTimer !== undefined) clearTimeout(s.freeTimer);
    s.freeTimer = undefined;
    s.anchor = undefined;
    if (init.format === "webm") {
      s.window = undefined;
      s.webm = true;
      s.builder.reset();
      this.notify(stream.name);
      return;
    }
    s.webm = false;
    const epoch = newEpoch();
    if (s.window && !s.window.ended) {
      this.apply(stream.name, s, s.builder.flush());
      s.window.newEpoch(epoch, init.bytes);
    } else {
      // A new session continues the old numbering while the ended playlist is still held.
      // A new playlist: its target duration and part target are fixed again from its first segment.
      s.window = new LiveWindow(this.windowOptions(), epoch, init.bytes, s.window?.nextMsn ?? 0);
      s.builder.setLimits(this.builderOptions());
    }
    s.builder.reset();
    this.opts.log?.("hls-epoch", { stream: stream.name, epoch, msn: s.window.nextMsn });
    this.notify(stream.name);
  }

  fragment(stream: Stream, fragment: CachedFragment): void {
    const s = this.streams.get(stream.name);
    if (!s?.window || s.window.ended) return;
    this.apply(stream.name, s, s.builder.push(this.timed(s, fragment)));
  }

  skipped(stream: Stream): void {
    const s = this.streams.get(stream.name);
    if (!s?.window || s.window.ended) return;
    this.apply(stream.name, s, s.builder.flush());
    s.window.markGap();
    this.notify(stream.name);
  }

  ended(stream: Stream): void {
    const s = this.streams.get(stream.name);
    if (!s) return;
    if (s.window && !s.window.ended) {
      this.apply(stream.name, s, s.builder.flush());
      s.window.end();
    }
    s.webm = false;
    if (s.freeTimer !== undefined) clearTimeout(s.freeTimer);
    s.freeTimer = setTimeout(() => {
      if (this.streams.get(stream.name) !== s || !(s.window?.ended ?? true)) return;
      this.streams.delete(stream.name);
      this.notify(stream.name);
    }, this.opts.endedKeepMs);
    this.notify(stream.name);
  }

  /** Frees every stream now (shutdown). */
  close(): void {
    for (const s of this.streams.values()) if (s.freeTimer !== undefined) clearTimeout(s.freeTimer);
    this.streams.clear();
  }

  private state(name: string): HlsStream {
    let s = this.streams.get(name);
    if (!s) {
      const builder = new PartBuilder(this.builderOptions());
      s = { window: undefined, builder, webm: false, anchor: undefined, freeTimer: undefined };
      this.streams.set(name, s);
    }
    return s;
  }

  private windowOptions(): LiveWindowOptions {
    const o: LiveWindowOptions = { segments: this.opts.segments, maxBytes: this.opts.maxBytes, partTarget: this.opts.partTarget };
    if (this.opts.minTargetDuration !== undefined) o.minTargetDuration = this.opts.minTargetDuration;
    return o;
  }

  /** The builder's limits: the configured part target until the window fixes its targets, then those. */
  private builderOptions(w?: LiveWindow): PartBuilderOptions {
    const minSegment = this.opts.minSegment ?? 0.5;
    if (!w?.ready) return { partTarget: this.opts.partTarget, minSegment };
    return { partTarget: w.partTarget, minSegment, maxSegment: w.maxSegment };
  }

  private timed(s: HlsStream, f: CachedFragment): TimedFragment {
    const ts = f.timescale !== undefined && f.timescale > 0 ? f.timescale : undefined;
    const time = ts !== undefined && f.decodeTime !== undefined ? f.decodeTime / ts : Number.isFinite(f.start) ? f.start! : 0;
    // Fragments without a usable prft are placed from the last anchor; one that would give a date
    // EXT-X-PROGRAM-DATE-TIME cannot state (a decode-time jump) makes the arrival the anchor.
    const at = (a: { wallMs: number; time: number }) => a.wallMs + (time - a.time) * 1000;
    const prft = prftWallclock(f);
    if (prft !== undefined) s.anchor = { wallMs: prft, time };
    else if (!s.anchor || !isStatableWallclock(at(s.anchor))) s.anchor = { wallMs: f.arrivedMs ?? Date.now(), time };
    const out: TimedFragment = { bytes: f.bytes, keyframe: f.keyframe, time, wallclockMs: at(s.anchor) };
    if (f.duration !== undefined && ts !== undefined) out.duration = f.duration / ts;
    return out;
  }

  private apply(name: string, s: HlsStream, events: BuildEvent[]): void {
    const w = s.window;
    if (!w || events.length === 0) return;
    const { ready, longParts, longSegments } = w;
    for (const e of events) {
      if (e.type === "segment-end") {
        w.endSegment();
        if (!ready && w.ready) s.builder.setLimits(this.builderOptions(w));
        continue;
      }
      if (w.addPart(e.part) === "overflow") {
        s.builder.reset();
        this.opts.log?.("hls-window-overflow", { stream: name, maxBytes: this.opts.maxBytes, msn: w.nextMsn - 1 });
        break;
      }
    }
    if (!ready && w.ready) this.opts.log?.("hls-targets", { stream: name, targetDuration: w.targetDuration, partTarget: w.partTarget });
    // Logged once per window; the metrics count every one.
    if (longParts === 0 && w.longParts > 0)
      this.opts.log?.("hls-part-over-target", { stream: name, partTarget: w.partTarget, msn: w.last?.msn ?? -1 });
    if (longSegments === 0 && w.longSegments > 0)
      this.opts.log?.("hls-segment-over-target", { stream: name, targetDuration: w.targetDuration, msn: w.nextMsn - 1 });
    this.notify(name);
  }

  private notify(name: string): void {
    const set = this.listeners.get(name);
    if (!set) return;
    for (const fn of [...set]) fn();
  }
}
