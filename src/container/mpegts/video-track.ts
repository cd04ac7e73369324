import { equalBytes } from "../bytes.ts";
import { type AccessUnit, type NalCodec, splitAccessUnit } from "../codec/access-unit.ts";
import { ParameterSets } from "../codec/parameter-sets.ts";
import { ParseError } from "../errors.ts";
import type { CodedFrame, VideoTrackConfig } from "../remux/frame.ts";
import type { PesPacket } from "./pes.ts";
import { type TrackTimeline, TS_TIMESCALE } from "./timeline.ts";
import type { ElementaryTrack, TsCounters } from "./track.ts";

/**
 * An H.264 (stream_type 0x1B) or H.265 (0x24) track. Each PES is taken as one access unit (what
 * every common muxer writes; a PES that starts mid-access-unit is not reassembled). Parameter sets
 * build the avcC/hvcC; frames before the first keyframe, and after a lost PES until the next
 * keyframe, are dropped (a decoder cannot use them).
 */
export class VideoTrack implements ElementaryTrack {
  readonly kind = "video";
  config: VideoTrackConfig | undefined;
  private readonly params: ParameterSets;
  private waitKeyframe = true;

  constructor(
    readonly codec: NalCodec,
    readonly pid: number,
    readonly timeline: TrackTimeline,
    private readonly counters: TsCounters,
  ) {
    this.params = new ParameterSets(codec);
  }

  onDamage(): void {
    this.waitKeyframe = true;
  }

  onPes(pes: PesPacket, out: CodedFrame[]): void {
    const au = splitAccessUnit(this.codec, pes.payload);
    if (au.vps.length + au.sps.length + au.pps.length > 0) this.updateConfig(au);
    if (au.data.byteLength === 0) return;
    const next = this.timeline.nextOut;
    if (!this.config || (this.waitKeyframe && !au.keyframe) || (pes.pts === undefined && next === undefined)) {
      this.counters.droppedFrames++;
      return;
    }
    this.waitKeyframe = false;
    // A PES without PTS (allowed when under 0.7 s apart, §2.7.4) continues from the previous frame.
    const { dts, pts } =
      pes.pts === undefined
        ? { dts: Math.round(next!), pts: Math.round(next!) }
        : this.timeline.map(pes.dts ?? pes.pts, pes.pts, pes.discontinuity);
    this.timeline.advance(dts, 0);
    out.push({ kind: "video", dts, pts, keyframe: au.keyframe, data: au.data, arrivalMs: pes.arrivalMs });
  }

  private updateConfig(au: AccessUnit): void {
    try {
      if (!this.params.update(au)) return;
      const c = this.params.config();
      if (!c || (this.config && equalBytes(this.config.record, c.record))) return;
      this.config = { kind: "video", codec: this.codec, record: c.record, width: c.width, height: c.height, timescale: TS_TIMESCALE };
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      this.counters.malformedData++;
    }
  }
}
