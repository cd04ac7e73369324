import { hex2, Reader } from "../reader.ts";

// MPEG-4 Systems descriptor tags, ISO/IEC 14496-1 §7.2.2.1.
const ES_DESCR_TAG = 0x03;
const DECODER_CONFIG_DESCR_TAG = 0x04;
const DECODER_SPECIFIC_INFO_TAG = 0x05;
const OTI_MPEG4_AUDIO = 0x40;

/**
 * `mp4a.40.<AOT>` from an esds payload (ISO/IEC 14496-14 §5.6: FullBox header + ES_Descriptor):
 * ES_Descriptor → DecoderConfigDescriptor (objectTypeIndication) → DecoderSpecificInfo, whose
 * AudioSpecificConfig starts with the audio object type (ISO/IEC 14496-3 §1.6.2.1: 5 bits, 31 escapes
 * to 32 + 6 more bits). Other objectTypeIndications give `mp4a.XX`. "" without a DecoderConfigDescriptor.
 * Throws `malformed` when a descriptor overruns its parent.
 */
export function mp4aCodecString(esds: Uint8Array): string {
  const config = readEsds(esds);
  if (!config) return "";
  if (config.oti !== OTI_MPEG4_AUDIO) return `mp4a.${hex2(config.oti)}`;
  const asc = config.asc && readAudioSpecificConfig(config.asc);
  return asc ? `mp4a.40.${asc.aot}` : "mp4a.40";
}

// channelConfiguration → channel count, ISO/IEC 14496-3 §1.6.3.4 (0: defined in-band, unknown here).
const AAC_CHANNELS = [0, 1, 2, 3, 4, 5, 6, 8];

/**
 * Channel count from an MPEG-4 audio esds' AudioSpecificConfig, or undefined when it is not stated
 * there. ffmpeg writes channelcount 2 into every AAC AudioSampleEntry (the §12.2.3 template value),
 * so this is the real one.
 */
export function mp4aChannels(esds: Uint8Array): number | undefined {
  const config = readEsds(esds);
  if (!config || config.oti !== OTI_MPEG4_AUDIO || !config.asc) return undefined;
  const n = AAC_CHANNELS[readAudioSpecificConfig(config.asc)?.channelConfiguration ?? 0];
  return n || undefined;
}

function readEsds(esds: Uint8Array): { oti: number; asc: Uint8Array | undefined } | undefined {
  const r = new Reader(esds, 4);
  const es = findDescriptor(r, ES_DESCR_TAG);
  if (!es) return undefined;
  es.skip(2); // ES_ID
  const flags = es.u8();
  if (flags & 0x80) es.skip(2); // dependsOn_ES_ID
  if (flags & 0x40) es.skip(es.u8()); // URL
  if (flags & 0x20) es.skip(2); // OCR_ES_Id
  const dcd = findDescriptor(es, DECODER_CONFIG_DESCR_TAG);
  if (!dcd) return undefined;
  const oti = dcd.u8();
  dcd.skip(12); // streamType/upStream, bufferSizeDB, maxBitrate, avgBitrate
  const dsi = findDescriptor(dcd, DECODER_SPECIFIC_INFO_TAG);
  return { oti, asc: dsi && dsi.remaining > 0 ? dsi.bytes.subarray(dsi.pos) : undefined };
}

/** AudioSpecificConfig head (ISO/IEC 14496-3 §1.6.2.1); undefined when too short. */
function readAudioSpecificConfig(asc: Uint8Array): { aot: number; channelConfiguration: number } | undefined {
  let bitPos = 0;
  const bits = (n: number): number | undefined => {
    let v = 0;
    for (let i = 0; i < n; i++, bitPos++) {
      const byte = asc[bitPos >> 3];
      if (byte === undefined) return undefined;
      v = (v << 1) | ((byte >> (7 - (bitPos & 7))) & 1);
    }
    return v;
  };
  let aot = bits(5);
  if (aot === 31) {
    const ext = bits(6);
    aot = ext === undefined ? undefined : 32 + ext;
  }
  if (aot === undefined) return undefined;
  const frequencyIndex = bits(4);
  if (frequencyIndex === 0xf) bits(24); // explicit samplingFrequency
  return { aot, channelConfiguration: bits(4) ?? 0 };
}

/** Scans sibling descriptors from `r` for `tag`; returns a reader over its body, or undefined. */
function findDescriptor(r: Reader, tag: number): Reader | undefined {
  while (r.remaining > 0) {
    const t = r.u8();
    // §8.3.3 expandable size: up to 4 bytes, 7 bits each, high bit = more bytes follow.
    let size = 0;
    for (let i = 0; i < 4; i++) {
      const b = r.u8();
      size = (size << 7) | (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
    const body = r.sub(size);
    if (t === tag) return body;
  }
  return undefined;
}
