/**
 * One MediaSource (or ManagedMediaSource) attached to the video element, with one SourceBuffer fed
 * from an `OpQueue`. The MediaSource is created and attached at construction, before the stream's
 * type is known, so that the browser opens it (`sourceopen`, tens to hundreds of ms) while the
 * WebSocket connects; the SourceBuffer is added once the source is open and the first queued
 * operation, an init segment, names the type. The sink executes one operation at a time and never
 * touches the SourceBuffer while it is `updating`. A ManagedMediaSource is only appended to while the
 * browser asks for data (`startstreaming` … `endstreaming`); removals run regardless.
 *
 * QuotaExceededError: the op is put back, data older than `currentTime − 1 s` is removed and the
 * append retried; when nothing can be removed the queue resyncs (`quotaResync`), and after
 * three failures in a row the sink reports `error` so the owner recreates it.
 */

import type { MediaOp, Op, OpQueue } from "./op-queue.ts";
import { firstStart, lastEnd } from "./ranges.ts";

interface MediaSourceClass {
  new (): MediaSource;
  isTypeSupported(type: string): boolean;
}

/** The MSE implementation of this browser: `MediaSource`, else `ManagedMediaSource`, else none. */
export function mediaSourceClass(): { ctor: MediaSourceClass; managed: boolean } | undefined {
  const w = globalThis as unknown as { MediaSource?: MediaSourceClass; ManagedMediaSource?: MediaSourceClass };
  if (w.MediaSource) return { ctor: w.MediaSource, managed: false };
  if (w.ManagedMediaSource) return { ctor: w.ManagedMediaSource, managed: true };
  return undefined;
}

/** `isTypeSupported` of the available MSE implementation (false without MSE). */
export function isTypeSupported(mime: string): boolean {
  return mediaSourceClass()?.ctor.isTypeSupported(mime) ?? false;
}

/**
 * A resent stream carries on from the last appended fragment (a reconnect resending the GOP cache)
 * rather than starting over (a restarted publisher begins near 0): its first fragment starts at most
 * 15 s before and 60 s after the last appended one, and not within the stream's first 0.5 s.
 */
function carriesOn(lastStart: number, start: number): boolean {
  return start > 0.5 && start >= lastStart - 15 && start <= lastStart + 60;
}

/** A keyframe cut leaves at least this much buffered ahead of the playhead. */
const MIN_AHEAD_S = 0.05;
/** Cuts shorter than this are not worth a splice. */
const MIN_TRIM_S = 0.01;

export interface SinkEvents {
  /** A media fragment was appended with this timestampOffset. */
  appended(op: MediaOp, timestampOffset: number): void;
  /** The sink is unusable (append error, closed MediaSource, repeated quota errors). */
  error(message: string): void;
  /** The buffer was full and nothing could be freed: queued media was dropped, the queue resyncs. */
  quotaResync(): void;
  /** ManagedMediaSource started or stopped asking for data. */
  streaming(active: boolean): void;
}

export class MseSink {
  readonly managed: boolean;
  readonly #ms: MediaSource;
  readonly #url: string;
  #sb: SourceBuffer | undefined;
  #inflight: Op | undefined;
  #destroyed = false;
  #failed = false;
  #quotaFailures = 0;
  #streaming = true;
  /** Stream-time start of the last appended media fragment. */
  #lastStart = Number.NaN;
  /** Seconds to cut at the next keyframe fragment (see `trimAtNextKeyframe`). */
  #trim = 0;
  /** Keyframe cuts made so far. */
  trims = 0;

