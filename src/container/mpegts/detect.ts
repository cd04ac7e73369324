/**
 * Telling MPEG-TS (ISO/IEC 13818-1 §2.4.3) from other bytes by its sync byte.
 */

export const SYNC_BYTE = 0x47;
/** A transport packet. */
export const TS_PACKET_SIZE = 188;
/** A BDAV/M2TS source packet: a 4-byte TP_extra_header (copy permission + 30-bit arrival time stamp) then a transport packet. */
export const M2TS_PACKET_SIZE = 192;
/** Bytes `detectMpegTs` needs to decide: three packets of the larger kind, up to the third sync byte. */
export const DETECT_BYTES = 2 * M2TS_PACKET_SIZE + 4 + 1;

/** 188-byte transport packets, or 192-byte BDAV/M2TS source packets. */
export type TsFlavour = "ts" | "m2ts";

/**
 * "ts" when the sync byte 0x47 is at 0, 188 and 376; "m2ts" when it is at 4, 196 and 388 (192-byte
 * packets behind a 4-byte timestamp); null otherwise, or when `head` is too short to hold three
 * sync bytes of either kind (give it `DETECT_BYTES` bytes to decide).
 */
export function detectMpegTs(head: Uint8Array): TsFlavour | null {
  const at = (o: number) => o < head.byteLength && head[o] === SYNC_BYTE;
  if (at(0) && at(TS_PACKET_SIZE) && at(2 * TS_PACKET_SIZE)) return "ts";
  if (at(4) && at(4 + M2TS_PACKET_SIZE) && at(4 + 2 * M2TS_PACKET_SIZE)) return "m2ts";
  return null;
}
