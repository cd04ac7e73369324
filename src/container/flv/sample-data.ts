import { lengthPrefixed } from "../codec/annexb.ts";
import { H264_NAL, h264NalType } from "../codec/h264-sps.ts";
import { HEVC_NAL, hevcNalType } from "../codec/hevc-sps.ts";
import { ParseError } from "../errors.ts";

/**
 * FLV/E-RTMP coded frames → fMP4 sample bytes, as `CodedFrame.data` documents them.
 */

// NAL units dropped from samples, as splitAccessUnit drops them from MPEG-TS access units: access unit
// delimiters, filler data and parameter sets (those live in the decoder configuration record).
const AVC_DROP = new Set<number>([H264_NAL.SPS, H264_NAL.PPS, H264_NAL.AUD, H264_NAL.FILLER]);
const HEVC_DROP = new Set<number>([HEVC_NAL.VPS, HEVC_NAL.SPS, HEVC_NAL.PPS, HEVC_NAL.AUD, HEVC_NAL.FILLER]);

/**
 * Length-prefixed NAL units (`lengthSize` bytes each, from the record's lengthSizeMinusOne + 1) →
 * 4-byte length-prefixed NAL units without AUD, filler and parameter sets. Empty when nothing is left.
 * Throws `ParseError("malformed")` when a length overruns the frame.
 */
export function nalSample(data: Uint8Array, lengthSize: number, codec: "avc" | "hevc"): Uint8Array {
  const drop = codec === "avc" ? AVC_DROP : HEVC_DROP;
  const nalType = codec === "avc" ? h264NalType : hevcNalType;
  const keep: Uint8Array[] = [];
  let pos = 0;
  while (pos < data.byteLength) {
    if (pos + lengthSize > data.byteLength)
      throw new ParseError("malformed", `NAL unit length field past the end of a ${data.byteLength}-byte frame`);
    let len = 0;
    for (let i = 0; i < lengthSize; i++) len = len * 256 + data[pos + i]!;
    pos += lengthSize;
    if (len > data.byteLength - pos) throw new ParseError("malformed", `NAL unit of ${len} bytes in ${data.byteLength - pos} left`);
    if (len > 0) {
      const nal = data.subarray(pos, pos + len);
      if (!drop.has(nalType(nal))) keep.push(nal);
    }
    pos += len;
  }
  return lengthPrefixed(keep);
}

const OBU_TEMPORAL_DELIMITER = 2; // AV1 spec §6.2.2 obu_type
const OBU_PADDING = 15;

/**
 * One AV1 temporal unit of low-overhead OBUs (AV1 spec §5.2) → the same OBUs without temporal delimiters
 * and padding (AV1-ISOBMFF §2.4). An OBU without obu_has_size_field runs to the end of the frame.
 * Throws `ParseError("malformed")` when a size overruns the frame.
 */
export function av1Sample(data: Uint8Array): Uint8Array {
  const keep: [number, number][] = [];
  let total = 0;
  let pos = 0;
  while (pos < data.byteLength) {
    const start = pos;
    const header = data[pos++]!;
    const type = (header >> 3) & 0x0f;
    if (header & 0x04) pos++; // obu_extension_header
    let end = data.byteLength;
    if (header & 0x02) {
      let size = 0;
      // leb128(), AV1 spec §4.10.5: at most 8 bytes.
      for (let i = 0; ; i++) {
        if (i === 8 || pos >= data.byteLength) throw new ParseError("malformed", "AV1 OBU size field overruns the frame");
        const b = data[pos++]!;
        size += (b & 0x7f) * 2 ** (7 * i);
        if ((b & 0x80) === 0) break;
      }
      end = pos + size;
    }
    if (pos > data.byteLength || end > data.byteLength)
      throw new ParseError("malformed", `AV1 OBU overruns the ${data.byteLength}-byte frame`);
    if (type !== OBU_TEMPORAL_DELIMITER && type !== OBU_PADDING) {
      keep.push([start, end]);
      total += end - start;
    }
    pos = end;
  }
  if (keep.length === 1 && total === data.byteLength) return data.slice();
  const out = new Uint8Array(total);
  let at = 0;
  for (const [s, e] of keep) {
    out.set(data.subarray(s, e), at);
    at += e - s;
  }
  return out;
}
