import { OPUS_SAMPLE_RATE, opusPacketSamples } from "../codec/opus.ts";
import { opusChannels, opusHeadFor, readOpusControlHeader } from "../codec/opus-ts.ts";
import type { AudioTrackConfig, CodedFrame } from "../remux/frame.ts";
import type { PesPacket } from "./pes.ts";
import { type TrackTimeline, TS_TIMESCALE } from "./timeline.ts";
import type { ElementaryTrack, TsCounters } from "./track.ts";

/**
 * An Opus track (stream_type 0x06 with the 'Opus' registration descriptor). A PES holds
 * opus_access_units (control header + one Opus packet); each packet becomes a frame, the first timed
 * by the PES's PTS and the next ones by the durations their TOC bytes give (RFC 6716 §3.1). The
 * OpusHead comes from the PMT's channel_config_code and, for pre-skip, the start_trim of the first
 * access unit (ffmpeg writes the encoder delay there; 0 when absent). Times stay in 90 kHz ticks.
 */
export class OpusTrack implements ElementaryTrack {
  readonly kind = "audio";
  config: AudioTrackConfig | undefined;

  constructor(
    readonly pid: number,
    readonly timeline: TrackTimeline,
    private readonly counters: TsCounters,
    private readonly channelConfigCode: number,
  ) {}

  onDamage(): void {}

  onPes(pes: PesPacket, out: CodedFrame[]): void {
    const data = pes.payload;
    let pos = 0;
    let time: number | undefined;
    let offset = 0;
    while (pos < data.byteLength) {
      const h = readOpusControlHeader(data, pos);
      const start = pos + (h?.headerLength ?? 0);
      if (!h || start + h.auSize > data.byteLength) {
        // Broken framing (or an access unit split across PES, which the draft does not allow): drop the rest.
        this.counters.malformedData++;
        return;
      }
      const packet = data.subarray(start, start + h.auSize);
      pos = start + h.auSize;
      if (!this.config) {
        const head = opusHeadFor(this.channelConfigCode, h.startTrim ?? 0)!;
        this.config = {
          kind: "audio",
          codec: "opus",
          config: head,
          sampleRate: OPUS_SAMPLE_RATE,
          channels: opusChannels(this.channelConfigCode)!,
          timescale: TS_TIMESCALE,
        };
      }
      if (time === undefined) {
        if (pes.pts !== undefined) time = this.timeline.map(pes.pts, pes.pts, pes.discontinuity).dts;
        else if (this.timeline.nextOut !== undefined) time = Math.round(this.timeline.nextOut);
        else {
          this.counters.droppedFrames++;
          continue;
        }
      }
      // 48 kHz samples → 90 kHz ticks: ×1.875, exact for every Opus frame size (multiples of 120 samples).
      const duration = (opusPacketSamples(packet) * TS_TIMESCALE) / OPUS_SAMPLE_RATE;
      const dts = time + offset;
      offset += duration;
      if (dts <= (this.timeline.last ?? -Infinity) || packet.byteLength === 0) {
        this.counters.droppedFrames++;
        continue;
      }
      this.timeline.advance(dts, duration);
      out.push({ kind: "audio", dts, pts: dts, keyframe: true, data: packet.slice(), arrivalMs: pes.arrivalMs });
    }
  }
}