  /** Creates the MediaSource and attaches it to `video` (throws if there is no MSE). */
  constructor(
    private readonly video: HTMLVideoElement,
    private readonly queue: OpQueue,
    private readonly events: SinkEvents,
  ) {
    const impl = mediaSourceClass();
    if (!impl) throw new Error("Media Source Extensions are not available in this browser");
    this.managed = impl.managed;
    this.#ms = new impl.ctor();
    if (this.managed) {
      video.disableRemotePlayback = true;
      this.#streaming = (this.#ms as MediaSource & { streaming?: boolean }).streaming ?? false;
      this.#ms.addEventListener("startstreaming", this.#onStart);
      this.#ms.addEventListener("endstreaming", this.#onEnd);
    }
    this.#ms.addEventListener("sourceopen", this.#onOpen, { once: true });
    this.#url = URL.createObjectURL(this.#ms);
    video.src = this.#url;
  }

  /** Nothing was ever handed to this sink's SourceBuffer (none exists yet) and it has not failed. */
  get fresh(): boolean {
    return this.#sb === undefined && !this.#failed && !this.#destroyed;
  }

  /** True once the SourceBuffer exists. */
  get ready(): boolean {
    return this.#sb !== undefined;
  }

  /** False while a ManagedMediaSource does not want data (always true for MediaSource). */
  get streaming(): boolean {
    return this.#streaming;
  }

  /** True while an operation is executing or queued. */
  get busy(): boolean {
    return this.#inflight !== undefined || this.queue.length > 0;
  }

