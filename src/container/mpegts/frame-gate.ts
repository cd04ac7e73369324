import type { CodedFrame, DemuxEvent, TrackConfig } from "../remux/frame.ts";
import { TS_TIMESCALE } from "./timeline.ts";
import type { ElementaryTrack } from "./track.ts";

/** How long (media time) frames are held for a selected track whose configuration is still unknown: 5 s. */
export const MAX_HOLD_TICKS = 5 * TS_TIMESCALE;

/**
 * Orders `tracks` events before frames. Until every selected track knows its configuration, frames
 * are held (oldest dropped past the byte budget); once all do (or the held frames span
 * `MAX_HOLD_TICKS`, so a declared but silent track cannot stall the others) a `tracks` event with
 * the known configurations goes out, then the held frames. Afterwards any configuration change, or
 * a track becoming known late, emits a new `tracks` event before the next frame.
 */
export class FrameGate {
  private tracks: ElementaryTrack[] = [];
  private announced = new Map<ElementaryTrack, TrackConfig>();
  private open = false;
  private held: Array<CodedFrame | undefined> = [];
  private heldHead = 0;
  private heldSize = 0;
  /** A `tracks` event went out at least once. */
  everAnnounced = false;

  constructor(
    private readonly budget: () => number,
    private readonly onDrop: (n: number) => void,
  ) {}

  /** Bytes of held frames. */
  get heldBytes(): number {
    return this.heldSize;
  }

  /** A new set of selected tracks (a program change): held frames are dropped, the next frames wait for the new configurations. */
  setTracks(tracks: ElementaryTrack[]): void {
    this.dropHeld(this.held.length - this.heldHead);
    this.tracks = tracks;
    this.open = false;
  }

  /** The next frame of any selected track, in stream order. */
  offer(frame: CodedFrame, events: DemuxEvent[]): void {
    if (!this.open) {
      const first = this.held[this.heldHead];
      const waitedTooLong = first !== undefined && frame.dts - first.dts > MAX_HOLD_TICKS;
      if (!this.tracks.every((t) => t.config || t.failed) && !waitedTooLong) {
        this.hold(frame);
        return;
      }
      this.release(events);
    } else if (this.changed()) {
      this.announce(events);
    }
    events.push({ type: "frame", frame });
  }

  /** End of stream: whatever is held goes out behind a `tracks` event of the known configurations. */
  finish(events: DemuxEvent[]): void {
    if (!this.open && this.tracks.some((t) => t.config)) this.release(events);
  }

  private release(events: DemuxEvent[]): void {
    this.announce(events);
    this.open = true;
    for (let i = this.heldHead; i < this.held.length; i++) events.push({ type: "frame", frame: this.held[i]! });
    this.held = [];
    this.heldHead = 0;
    this.heldSize = 0;
  }

  private changed(): boolean {
    let known = 0;
    for (const t of this.tracks) {
      if (!t.config) continue;
      known++;
      if (this.announced.get(t) !== t.config) return true;
    }
    return known !== this.announced.size;
  }

  private announce(events: DemuxEvent[]): void {
    this.announced = new Map();
    const configs: TrackConfig[] = [];
    for (const t of this.tracks) {
      if (!t.config) continue;
      this.announced.set(t, t.config);
      configs.push(t.config);
    }
    events.push({ type: "tracks", tracks: configs });
    this.everAnnounced = true;
  }

  private hold(frame: CodedFrame): void {
    this.held.push(frame);
    this.heldSize += frame.data.byteLength;
    let drop = 0;
    while (this.heldSize > this.budget() && this.heldHead + drop < this.held.length) {
      this.heldSize -= this.held[this.heldHead + drop]!.data.byteLength;
      drop++;
    }
    if (drop > 0) this.dropFront(drop);
  }

  private dropFront(n: number): void {
    for (let i = 0; i < n; i++) this.held[this.heldHead + i] = undefined; // unpin the dropped data now
    this.heldHead += n;
    this.onDrop(n);
    if (this.heldHead > 1024 && 2 * this.heldHead > this.held.length) {
      this.held = this.held.slice(this.heldHead);
      this.heldHead = 0;
    }
  }

  private dropHeld(n: number): void {
    if (n > 0) this.onDrop(n);
    this.held = [];
    this.heldHead = 0;
    this.heldSize = 0;
  }
}
