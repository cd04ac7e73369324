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

/** AAC frames are 1024 samples (ISO/IEC 14496-3 §4.5.1.1, frameLengthFlag 0; 960 is not met in practice). */
export const AAC_FRAME_SAMPLES = 1024;

/** Opus frame sizes in 48 kHz samples by TOC config (RFC 6716 §3.1 table 2): SILK, hybrid, CELT. */
const OPUS_FRAME_SAMPLES = [
  480,
  960,
  1920,
  2880,
  480,
  960,
  1920,
  2880,
  480,
  960,
  1920,
  2880, // SILK NB/MB/WB 10/20/40/60 ms
  480,
  960,
  480,
  960, // hybrid SWB/FB 10/20 ms
  120,
  240,
  480,
  960,
  120,
  240,
  480,
  960,
  120,
  240,
  480,
  960,
  120,
  240,
  480,
  960, // CELT 2.5/5/10/20 ms
];
/** RFC 6716 §3.2.5: a packet never holds more than 120 ms. */
const OPUS_MAX_PACKET_SAMPLES = 5760;
/** What an empty or unreadable Opus packet counts as: 20 ms, the usual frame. */
const OPUS_DEFAULT_SAMPLES = 960;

/**
 * Samples (at 48 kHz) in one Opus packet, from its TOC byte and, for code 3, the frame count byte
 * (RFC 6716 §3.1–§3.2.5). A packet too short to say counts as 20 ms.
 */
export function opusPacketSamples(packet: Uint8Array): number {
  const toc = packet[0];
  if (toc === undefined) return OPUS_DEFAULT_SAMPLES;
  const perFrame = OPUS_FRAME_SAMPLES[toc >> 3]!;
  const code = toc & 0x03;
  let frames = code === 0 ? 1 : code === 3 ? (packet[1] ?? 0) & 0x3f : 2;
  if (frames === 0) frames = 1;
  return Math.min(perFrame * frames, OPUS_MAX_PACKET_SAMPLES);
}

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
