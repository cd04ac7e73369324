/**
 * Audio timestamps for the remuxer: frames counted in samples, not in the source's clock. RTMP
 * stamps AAC frames in whole milliseconds (21 or 22 ms for 1024 samples at 48 kHz), and some
 * publishers jitter by more (GStreamer's rtmp2sink: single frames 16 ms late); written as is, sample
 * durations would be off and MSE would see small gaps and overlaps. The clock converts each frame's
 * source time to the track's sample rate and snaps it to the end of the previous frame while it lies
 * less than a whole frame from it, so a continuous source becomes exactly continuous. A frame a whole
 * frame or more late starts a new timeline there (a real gap); one a whole frame or more early
 * overlaps audio already placed and is dropped (a clock running slow then loses a frame now and then
 * instead of drifting away from the video), as hls.js does.
 */

/** Converts one audio track's source times to sample-rate ticks, snapped to a continuous timeline. */
export class AudioClock {
  /** Where the next frame starts when the stream is continuous (output ticks); undefined before the first. */
  private expected: number | undefined;
  /** Frames placed more than a source tick away from their source time. */
  retimed = 0;

  constructor(
    private readonly inRate: number,
    private readonly outRate: number,
  ) {}

  /**
   * Output dts of a frame of `samples` output ticks whose source dts is `dts`, or undefined when the
   * frame lies a whole frame or more before the end of the audio already placed (drop it).
   */
  place(dts: number, samples: number): number | undefined {
    const converted = Math.round(this.inRate === this.outRate ? dts : (dts * this.outRate) / this.inRate);
    const expected = this.expected;
    let out = converted;
    if (expected !== undefined) {
      const drift = converted - expected;
      if (drift <= -samples) return undefined;
      if (drift < samples) {
        out = expected;
        if (Math.abs(drift) * this.inRate > this.outRate) this.retimed++;
      }
    }
    this.expected = out + samples;
    return out;
  }
}
