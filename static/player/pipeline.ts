/**
 * The media path from WebSocket messages to the SourceBuffer: `stream` → init segment → fragments.
 *
 * - A MediaSource is created and attached as soon as the pipeline exists (while the WebSocket
 *   connects); the first stream's init adds its SourceBuffer for the server's `mime` (used verbatim).
 * - A later `stream` (publisher restart, or a reconnect resending stream + init + GOP) is planned by
 *   `planRestart`: `continue` / `changeType` queue the new init behind what is already queued, with
 *   a timestampOffset that places the new stream's first fragment at the current buffered end;
 *   `recreate` builds a new MediaSource.
 * - A sink error (append/decode failure, closed MediaSource) recreates the MediaSource from the last
 *   init segment and resumes at the next keyframe; more than 3 errors in 30 s are reported as fatal.
 * - A reconnect to the same publisher (identical init) skips the resent fragments it already has.
 * - While a ManagedMediaSource does not want data, only the latest GOP is kept queued.
 */

import { initFormat } from "../../src/container/inspect.ts";
import type { ContainerFormat } from "../../src/container/types.ts";
import type { StreamAnnouncement } from "../../src/protocol/messages.ts";
import type { Cadence } from "./cadence.ts";
import { createInspector, type FragmentInspector } from "./fragment-info.ts";
import type { LatencyMeter } from "./latency-meter.ts";
import type { LiveEdgeController } from "./live-edge.ts";
import { isTypeSupported, MseSink, type SinkEvents } from "./mse-sink.ts";
import { type MediaOp, OpQueue } from "./op-queue.ts";
import { lastEnd } from "./ranges.ts";
import { ResendFilter } from "./resend-filter.ts";
import { planRestart, type StreamShape } from "./restart-plan.ts";

export interface PipelineEvents {
  /** The stream's MIME type is not playable here (or there is no MSE at all). */
  unsupported(what: string): void;
  /** Repeated media errors: the pipeline gave up until the next `stream` message. */
  fatal(message: string): void;
  /** A media fragment was appended. */
  appended(op: MediaOp): void;
}

interface CurrentInit {
  bytes: Uint8Array;
  mime: string;
  format: ContainerFormat;
}

export class Pipeline {
  readonly queue = new OpQueue();
  /** Restarts handled in the same buffer; MediaSource recreations. */
  restarts = 0;
  recreations = 0;
  #sink: MseSink | undefined;
  #shape: StreamShape | undefined;
  #pending: StreamAnnouncement | undefined;
  #init: CurrentInit | undefined;
  #inspect: FragmentInspector | undefined;
  #ignoreMedia = false;
  #jumpAfterSync = false;
  #boundaryPending = false;
  #errorTimes: number[] = [];
  readonly #resend = new ResendFilter();

  constructor(
    private readonly video: HTMLVideoElement,
    private readonly cadence: Cadence,
    private readonly meter: LatencyMeter,
    private readonly edge: LiveEdgeController,
    private readonly events: PipelineEvents,
  ) {
    // Opening a MediaSource takes the browser tens to hundreds of ms: start now, not at the first init.
    this.#sink = this.#newSink();
  }

  /** MIME type and container of the current stream ("" before the first). */
  get mime(): string {
    return this.#init?.mime ?? this.#pending?.mime ?? "";
  }

  get format(): string {
    return this.#init?.format ?? this.#pending?.format ?? "";
  }

  /** A `stream` message: the next binary message is its init segment. Returns false if unsupported. */
  stream(msg: StreamAnnouncement): boolean {
    this.#pending = undefined;
    if (!isTypeSupported(msg.mime)) {
      this.#ignoreMedia = true;
      this.events.unsupported(msg.mime);
      return false;
    }
    this.#ignoreMedia = false;
    this.#pending = msg;
    return true;
  }

