import { AAC_SAMPLE_RATES } from "./aac.ts";

/**
 * ADTS (Audio Data Transport Stream) headers of AAC, ISO/IEC 14496-3 §1.A.2.2 (the same fields as
 * ISO/IEC 13818-7 §6.2).
 */

/** ADTS header size without / with the CRC (protection_absent 1 / 0). */
const ADTS_HEADER = 7;
const ADTS_HEADER_CRC = 9;

/** The fields of an ADTS header (fixed + variable part) this code uses. */
export interface AdtsHeader {
  /** MPEG-4 audioObjectType: the ADTS profile + 1 (2 = AAC LC). */
  objectType: number;
  samplingIndex: number;
  sampleRate: number;
  /** channel_configuration; 0 means "in a program_config_element", which this code does not read. */
  channelConfig: number;
  /** 7, or 9 with a CRC. */
  headerLength: number;
  /** aac_frame_length: the whole frame, header included. */
  frameLength: number;
  /** number_of_raw_data_blocks_in_frame + 1. */
  rawBlocks: number;
}

/**
 * The ADTS header at `bytes[at..]`, or undefined when fewer than 7 bytes are there, the syncword is
 * missing, layer is not 0, the sampling index is reserved, or aac_frame_length is shorter than the
 * header. A valid result says nothing about whether the whole frame is present.
 */
export function readAdtsHeader(bytes: Uint8Array, at: number): AdtsHeader | undefined {
  if (at < 0 || at + ADTS_HEADER > bytes.byteLength) return undefined;
  const b1 = bytes[at + 1]!;
  // syncword 0xFFF (12 bits), ID (1), layer (2) = 00, protection_absent (1).
  if (bytes[at] !== 0xff || (b1 & 0xf6) !== 0xf0) return undefined;
  const b2 = bytes[at + 2]!;
  const b3 = bytes[at + 3]!;
  const samplingIndex = (b2 >> 2) & 0x0f;
  if (samplingIndex >= AAC_SAMPLE_RATES.length) return undefined; // 13, 14 reserved; 15 (explicit) cannot appear in ADTS
  const headerLength = b1 & 1 ? ADTS_HEADER : ADTS_HEADER_CRC;
  const frameLength = ((b3 & 0x03) << 11) | (bytes[at + 4]! << 3) | (bytes[at + 5]! >> 5);
  if (frameLength < headerLength) return undefined;
  return {
    objectType: (b2 >> 6) + 1,
    samplingIndex,
    sampleRate: AAC_SAMPLE_RATES[samplingIndex]!,
    channelConfig: ((b2 & 1) << 2) | (b3 >> 6),
    headerLength,
    frameLength,
    rawBlocks: (bytes[at + 6]! & 0x03) + 1,
  };
}

/**
 * The 2-byte AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1) an ADTS header implies:
 * audioObjectType (5 bits), samplingFrequencyIndex (4), channelConfiguration (4), then
 * GASpecificConfig with frameLengthFlag, dependsOnCoreCoder and extensionFlag all 0.
 */
export function adtsAudioSpecificConfig(h: AdtsHeader): Uint8Array {
  return Uint8Array.of((h.objectType << 3) | (h.samplingIndex >> 1), ((h.samplingIndex & 1) << 7) | (h.channelConfig << 3));
}
