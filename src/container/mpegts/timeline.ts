/**
 * Turning 33-bit, 90 kHz PTS/DTS (ISO/IEC 13818-1 §2.4.3.7) into monotonic per-track times.
 *
 * - Wrap: each new value is taken as the nearest one to the previous (signed step modulo 2^33), so
 *   the count continues past 2^33 (about 26.5 hours).
 * - Time base breaks: a discontinuity_indicator before the PES, or a step of more than
 *   `MAX_FORWARD_STEP` forwards or `MAX_BACKWARD_STEP` backwards. The first track to see a break
 *   starts a new epoch of the shared `ProgramClock`: the offset that puts its first new frame 100 ms
 *   after the latest end any track reached. Tracks that break later in the same epoch take the
 *   same offset, so audio and video stay in sync across the break.
 * - A track's first frame joins the running tracks' time line (a new epoch if it is over 10 s off);
 *   after a program change, the new tracks continue after where the old ones ended.
 * - A time that would still not increase is clamped to the previous one + 1 (counted).
 */

const WRAP = 2 ** 33;
const HALF_WRAP = 2 ** 32;
/** 90 kHz ticks. */
export const TS_TIMESCALE = 90000;
/** A forward step larger than this (10 s) is a time base break, not a gap. */
const MAX_FORWARD_STEP = 10 * TS_TIMESCALE;
/** A backward step larger than this (1 s) is a time base break. */
const MAX_BACKWARD_STEP = TS_TIMESCALE;
/**
 * Room left after the latest end when re-basing (100 ms): the track that breaks first is not always
 * the one that starts earliest in the new time base (audio often leads video by a frame or more), and
 * the others must not land on their own past.
 */
const REBASE_MARGIN = TS_TIMESCALE / 10;

/** Offsets shared by the tracks of one program. */
export class ProgramClock {
  epoch = 0;
  offset = 0;
  /** Latest end (output ticks) of tracks that are gone, so a program change continues after them. */
  private floor: number | undefined;
  private readonly tracks = new Set<TrackTimeline>();
  /** Output times clamped to keep a track monotonic. */
  clamped = 0;
  /** Time base breaks handled (epochs started). */
  breaks = 0;

  timeline(): TrackTimeline {
    const t = new TrackTimeline(this);
    this.tracks.add(t);
    return t;
  }

  /** A track is gone (program change): remember how far it got. */
  retire(t: TrackTimeline): void {
    if (this.tracks.delete(t) && t.nextOut !== undefined) this.floor = Math.max(this.floor ?? -Infinity, t.nextOut);
  }

  /** The latest expected next time over every track, or undefined before any output. */
  latestEnd(): number | undefined {
    let end = this.floor;
    for (const t of this.tracks) if (t.nextOut !== undefined) end = Math.max(end ?? -Infinity, t.nextOut);
    return end;
  }

  /** Whether a current (not retired) track has output a frame. */
  running(): boolean {
    for (const t of this.tracks) if (t.nextOut !== undefined) return true;
    return false;
  }

  /** Starts a new epoch so that `raw` maps to the latest end plus `REBASE_MARGIN` (to itself when nothing ran yet). */
  rebase(raw: number): void {
    this.epoch++;
    this.breaks++;
    const end = this.latestEnd();
    this.offset = end === undefined ? 0 : end + REBASE_MARGIN - raw;
  }
}

/** One track's mapping from raw 90 kHz values to output ticks. */
export class TrackTimeline {
  private lastRaw: number | undefined;
  /** Last DTS in this track's unwrapped count (restarted at each break). */
  private unwrapped = 0;
  private offset = 0;
  private epoch = 0;
  private lastOut: number | undefined;
  /** Where the next frame is expected (output ticks): after the last one by its duration. */
  nextOut: number | undefined;

  constructor(private readonly clock: ProgramClock) {}

  /**
   * Output DTS and PTS for a PES with raw `dts`/`pts` (33-bit). `discontinuity`: a
   * discontinuity_indicator came before this PES.
   */
  map(dts: number, pts: number, discontinuity: boolean): { dts: number; pts: number } {
    const clock = this.clock;
    let u: number;
    if (this.lastRaw === undefined) {
      u = dts;
      this.epoch = clock.epoch;
      this.offset = clock.offset;
      // A track that starts while others run joins their time line unless it is more than 10 s off; the
      // first track after a program change must not start more than 1 s before the old tracks ended.
      const end = clock.latestEnd();
      const behind = clock.running() ? MAX_FORWARD_STEP : MAX_BACKWARD_STEP;
      if (end !== undefined && (u + this.offset < end - behind || u + this.offset > end + MAX_FORWARD_STEP)) {
        clock.rebase(u);
        this.epoch = clock.epoch;
        this.offset = clock.offset;
      }
    } else {
      let step = (dts - this.lastRaw) % WRAP;
      if (step < 0) step += WRAP;
      if (step >= HALF_WRAP) step -= WRAP;
      if (discontinuity || step > MAX_FORWARD_STEP || step < -MAX_BACKWARD_STEP) {
        u = dts;
        if (this.epoch === clock.epoch) clock.rebase(u);
        this.epoch = clock.epoch;
        this.offset = clock.offset;
      } else {
        u = this.unwrapped + step;
      }
    }
    this.lastRaw = dts;
    this.unwrapped = u;
    let outDts = u + this.offset;
    // PTS is DTS plus the composition offset, taken modulo 2^33 so a wrap between them does not matter.
    let cto = (pts - dts) % WRAP;
    if (cto < 0) cto += WRAP;
    if (cto >= HALF_WRAP) cto -= WRAP;
    if (this.lastOut !== undefined && outDts <= this.lastOut) {
      clock.clamped++;
      outDts = this.lastOut + 1;
    }
    return { dts: outDts, pts: outDts + cto };
  }

  /** Records the frame at output `dts` lasting `duration` ticks (0 if unknown: the last step is reused). */
  advance(dts: number, duration: number): void {
    const step = duration > 0 ? duration : this.lastOut !== undefined ? dts - this.lastOut : 0;
    this.lastOut = dts;
    this.nextOut = dts + Math.max(step, 0);
  }

  /** The last output DTS, if any. */
  get last(): number | undefined {
    return this.lastOut;
  }
}
