import { ParseError } from "../errors.ts";
import { BitReader } from "./bit-reader.ts";

/**
 * MPEG-4 AAC facts shared by every container that carries it (ISO/IEC 14496-3): the sampling
 * frequency and channel tables, the frame length, and the one AudioSpecificConfig reader.
 */

/** Samples per AAC frame (raw_data_block) with frameLengthFlag 0 (§4.5.1.1; 960 is not met in practice). */
export const AAC_FRAME_SAMPLES = 1024;

/** samplingFrequencyIndex → Hz (ISO/IEC 14496-3 §1.6.3, Table 1.18); 13 and 14 are reserved, 15 escapes to 24 bits. */
export const AAC_SAMPLE_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/** samplingFrequencyIndex 15: the frequency follows as 24 bits. */
const EXPLICIT_FREQUENCY = 0xf;
/** audioObjectType 31: the type is 32 + the next 6 bits. */
const OBJECT_TYPE_ESCAPE = 31;

/**
 * Channel count of a channelConfiguration (Table 1.19: 1..6 as such, 7 is 7.1 = 8 channels); 0 for 0
 * (stated in a program_config_element, which this code does not read) and for reserved values.
 */
export function aacChannels(channelConfiguration: number): number {
  return channelConfiguration >= 1 && channelConfiguration <= 6 ? channelConfiguration : channelConfiguration === 7 ? 8 : 0;
}

/** The head of an AudioSpecificConfig: what a container needs to describe the track. */
export interface AudioSpecificConfig {
  /** audioObjectType (2 = AAC LC, 5 = SBR, 29 = PS, 42 = USAC, ...), the 31 escape resolved. */
  objectType: number;
  /**
   * Hz from samplingFrequencyIndex or the explicit 24-bit frequency; 0 when the index is reserved
   * (13, 14) or the explicit frequency is 0. For HE-AAC with implicit SBR signalling this is the core
   * rate, the one whose 1024-sample frames the samples are.
   */
  sampleRate: number;
  /** channelConfiguration, 4 bits (0: in a program_config_element). */
  channelConfiguration: number;
  /** `aacChannels(channelConfiguration)`: 0 when the config does not state a count. */
  channels: number;
}

/**
 * Reads an AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1) up to its channelConfiguration:
 * audioObjectType (5 bits, 31 escapes to 32 + 6 more), samplingFrequencyIndex (4 bits, 15 = an
 * explicit 24-bit frequency), channelConfiguration (4 bits). Undefined when the bytes end before
 * channelConfiguration; a reserved rate is `sampleRate` 0, so each caller decides what is invalid.
 */
export function readAudioSpecificConfig(asc: Uint8Array): AudioSpecificConfig | undefined {
  const r = new BitReader(asc, "AudioSpecificConfig");
  try {
    let objectType = r.bits(5);
    if (objectType === OBJECT_TYPE_ESCAPE) objectType = 32 + r.bits(6);
    const index = r.bits(4);
    const sampleRate = index === EXPLICIT_FREQUENCY ? r.bits(24) : (AAC_SAMPLE_RATES[index] ?? 0);
    const channelConfiguration = r.bits(4);
    return { objectType, sampleRate, channelConfiguration, channels: aacChannels(channelConfiguration) };
  } catch (e) {
    if (e instanceof ParseError) return undefined; // the bits ended early
    throw e;
  }
}
