/**
 * Plays a recording's HLS media playlist (fMP4 segments, e.g. Sluice's `/hls/<stream>/vod.m3u8`)
 * through Media Source Extensions: a small VOD loader, not a general HLS client.
 *
 * - The playlist is fetched once and parsed (src/hls/playlist-parse.ts); without EXT-X-ENDLIST it
 *   is not a recording and is handed back (`parts.live`).
 * - `mediaSource.duration` is the sum of the EXTINF durations; element time = playlist time.
 * - Segments from the one playing to `AHEAD_S` ahead are fetched (with `Range` for byte ranges) and
 *   appended in order; the init section (EXT-X-MAP) is appended before the first segment and whenever
 *   it changes (a new file after EXT-X-DISCONTINUITY; `changeType` if the codecs differ).
 * - Each discontinuity sequence gets one timestampOffset: playlist start of the first segment
 *   fetched from it minus that segment's first decode time (read from its `moof`).
 * - More than `BEHIND_S` behind the playhead, and stale ranges far ahead (after a seek back), are
 *   removed. A seek outside the buffer aborts the fetch and the append in flight and loads from the
 *   segment at the new position.
 * - After the last segment: `endOfStream()`. Network errors are retried 3 times; HTTP 4xx, a parse
 *   error or a SourceBuffer error are reported as `error`.
 */

import { inspectFragment } from "../../src/container/inspect.ts";
import { type MediaPlaylist, parseMediaPlaylist } from "../../src/hls/playlist-parse.ts";
import { mediaSourceClass } from "./mse-sink.ts";
import type { StatsMeter } from "./player-stats.ts";
import { fetchBytes, HttpRefusal } from "./range-fetch.ts";
import { rangeIndexAt } from "./ranges.ts";
import type { PlayerState } from "./state.ts";
import { loadInit, sourceBufferOp, type VodInit } from "./vod-media.ts";
import { buildTimeline, segmentAt, type TimelineSegment } from "./vod-timeline.ts";

/** Seconds fetched ahead of the playhead; kept behind it; tolerated beyond the fetch horizon before removal. */
const AHEAD_S = 20;
const BEHIND_S = 30;
const STALE_S = 20;
/** Caps: one segment or init section, the playlist text. */
const MAX_SEGMENT_BYTES = 64 * 1024 * 1024;
const MAX_PLAYLIST_BYTES = 8 * 1024 * 1024;
const RETRIES = 3;

export interface VodParts {
  video: HTMLVideoElement;
  stats: StatsMeter;
  setState(state: PlayerState, detail: string): void;
  /** Start playback (muted autoplay). */
  play(): void;
  /** The playlist has no EXT-X-ENDLIST (a live playlist): the owner decides how to play it. */
  live(url: string): void;
}

export class VodPlayer {
  mime = "";
  #ms: MediaSource | undefined;
  #sb: SourceBuffer | undefined;
  #segments: TimelineSegment[] = [];
  /** The longest segment's duration (s). */
  #longest = 0;
  #init: VodInit | undefined;
  /** Key of the init section last appended ("" after an abort: append it again). */
  #appendedInit = "";
  readonly #appended = new Set<number>();
  readonly #offsets = new Map<number, number>();
  #abort = new AbortController();
  /** Bumped by every seek outside the buffer: work of an older generation is dropped. */
  #generation = 0;
  #busy = false;
  /** An append (not a removal) is running: a seek may abort it. */
  #appending = false;
  #failures = 0;
  #started = false;
  #stopped = false;

  constructor(
    readonly url: string,
    private readonly parts: VodParts,
  ) {}

