import { Stream } from "./stream.ts";

/**
 * Streams by name. A stream exists while it has a publisher or viewers; `prune` forgets idle ones
 * so the map stays bounded by what is actually in use.
 */
export class StreamRegistry {
  private readonly streams = new Map<string, Stream>();
  private readonly gopCacheBytes: number;

  constructor(gopCacheBytes: number) {
    this.gopCacheBytes = gopCacheBytes;
  }

  get(name: string): Stream | undefined {
    return this.streams.get(name);
  }

  /** The stream called `name`, created on first use. */
  open(name: string): Stream {
    let s = this.streams.get(name);
    if (!s) {
      s = new Stream(name, this.gopCacheBytes);
      this.streams.set(name, s);
    }
    return s;
  }

  /** Forgets `name` when nobody publishes or watches it. */
  prune(name: string): void {
    const s = this.streams.get(name);
    if (s && s.publisher === undefined && s.viewers === 0) this.streams.delete(name);
  }

  all(): Stream[] {
    return [...this.streams.values()];
  }
}
