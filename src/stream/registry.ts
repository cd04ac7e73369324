import { Stream } from "./stream.ts";

/**
 * Streams by name. A stream with a publisher or viewers is always kept; idle ones are remembered
 * (so their counters survive publisher restarts) up to `idleCap`, oldest idle forgotten first.
 */
export class StreamRegistry {
  private readonly streams = new Map<string, Stream>();
  /** Idle stream names, oldest first (a Map keeps insertion order). */
  private readonly idle = new Map<string, true>();
  private readonly gopCacheBytes: number;
  private readonly idleCap: number;

  constructor(gopCacheBytes: number, idleCap = 256) {
    this.gopCacheBytes = gopCacheBytes;
    this.idleCap = idleCap;
  }

  get(name: string): Stream | undefined {
    return this.streams.get(name);
  }

  /** The stream called `name` for a publisher (local or fed from the cluster), created on first use. */
  open(name: string): Stream {
    this.idle.delete(name);
    let s = this.streams.get(name);
    if (!s) {
      s = new Stream(name, this.gopCacheBytes);
      this.streams.set(name, s);
    }
    return s;
  }

  /**
   * The stream called `name` for a viewer. A name nobody published gets an unlisted stream that lives
   * only while it has viewers (they are told `waiting`): viewers cannot create entries in the API or the
   * metrics, nor push real streams' counters out of the idle list (issue 10).
   */
  watch(name: string): Stream {
    return this.streams.get(name) ?? this.open(name);
  }

  /** Call when `name` may have become idle (no publisher, no viewers): it joins the bounded idle list, or is forgotten if never published. */
  prune(name: string): void {
    const s = this.streams.get(name);
    if (!s || s.publisher !== undefined || s.viewers > 0) return;
    this.idle.delete(name);
    if (!s.listed) {
      this.streams.delete(name);
      return;
    }
    this.idle.set(name, true);
    while (this.idle.size > this.idleCap) {
      const oldest = this.idle.keys().next().value as string;
      this.idle.delete(oldest);
      this.streams.delete(oldest);
    }
  }

  /** Streams that have had a publisher (live or remembered idle), for the API and the metrics. */
  all(): Stream[] {
    return [...this.streams.values()].filter((s) => s.listed);
  }
}