  async start(): Promise<void> {
    this.parts.setState("connecting", "loading the playlist");
    let pl: MediaPlaylist;
    try {
      const res = { url: this.url, key: this.url };
      const text = new TextDecoder().decode(await fetchBytes(res, MAX_PLAYLIST_BYTES, this.#abort.signal));
      pl = parseMediaPlaylist(text);
      if (!pl.endList) return this.#stopped ? undefined : this.parts.live(this.url);
      this.#segments = buildTimeline(pl, this.url);
      if (this.#segments.length === 0) throw new Error("the playlist has no segments");
      this.#longest = this.#segments.reduce((m, s) => Math.max(m, s.end - s.start), 0);
    } catch (e) {
      return this.#fail(e);
    }
    if (this.#stopped) return;
    const impl = mediaSourceClass();
    if (!impl) return this.parts.setState("unsupported", "this browser has no Media Source Extensions");
    const ms = new impl.ctor();
    this.#ms = ms;
    if (impl.managed) {
      this.parts.video.disableRemotePlayback = true;
      ms.addEventListener("startstreaming", () => this.pump());
    }
    const objectUrl = URL.createObjectURL(ms);
    ms.addEventListener(
      "sourceopen",
      () => {
        URL.revokeObjectURL(objectUrl);
        ms.duration = pl.duration;
        this.pump();
      },
      { once: true },
    );
    const v = this.parts.video;
    v.addEventListener("seeking", this.#onSeeking);
    v.addEventListener("timeupdate", this.#onTime);
    v.addEventListener("ended", this.#onEnded);
    v.addEventListener("playing", this.#onPlaying);
    v.src = objectUrl;
  }

  stop(): void {
    this.#stopped = true;
    this.#abort.abort();
    const v = this.parts.video;
    v.removeEventListener("seeking", this.#onSeeking);
    v.removeEventListener("timeupdate", this.#onTime);
    v.removeEventListener("ended", this.#onEnded);
    v.removeEventListener("playing", this.#onPlaying);
    if (this.#ms) {
      v.removeAttribute("src");
      v.load();
    }
  }

  /** Loads what the playhead needs next, one operation at a time; safe to call any time. */
  pump(): void {
    if (this.#busy || this.#stopped || !this.#ms || this.#ms.readyState === "closed") return;
    this.#busy = true;
    void (async () => {
      try {
        while (!this.#stopped && (await this.#step()));
      } catch (e) {
        this.#fail(e);
      } finally {
        this.#busy = false;
      }
    })();
  }

  /** One operation (evict, or fetch and append a segment); false when there is nothing to do now. */
  async #step(): Promise<boolean> {
    const ms = this.#ms;
    if (!ms || ms.readyState === "closed") return false;
    if ((ms as MediaSource & { streaming?: boolean }).streaming === false) return false;
    const t = this.parts.video.currentTime;
    const evict = this.#sb && this.#staleRange(t);
    if (evict) {
      await this.#sbOp(() => this.#sb!.remove(evict[0], evict[1]));
      this.#forget(evict[0], evict[1]);
      return true;
    }
    const i = this.#nextSegment(t);
    if (i < 0) {
      if (ms.readyState === "open" && this.#sb && !this.#sb.updating) ms.endOfStream();
      return false;
    }
    const seg = this.#segments[i]!;
    if (seg.start > t + AHEAD_S) return false;
    const generation = this.#generation;
    let init: VodInit;
    let media: Uint8Array;
    try {
      [init, media] = await Promise.all([this.#initFor(seg), fetchBytes(seg.media, MAX_SEGMENT_BYTES, this.#abort.signal)]);
    } catch (e) {
      if (generation !== this.#generation || this.#stopped) return true; // aborted by a seek
      if (e instanceof HttpRefusal || ++this.#failures > RETRIES) throw e;
      await new Promise((r) => setTimeout(r, 500 * 2 ** this.#failures));
      return true;
    }
    this.#failures = 0;
    if (generation !== this.#generation) return true;
    this.parts.stats.received(media.byteLength, performance.now());
    await this.#appendInit(init);
    if (!this.#offsets.has(seg.disc)) {
      const start = inspectFragment(init.facts, media).start;
      this.#offsets.set(seg.disc, Number.isFinite(start) ? seg.start - start : 0);
    }
    const sb = this.#sb!;
    const offset = this.#offsets.get(seg.disc)!;
    if (sb.timestampOffset !== offset) sb.timestampOffset = offset;
    if (generation !== this.#generation) return true;
    await this.#append(media);
    if (generation !== this.#generation) return true;
    this.#appended.add(i);
    if (!this.#started) {
      this.#started = true;
      this.parts.setState("playing", init.mime);
      this.parts.play();
    }
    return true;
  }

  /** The first segment from the one at `t` on that is not appended (or was removed since); -1: none. */
  #nextSegment(t: number): number {
    for (let i = Math.max(0, segmentAt(this.#segments, t)); i < this.#segments.length; i++) if (!this.#appended.has(i)) return i;
    return -1;
  }

  /** Segments overlapping [start, end) are no longer appended (removed from the buffer). */
  #forget(start: number, end: number): void {
    this.#segments.forEach((s, i) => {
      if (s.end > start && s.start < end) this.#appended.delete(i);
    });
  }

  /**
   * A buffered range to remove: more than `BEHIND_S` behind `t`, or beyond what the loader fetches
   * ahead (`AHEAD_S` plus the longest segment) by more than `STALE_S` (left over from before a seek back).
   */
  #staleRange(t: number): [number, number] | undefined {
    const b = this.#sb!.buffered;
    const ahead = t + AHEAD_S + this.#longest;
    for (let i = 0; i < b.length; i++) {
      if (b.start(i) < t - BEHIND_S) return [b.start(i), Math.min(b.end(i), t - BEHIND_S / 3)];
      if (b.end(i) > ahead + STALE_S) return [Math.max(b.start(i), ahead), b.end(i)];
    }
    return undefined;
  }

  async #initFor(seg: TimelineSegment): Promise<VodInit> {
    if (this.#init?.key !== seg.init.key) this.#init = await loadInit(seg.init, MAX_SEGMENT_BYTES, this.#abort.signal);
    return this.#init;
  }

  async #appendInit(init: VodInit): Promise<void> {
    if (this.#appendedInit === init.key) return;
    if (!this.#sb) {
      const ctor = mediaSourceClass()?.ctor;
      if (ctor && !ctor.isTypeSupported(init.mime)) throw new HttpRefusal(0, `unsupported codecs: ${init.mime}`);
      this.#sb = this.#ms!.addSourceBuffer(init.mime);
    } else if (init.mime !== this.mime) {
      this.#sb.changeType(init.mime);
    }
    this.mime = init.mime;
    const generation = this.#generation;
    await this.#sbOp(() => this.#sb!.appendBuffer(init.bytes as Uint8Array<ArrayBuffer>), true);
    if (generation === this.#generation) this.#appendedInit = init.key;
  }

  /** Appends a segment; a full buffer first frees what is behind the playhead, once. */
  async #append(bytes: Uint8Array): Promise<void> {
    try {
      await this.#sbOp(() => this.#sb!.appendBuffer(bytes as Uint8Array<ArrayBuffer>), true);
    } catch (e) {
      if ((e as DOMException).name !== "QuotaExceededError") throw e;
      const t = this.parts.video.currentTime;
      await this.#sbOp(() => this.#sb!.remove(0, Math.max(0.1, t - 2)));
      this.#forget(0, t - 2);
      await this.#sbOp(() => this.#sb!.appendBuffer(bytes as Uint8Array<ArrayBuffer>), true);
    }
  }

  /** Runs a SourceBuffer operation to its `updateend`; `append`: a seek may abort it meanwhile. */
  async #sbOp(call: () => void, append = false): Promise<void> {
    this.#appending = append;
    try {
      await sourceBufferOp(this.#sb!, call);
    } finally {
      this.#appending = false;
    }
  }

  #fail(e: unknown): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#abort.abort();
    this.parts.setState("error", (e as Error).message ?? String(e));
  }

  /** A seek outside what is buffered: drop the work in flight and load from the new position. */
  readonly #onSeeking = (): void => {
    const v = this.parts.video;
    if (rangeIndexAt(v.buffered, v.currentTime, 0.1) < 0) {
      this.#generation++;
      this.#abort.abort();
      this.#abort = new AbortController();
      if (this.#appending && this.#sb?.updating && this.#ms?.readyState === "open") {
        this.#sb.abort();
        this.#appendedInit = "";
      }
    }
    this.pump();
  };

  readonly #onTime = (): void => this.pump();

  readonly #onEnded = (): void => this.parts.setState("ended", "end of the recording");

  readonly #onPlaying = (): void => {
    if (this.#started && !this.#stopped) this.parts.setState("playing", this.mime);
  };
}
