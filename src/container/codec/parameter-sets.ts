import { equalBytes } from "../bytes.ts";
import { ParseError } from "../errors.ts";
import type { AccessUnit, NalCodec } from "./access-unit.ts";
import { buildAvcDecoderConfig } from "./avc-config.ts";
import { h264PpsId, parseH264Sps } from "./h264-sps.ts";
import { buildHevcDecoderConfig } from "./hevc-config.ts";
import { hevcPpsId, hevcVpsId, parseHevcSps } from "./hevc-sps.ts";

/** A decoder configuration record and the picture size its first SPS gives. */
export interface VideoConfig {
  record: Uint8Array;
  width: number;
  height: number;
}

type Kind = "vps" | "sps" | "pps";
/** numOfPictureParameterSets is a u8 in avcC (ISO/IEC 14496-15 §5.3.3.1.2). */
const MAX_IDS = 255;

/**
 * The latest parameter set of each id seen in a stream (ids are bounded by the specs: H.264 SPS
 * 0..31 and PPS 0..255, H.265 VPS/SPS 0..15 and PPS 0..63, so memory is bounded too), and the
 * decoder configuration record built from them, rebuilt only when one of them changes.
 */
export class ParameterSets {
  readonly codec: NalCodec;
  private readonly sets = new Map<Kind, Map<number, Uint8Array>>([
    ["vps", new Map()],
    ["sps", new Map()],
    ["pps", new Map()],
  ]);
  private cached: VideoConfig | undefined;
  private dirty = false;

  constructor(codec: NalCodec) {
    this.codec = codec;
  }

  /**
   * Stores the parameter sets of `au` (copies). Returns true when one of them is new or differs
   * from what its id held. Throws `ParseError("malformed")` when an id cannot be read.
   */
  update(au: AccessUnit): boolean {
    let changed = false;
    for (const nal of au.vps) changed = this.put("vps", hevcVpsId(nal), nal) || changed;
    for (const nal of au.sps) changed = this.put("sps", this.codec === "avc" ? parseH264Sps(nal).id : parseHevcSps(nal).id, nal) || changed;
    for (const nal of au.pps) changed = this.put("pps", this.codec === "avc" ? h264PpsId(nal) : hevcPpsId(nal), nal) || changed;
    if (changed) this.dirty = true;
    return changed;
  }

  /**
   * The record (avcC / hvcC) of every stored set in id order, or undefined while a needed type is
   * missing. Throws `ParseError("malformed")` when the first SPS cannot be parsed.
   */
  config(): VideoConfig | undefined {
    if (!this.dirty) return this.cached;
    const list = (k: Kind) => [...this.sets.get(k)!.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
    const sps = list("sps");
    const pps = list("pps");
    const vps = list("vps");
    if (sps.length === 0 || pps.length === 0 || (this.codec === "hevc" && vps.length === 0)) return undefined;
    const first = this.codec === "avc" ? parseH264Sps(sps[0]!) : parseHevcSps(sps[0]!);
    const record = this.codec === "avc" ? buildAvcDecoderConfig(sps, pps) : buildHevcDecoderConfig(vps, sps, pps);
    this.cached = { record, width: first.width, height: first.height };
    this.dirty = false;
    return this.cached;
  }

  private put(kind: Kind, id: number, nal: Uint8Array): boolean {
    const map = this.sets.get(kind)!;
    const old = map.get(id);
    if (old && equalBytes(old, nal)) return false;
    if (!old && map.size >= MAX_IDS) return false; // a record counts at most 255 sets of a type
    if (nal.byteLength > 0xffff) throw new ParseError("malformed", `${this.codec} ${kind} above 65535 bytes`);
    map.set(id, nal.slice());
    return true;
  }
}
