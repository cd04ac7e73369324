import { type AmfValue, amfGet, isAmfMap } from "./amf0.ts";

/** What Sluice uses of a publisher's onMetaData (FLV spec §E.5; E-RTMP v2 "Enhancing onMetaData"). */
export interface FlvMetadata {
  width: number;
  height: number;
  framerate: number;
  /** Whether a video / an audio codec was announced (videocodecid / audiocodecid present and not 0). */
  hasVideo: boolean;
  hasAudio: boolean;
}

/**
 * Reads the onMetaData argument (an ECMA array or object). Sizes that are not finite positive numbers
 * (or absurdly large) read as 0. The codec ids may be legacy numbers, FourCC numbers or strings.
 */
export function readMetadata(value: AmfValue): FlvMetadata {
  const num = (key: string, max: number): number => {
    const v = amfGet(value, key);
    return typeof v === "number" && Number.isFinite(v) && v > 0 && v <= max ? v : 0;
  };
  const announced = (key: string): boolean => {
    const v = amfGet(value, key);
    return (typeof v === "number" && v !== 0) || (typeof v === "string" && v !== "");
  };
  return {
    width: Math.round(num("width", 65535)),
    height: Math.round(num("height", 65535)),
    framerate: num("framerate", 1000),
    hasVideo: isAmfMap(value) && announced("videocodecid"),
    hasAudio: isAmfMap(value) && announced("audiocodecid"),
  };
}
