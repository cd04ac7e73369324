import type { FragmentEvent, InitEvent } from "../container/types.ts";
import type { StreamAnnouncement } from "../protocol/messages.ts";
import { type CachedFragment, GopCache } from "./gop-cache.ts";
import { StreamStats } from "./stream-stats.ts";

/** What viewers are told about a live stream (the `stream` message minus its type). */
export type StreamDescription = Omit<StreamAnnouncement, "type">;

/**
 * The state of one named stream: its current init segment and type string, the GOP cache, a
 * monotonic fragment sequence, counters, and which publisher (if any) owns it. No sockets: the
 * transport layer turns the results of these calls into messages.
 */
export class Stream {
  readonly name: string;
  readonly gop: GopCache;
  readonly stats = new StreamStats();
  /** The current init segment; undefined while no publisher has sent one. */
  init: InitEvent | undefined;
  /** Opaque id of the publisher that owns the stream, undefined when none. */
  publisher: string | undefined;
  /** Sequence number of the last fragment (0: none yet). Never reset, so restarts stay ordered. */
  seq = 0;
  /** Viewers currently attached (maintained by the transport layer). */
  viewers = 0;

  constructor(name: string, gopCacheBytes: number) {
    this.name = name;
    this.gop = new GopCache(gopCacheBytes);
  }

  /** Whether a publisher ever claimed it: only such streams are shown in the API and the metrics. */
  get listed(): boolean {
    return this.stats.publisherConnects > 0;
  }

  /** Live = a publisher owns it and its init segment has arrived. */
  get live(): boolean {
    return this.publisher !== undefined && this.init !== undefined;
  }

  /** Takes ownership for `publisher`; false when another publisher already owns the stream. */
  claim(publisher: string, now: number): boolean {
    if (this.publisher !== undefined) return false;
    this.publisher = publisher;
    this.stats.connected(now);
    return true;
  }

  /** A new init segment (first, or the publisher's muxer restarted): the old GOP is useless now. */
  setInit(init: InitEvent): void {
    this.init = init;
    this.gop.clear();
  }

  /** Records a fragment, caches it when it belongs to the current GOP, and returns it numbered. */
  addFragment(frag: FragmentEvent, now: number): CachedFragment {
    const cached: CachedFragment = {
      bytes: frag.bytes,
      keyframe: frag.keyframe,
      seq: ++this.seq,
      decodeTime: frag.decodeTime,
      timescale: frag.timescale,
      start: frag.start,
      duration: frag.duration,
      prftWallclockMs: frag.prftWallclockMs,
      prftMediaTime: frag.prftMediaTime,
      arrivedMs: now,
    };
    this.stats.fragment(now, frag.bytes.byteLength, frag.keyframe, frag.decodeTime / frag.timescale);
    this.gop.add(cached);
    return cached;
  }

  /** Releases ownership when `publisher` owns it; drops init and GOP. Returns whether it was the owner. */
  release(publisher: string): boolean {
    if (this.publisher !== publisher) return false;
    this.publisher = undefined;
    this.init = undefined;
    this.gop.clear();
    this.stats.ended();
    return true;
  }

  /** The description viewers get in the `stream` message, or undefined when not live. */
  describe(): StreamDescription | undefined {
    const init = this.init;
    if (!init || !this.live) return undefined;
    const video = init.tracks.find((t) => t.kind === "video");
    return { stream: this.name, mime: init.mime, format: init.format, tracks: init.tracks, width: video?.width, height: video?.height };
  }
}
