import { readAudioSpecificConfig } from "../codec/aac.ts";
import { hex2, Reader } from "../reader.ts";

// MPEG-4 Systems descriptor tags, ISO/IEC 14496-1 §7.2.2.1 (the esds writer in ../remux uses them too).
export const ES_DESCR_TAG = 0x03;
export const DECODER_CONFIG_DESCR_TAG = 0x04;
export const DECODER_SPECIFIC_INFO_TAG = 0x05;
export const SL_CONFIG_DESCR_TAG = 0x06;
/** objectTypeIndication "Audio ISO/IEC 14496-3" (§7.2.6.6.2, table 5). */
export const OTI_MPEG4_AUDIO = 0x40;

/**
 * `mp4a.40.<AOT>` from an esds payload (ISO/IEC 14496-14 §5.6: FullBox header + ES_Descriptor):
 * ES_Descriptor → DecoderConfigDescriptor (objectTypeIndication) → DecoderSpecificInfo, whose
 * AudioSpecificConfig states the audio object type (see `readAudioSpecificConfig`). Other
 * objectTypeIndications give `mp4a.XX`; `mp4a.40` when the AudioSpecificConfig is missing or ends
 * before its channelConfiguration. "" without a DecoderConfigDescriptor. Throws `malformed` when a
 * descriptor overruns its parent.
 */
export function mp4aCodecString(esds: Uint8Array): string {
  const config = readEsds(esds);
  if (!config) return "";
  if (config.oti !== OTI_MPEG4_AUDIO) return `mp4a.${hex2(config.oti)}`;
  const asc = config.asc && readAudioSpecificConfig(config.asc);
  return asc ? `mp4a.40.${asc.objectType}` : "mp4a.40";
}

/**
 * Channel count from an MPEG-4 audio esds' AudioSpecificConfig, or undefined when it is not stated
 * there. ffmpeg writes channelcount 2 into every AAC AudioSampleEntry (the §12.2.3 template value),
 * so this is the real one.
 */
export function mp4aChannels(esds: Uint8Array): number | undefined {
  const config = readEsds(esds);
  if (!config || config.oti !== OTI_MPEG4_AUDIO || !config.asc) return undefined;
  return readAudioSpecificConfig(config.asc)?.channels || undefined;
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
