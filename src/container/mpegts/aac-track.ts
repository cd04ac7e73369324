import { equalBytes } from "../bytes.ts";
import { AAC_FRAME_SAMPLES, aacChannels } from "../codec/aac.ts";
import { type AdtsHeader, adtsAudioSpecificConfig, readAdtsHeader } from "../codec/adts.ts";
import type { AudioTrackConfig, CodedFrame } from "../remux/frame.ts";
import type { PesPacket } from "./pes.ts";
import { type TrackTimeline, TS_TIMESCALE } from "./timeline.ts";
import type { ElementaryTrack, TsCounters } from "./track.ts";

/**
 * An AAC-in-ADTS track (stream_type 0x0F). A PES holds one or more ADTS frames; each becomes a
 * frame of 1024 samples, the first one timed by the PES's PTS (which belongs to the first frame
 * that starts in the PES, §2.4.3.7), the next ones 1024 samples later each. A frame split across
 * two PES is joined (its time follows the previous frame). Times stay in 90 kHz ticks.
 */
export class AacTrack implements ElementaryTrack {
  readonly kind = "audio";
  config: AudioTrackConfig | undefined;
  failed = false;
  /** Start of an ADTS frame that continues in the next PES. */
  private carry: Uint8Array | undefined;

  /** `sniffed`: the PMT did not say this is AAC; the first PES must start with an ADTS header, else the track is given up. */
  constructor(
    readonly pid: number,
    readonly timeline: TrackTimeline,
    private readonly counters: TsCounters,
    private sniffed = false,
  ) {}

  onDamage(): void {
    this.carry = undefined;
  }

  onPes(pes: PesPacket, out: CodedFrame[]): void {
    const data = pes.payload;
    if (this.failed) return;
    if (this.sniffed) {
      this.sniffed = false;
      if (!readAdtsHeader(data, 0)) {
        this.failed = true;
        return;
      }
    }
    let pos = 0;
    if (this.carry) {
      const carry = this.carry;
      this.carry = undefined;
      const h = readAdtsHeader(carry, 0)!;
      const rest = h.frameLength - carry.byteLength;
      if (rest <= data.byteLength) {
        const whole = new Uint8Array(h.frameLength);
        whole.set(carry);
        whole.set(data.subarray(0, rest), carry.byteLength);
        const next = this.timeline.nextOut;
        if (next !== undefined) this.emit(whole, h, Math.round(next), pes.arrivalMs, out);
        pos = rest;
      } else {
        this.counters.malformedData++; // an ADTS frame longer than what follows it: not a split frame
      }
    }
    let time: number | undefined;
    let frameIndex = 0;
    let skipping = false;
    while (pos < data.byteLength) {
      const h = readAdtsHeader(data, pos);
      if (!h) {
        // Lost ADTS sync inside the PES: look for the next syncword (counted once per run).
        if (!skipping) this.counters.malformedData++;
        skipping = true;
        pos++;
        continue;
      }
      skipping = false;
      if (pos + h.frameLength > data.byteLength) {
        this.carry = data.slice(pos);
        break;
      }
      if (time === undefined) {
        if (pes.pts !== undefined) time = this.timeline.map(pes.pts, pes.pts, pes.discontinuity).dts;
        else if (this.timeline.nextOut !== undefined) time = Math.round(this.timeline.nextOut);
        else {
          this.counters.droppedFrames++;
          pos += h.frameLength;
          continue;
        }
      }
      const dts = time + Math.round((frameIndex * AAC_FRAME_SAMPLES * TS_TIMESCALE) / h.sampleRate);
      this.emit(data.subarray(pos, pos + h.frameLength), h, dts, pes.arrivalMs, out);
      frameIndex += h.rawBlocks;
      pos += h.frameLength;
    }
  }

  private emit(frame: Uint8Array, h: AdtsHeader, dts: number, arrivalMs: number, out: CodedFrame[]): void {
    const duration = (h.rawBlocks * AAC_FRAME_SAMPLES * TS_TIMESCALE) / h.sampleRate;
    if (dts <= (this.timeline.last ?? -Infinity)) return void this.counters.droppedFrames++;
    this.timeline.advance(dts, duration);
    const channels = aacChannels(h.channelConfig);
    // Several raw_data_blocks in one ADTS frame cannot be split without decoding; channel configuration 0 needs the PCE.
    if (h.rawBlocks !== 1 || channels === 0) return void this.counters.malformedData++;
    this.updateConfig(h, channels);
    out.push({ kind: "audio", dts, pts: dts, keyframe: true, data: frame.slice(h.headerLength), arrivalMs });
  }

  private updateConfig(h: AdtsHeader, channels: number): void {
    const asc = adtsAudioSpecificConfig(h);
    if (this.config && equalBytes(this.config.config, asc)) return;
    this.config = { kind: "audio", codec: "aac", config: asc, sampleRate: h.sampleRate, channels, timescale: TS_TIMESCALE };
  }
}
