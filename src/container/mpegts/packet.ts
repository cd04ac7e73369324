import { TS_PACKET_SIZE } from "./detect.ts";

/**
 * Transport packet headers, ISO/IEC 13818-1 §2.4.3.2 (packet) and §2.4.3.4 (adaptation field).
 */

/** PIDs with a fixed meaning (ISO/IEC 13818-1 Table 2-3). */
export const PAT_PID = 0x0000;
export const NULL_PID = 0x1fff;

/** The fields of one transport packet a demuxer acts on. Reused between packets (no allocation per packet). */
export interface PacketHeader {
  pid: number;
  /** payload_unit_start_indicator. */
  pusi: boolean;
  /** transport_error_indicator: the packet is known to be damaged. */
  error: boolean;
  /** transport_scrambling_control is not 0. */
  scrambled: boolean;
  continuityCounter: number;
  /** adaptation_field_control says a payload is present (the continuity counter then counts; the payload may still be empty). */
  hasPayload: boolean;
  /** Offset of the payload from the sync byte. */
  payloadStart: number;
  /** discontinuity_indicator of the adaptation field. */
  discontinuity: boolean;
}

/** A blank header for `readPacketHeader` to fill. */
export function newPacketHeader(): PacketHeader {
  return {
    pid: 0,
    pusi: false,
    error: false,
    scrambled: false,
    continuityCounter: 0,
    hasPayload: false,
    payloadStart: 4,
    discontinuity: false,
  };
}

/**
 * Fills `h` from the 188-byte packet at `p[at..at+188]` (`p[at]` is the sync byte). Returns false
 * when the header contradicts itself: adaptation_field_control 00 (reserved), or an
 * adaptation_field_length past the packet (at most 183 with a payload, 183 without, §2.4.3.5).
 */
export function readPacketHeader(p: Uint8Array, at: number, h: PacketHeader): boolean {
  const b1 = p[at + 1]!;
  const b3 = p[at + 3]!;
  h.error = (b1 & 0x80) !== 0;
  h.pusi = (b1 & 0x40) !== 0;
  h.pid = ((b1 & 0x1f) << 8) | p[at + 2]!;
  h.scrambled = (b3 & 0xc0) !== 0;
  h.continuityCounter = b3 & 0x0f;
  h.discontinuity = false;
  const afc = (b3 >> 4) & 3;
  if (afc === 0) return false;
  let payloadStart = 4;
  if (afc & 2) {
    const afLength = p[at + 4]!;
    if (afLength > TS_PACKET_SIZE - 5) return false;
    if (afLength > 0) h.discontinuity = (p[at + 5]! & 0x80) !== 0;
    payloadStart = 5 + afLength;
  }
  h.payloadStart = payloadStart;
  h.hasPayload = (afc & 1) !== 0;
  return true;
}