  /** Executes the next queued operation if the SourceBuffer is idle. Safe to call any time. */
  pump(): void {
    if (this.#destroyed || this.#ms.readyState !== "open") return;
    const sb = this.#sb ?? this.#addSourceBuffer();
    if (!sb || sb.updating) return;
    for (let op = this.queue.peek(); op; op = this.queue.peek()) {
      if (op.kind === "remove") {
        this.queue.shift();
        const start = Math.max(op.start, firstStart(sb.buffered) ?? Infinity);
        const end = Math.min(op.end, lastEnd(sb.buffered) ?? -Infinity);
        if (end - start < 0.1) continue;
        this.#run(op, () => sb.remove(start, end));
        return;
      }
      if (!this.#streaming) return;
      if (op.kind === "init" && op.mode !== "first") {
        const next = this.queue.mediaAfterHead();
        if (!next) return; // aligned to the first fragment of the new stream: wait for it
        if (op.mode === "changeType" && !this.#run(undefined, () => sb.changeType(op.mime))) return;
        if (op.mode === "resume" && carriesOn(this.#lastStart, next.info.start)) {
          // Same init, same timeline: appending the init again would make the SourceBuffer wait
          // for a keyframe (MSE sets "need random access point"), so it is skipped.
          this.queue.shift();
          continue;
        }
        if (!this.#run(undefined, () => (sb.timestampOffset = this.#continuationOffset(sb, next.info.start)))) return;
      }
      this.queue.shift();
      if (op.kind === "media" && op.info.keyframe && this.#trim > 0 && !this.#cut(sb)) return;
      this.#append(sb, op);
      return;
    }
  }

  /**
   * Sheds `seconds` of latency at rate 1.0 and without a seek: the next fragment starting with a
   * keyframe is placed that much earlier on the element's timeline (timestampOffset lowered), over the
   * unplayed end of the GOP before it, whose overlapped frames the SourceBuffer then drops (MSE coded
   * frame processing removes overlapped frames and what depends on them up to the next random access
   * point: nothing, as the new fragment is one). A jump cut of a few frames instead of a decode from
   * the last keyframe. Never cuts closer than `MIN_AHEAD_S` to the playhead; 0 cancels.
   */
  trimAtNextKeyframe(seconds: number): void {
    this.#trim = Math.max(0, seconds || 0);
  }

  /** Detaches from the video element and forgets the queue's consumer role. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#ms.removeEventListener("sourceopen", this.#onOpen);
    this.#ms.removeEventListener("startstreaming", this.#onStart);
    this.#ms.removeEventListener("endstreaming", this.#onEnd);
    this.#sb?.removeEventListener("updateend", this.#onUpdateEnd);
    this.#sb?.removeEventListener("error", this.#onAppendError);
    URL.revokeObjectURL(this.#url);
    this.video.removeAttribute("src");
    this.video.load();
  }

  /** Offset that puts stream time `start` at the current buffered end (or at currentTime). */
  #continuationOffset(sb: SourceBuffer, start: number): number {
    const base = lastEnd(sb.buffered) ?? this.video.currentTime;
    return Number.isFinite(start) ? base - start : base;
  }

  /** Applies the pending trim before a keyframe fragment is appended; false if the SourceBuffer refused. */
  #cut(sb: SourceBuffer): boolean {
    const ahead = (lastEnd(sb.buffered) ?? Number.NEGATIVE_INFINITY) - this.video.currentTime;
    const cut = Math.min(this.#trim, ahead - MIN_AHEAD_S);
    this.#trim = 0;
    if (!(cut >= MIN_TRIM_S)) return true;
    if (!this.#run(undefined, () => (sb.timestampOffset -= cut))) return false;
    this.trims++;
    return true;
  }

  #append(sb: SourceBuffer, op: Op & { bytes: Uint8Array }): void {
    try {
      sb.appendBuffer(op.bytes as Uint8Array<ArrayBuffer>);
      this.#inflight = op;
    } catch (e) {
      if ((e as DOMException).name !== "QuotaExceededError") return this.#fail(`append failed: ${(e as Error).message}`);
      this.queue.unshift(op);
      if (++this.#quotaFailures >= 3) return this.#fail("the media buffer stays full (QuotaExceededError)");
      const start = firstStart(sb.buffered);
      const upTo = this.video.currentTime - 1;
      if (start !== undefined && upTo - start > 0.5) {
        this.#run({ kind: "remove", start, end: upTo }, () => sb.remove(start, upTo));
      } else {
        this.queue.resync();
        this.events.quotaResync();
      }
    }
  }

  /** Runs a SourceBuffer call; on an exception reports a fatal error and returns false. */
  #run(inflight: Op | undefined, call: () => void): boolean {
    try {
      call();
      if (inflight) this.#inflight = inflight;
      return true;
    } catch (e) {
      this.#fail(`SourceBuffer call failed: ${(e as Error).message}`);
      return false;
    }
  }

  #fail(message: string): void {
    this.#failed = true;
    if (!this.#destroyed) this.events.error(message);
  }

  /** Adds the SourceBuffer for the init segment at the head of the queue (none there: not yet). */
  #addSourceBuffer(): SourceBuffer | undefined {
    const head = this.queue.peek();
    if (this.#failed || head?.kind !== "init") return undefined;
    let sb: SourceBuffer;
    try {
      sb = this.#ms.addSourceBuffer(head.mime);
    } catch (e) {
      this.#fail(`cannot create a SourceBuffer for ${head.mime}: ${(e as Error).message}`);
      return undefined;
    }
    sb.addEventListener("updateend", this.#onUpdateEnd);
    sb.addEventListener("error", this.#onAppendError);
    this.#sb = sb;
    return sb;
  }

  readonly #onOpen = (): void => {
    if (this.#destroyed) return;
    URL.revokeObjectURL(this.#url);
    this.pump();
  };

  readonly #onUpdateEnd = (): void => {
    const op = this.#inflight;
    this.#inflight = undefined;
    if (op?.kind === "media") {
      this.#quotaFailures = 0;
      if (Number.isFinite(op.info.start)) this.#lastStart = op.info.start;
      this.events.appended(op, this.#sb?.timestampOffset ?? 0);
    }
    this.pump();
  };

  readonly #onAppendError = (): void => this.#fail("the browser could not decode the appended media");

  readonly #onStart = (): void => {
    this.#streaming = true;
    this.events.streaming(true);
    this.pump();
  };

  readonly #onEnd = (): void => {
    this.#streaming = false;
    this.events.streaming(false);
  };
}
