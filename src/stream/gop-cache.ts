/** A fragment as the stream layer keeps it: the bytes plus what joining needs to know. */
export interface CachedFragment {
  bytes: Uint8Array;
  keyframe: boolean;
  /** Monotonic per-stream sequence number, never reused across publisher restarts. */
  seq: number;
  /** Decode time of the first sample in `timescale` ticks (set by `Stream.addFragment`; cluster mode forwards it). */
  decodeTime?: number;
  timescale?: number;
  /** Earliest decode time over all tracks, seconds of the stream's timeline; NaN or undefined if unknown. */
  start?: number;
  /** Duration in `timescale` ticks when the container states it. */
  duration?: number;
  /** fMP4 `prft`: NTP wallclock (ms since the Unix epoch) of `prftMediaTime` (ticks of `timescale`). */
  prftWallclockMs?: number;
  prftMediaTime?: number;
  /** Wallclock (ms since the Unix epoch) at which Sluice took the fragment in. */
  arrivedMs?: number;
}

/**
 * The latest group of pictures: the newest fragment that starts with a video keyframe and every
 * fragment after it, capped in bytes. A GOP that outgrows the cap is dropped whole (a partial GOP
 * cannot be decoded from its start), and nothing is cached again until the next keyframe.
 */
export class GopCache {
  private frags: CachedFragment[] = [];
  private size = 0;
  readonly capBytes: number;

  constructor(capBytes: number) {
    this.capBytes = capBytes;
  }

  /** Cached fragments in order; the first one, when any, is a keyframe fragment. */
  get fragments(): readonly CachedFragment[] {
    return this.frags;
  }

  get bytes(): number {
    return this.size;
  }

  add(frag: CachedFragment): void {
    if (frag.keyframe) this.clear();
    else if (this.frags.length === 0) return; // no keyframe to start from yet
    if (this.size + frag.bytes.byteLength > this.capBytes) {
      this.clear();
      return;
    }
    this.frags.push(frag);
    this.size += frag.bytes.byteLength;
  }

  clear(): void {
    this.frags = [];
    this.size = 0;
  }
}