  /** A binary message: the init segment right after `stream`, else a media fragment. */
  binary(bytes: Uint8Array): void {
    if (this.#ignoreMedia) return;
    const msg = this.#pending;
    if (msg) {
      this.#pending = undefined;
      this.#startStream(msg, bytes);
      return;
    }
    if (!this.#inspect || !this.#sink) return;
    const info = this.#inspect(bytes);
    if (this.#resend.duplicate(info, bytes.byteLength)) return;
    this.#resend.taken(info, bytes.byteLength);
    this.cadence.observe(info.start);
    if (this.queue.push({ kind: "media", bytes, info }) === "overflow") this.#jumpAfterSync = true;
    if (!this.#sink.streaming) this.queue.keepLatestGop();
    this.#sink.pump();
  }

  /** The server skipped ahead to the next keyframe fragment: jump to the edge once it is appended. */
  skip(): void {
    this.#jumpAfterSync = true;
    this.cadence.discontinuity();
  }

  /** The publisher left: fragment spacing across the pause means nothing. */
  ended(): void {
    this.cadence.discontinuity();
  }

  /** Sheds `seconds` of latency at the next keyframe fragment (MseSink.trimAtNextKeyframe); 0 cancels. */
  trim(seconds: number): void {
    this.#sink?.trimAtNextKeyframe(seconds);
  }

  /** Keyframe cuts made by the current MediaSource's sink. */
  get trims(): number {
    return this.#sink?.trims ?? 0;
  }

  /** Queues removal of buffered media (used for the back-buffer trim). */
  remove(start: number, end: number): void {
    if (!this.#sink || this.queue.hasRemove()) return;
    this.queue.push({ kind: "remove", start, end });
    this.#sink.pump();
  }

  /** The video element reported a media error. */
  mediaError(message: string): void {
    this.#sinkError(message);
  }

  destroy(): void {
    this.#sink?.destroy();
    this.#sink = undefined;
    this.queue.clear();
    this.#shape = this.#init = this.#inspect = this.#pending = undefined;
  }

  #startStream(msg: StreamAnnouncement, bytes: Uint8Array): void {
    const format = initFormat(bytes);
    const shape: StreamShape = { format, mime: msg.mime };
    this.#inspect = createInspector(bytes);
    const previousInit = this.#init?.bytes;
    this.#init = { bytes, mime: msg.mime, format };
    this.cadence.discontinuity();
    const canChangeType = typeof SourceBuffer !== "undefined" && typeof SourceBuffer.prototype.changeType === "function";
    const plan = this.#sink && this.#shape ? planRestart(this.#shape, shape, canChangeType) : "recreate";
    this.#shape = shape;
    if (plan === "recreate") {
      this.#recreate();
      return;
    }
    this.restarts++;
    const same = plan === "continue" && sameBytes(previousInit, bytes);
    if (same) this.#resend.arm();
    this.queue.push({ kind: "init", bytes, mime: msg.mime, mode: same ? "resume" : plan });
    // A resend carries on mid-GOP after the filtered overlap; anything else starts at a keyframe.
    if (!same) this.queue.awaitSync();
    this.#boundaryPending = true;
    this.#sink?.pump();
  }

  /**
   * A MediaSource fed with the current init segment (the one created in advance while it is still
   * unused, else a new one); media resumes at the next sync point.
   */
  #recreate(): void {
    const reuse = this.#sink?.fresh === true;
    if (!reuse) {
      if (this.#sink) this.recreations++;
      this.#sink?.destroy();
      this.#sink = undefined;
    }
    this.queue.clear();
    this.meter.reset();
    this.#resend.reset();
    this.cadence.discontinuity();
    const init = this.#init;
    if (!init) return;
    this.queue.push({ kind: "init", bytes: init.bytes, mime: init.mime, mode: "first" });
    this.queue.awaitSync();
    this.#sink ??= this.#newSink();
    if (!this.#sink) return;
    this.edge.restart();
    this.#sink.pump();
  }

  #newSink(): MseSink | undefined {
    try {
      return new MseSink(this.video, this.queue, this.#sinkEvents);
    } catch (e) {
      this.#ignoreMedia = true;
      this.events.unsupported((e as Error).message);
      return undefined;
    }
  }

  #sinkError(message: string): void {
    const now = performance.now();
    this.#errorTimes = [...this.#errorTimes.filter((t) => now - t < 30_000), now];
    if (this.#errorTimes.length > 3) {
      this.#sink?.destroy();
      this.#sink = undefined;
      this.queue.clear();
      this.#ignoreMedia = true; // until the next `stream` message
      this.events.fatal(message);
      return;
    }
    this.#recreate();
  }

  readonly #sinkEvents: SinkEvents = {
    appended: (op, offset) => {
      const now = performance.now();
      const caughtUp = !this.queue.hasMedia();
      this.cadence.appended(now, lastEnd(this.video.buffered) ?? Number.NaN, caughtUp);
      const { info } = op;
      if (info.prftWallclockMs !== undefined && info.prftTime !== undefined)
        this.meter.addAnchor(info.prftTime + offset, info.prftWallclockMs);
      if (this.#boundaryPending) {
        // First fragment of a stream continued in this buffer: settle onto the live edge again.
        this.#boundaryPending = false;
        if (Number.isFinite(info.start)) this.meter.boundary(info.start + offset);
        this.edge.settle(now);
      }
      if (this.#jumpAfterSync && info.syncPoint) {
        this.#jumpAfterSync = false;
        this.edge.jumpToEdge(now);
      }
      this.edge.appended(now, caughtUp);
      this.events.appended(op);
    },
    error: (message) => this.#sinkError(message),
    quotaResync: () => {
      this.#jumpAfterSync = true;
    },
    streaming: (active) => {
      if (active) this.#jumpAfterSync = true;
      else this.queue.keepLatestGop();
    },
  };
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  if (!a || a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
