import { ParseError } from "../errors.ts";
import { Reader } from "../reader.ts";
import type { AudioCodec } from "../remux/frame.ts";
import { readMultitrack, rest, skipModEx } from "./ex-header.ts";

/**
 * FLV AUDIODATA payloads (FLV tag type 8 = an RTMP audio message): the legacy AudioTagHeader (FLV spec
 * v10.1 §E.4.2.1) with AAC, and the ExAudioTagHeader of E-RTMP v2 ("Enhanced Audio", SoundFormat 9)
 * with the FourCCs `mp4a` and `Opus`, multitrack and ModEx included.
 */

/** SoundFormat (FLV spec §E.4.2.1, E-RTMP v2). */
const SOUND_FORMAT = { exHeader: 9, aac: 10 } as const;
/** AACPacketType of the legacy header. */
const AAC_PACKET_TYPE = { sequenceHeader: 0, raw: 1 } as const;
/** AudioPacketType of the ExAudioTagHeader (E-RTMP v2). */
const AUDIO_PACKET_TYPE = {
  sequenceStart: 0,
  codedFrames: 1,
  sequenceEnd: 2,
  multichannelConfig: 4,
  multitrack: 5,
  modEx: 7,
} as const;
const AUDIO_FOURCC = new Map<string, AudioCodec>([
  ["mp4a", "aac"],
  ["Opus", "opus"],
]);

export type FlvAudioPacket =
  /** `stereo`: the legacy SoundType bit, a fallback when the AudioSpecificConfig does not state channels. */
  | { type: "config"; trackId: number; codec: AudioCodec; config: Uint8Array; stereo?: boolean }
  | { type: "frame"; trackId: number; codec: AudioCodec; data: Uint8Array }
  | { type: "end"; trackId: number }
  | { type: "ignored"; trackId: number; what: string }
  | { type: "unsupported"; trackId: number; what: string };

/** The packets of one audio message. Throws `ParseError("malformed")` when the header overruns the payload. */
export function parseAudioTag(payload: Uint8Array): FlvAudioPacket[] {
  // An empty audio message is RTMP's "silence" message (E-RTMP v2, AudioPacketType notes).
  if (payload.byteLength === 0) return [{ type: "ignored", trackId: 0, what: "silence message" }];
  const r = new Reader(payload);
  const b0 = r.u8();
  const soundFormat = b0 >> 4;
  if (soundFormat === SOUND_FORMAT.exHeader) return parseExAudio(r, b0 & 0x0f);
  if (soundFormat !== SOUND_FORMAT.aac) return [{ type: "unsupported", trackId: 0, what: `FLV SoundFormat ${soundFormat}` }];
  const packetType = r.u8();
  const data = rest(r);
  if (packetType === AAC_PACKET_TYPE.sequenceHeader)
    return [{ type: "config", trackId: 0, codec: "aac", config: data, stereo: (b0 & 1) === 1 }];
  if (packetType === AAC_PACKET_TYPE.raw) return [{ type: "frame", trackId: 0, codec: "aac", data }];
  throw new ParseError("malformed", `AACPacketType ${packetType}`);
}

function parseExAudio(r: Reader, packetType: number): FlvAudioPacket[] {
  packetType = skipModEx(r, packetType);
  if (packetType === AUDIO_PACKET_TYPE.multitrack) return readMultitrack(r, "audio", AUDIO_PACKET_TYPE.multitrack, exAudioBody);
  return [exAudioBody(r, packetType, r.fourcc(), 0)];
}

function exAudioBody(r: Reader, packetType: number, fourcc: string, trackId: number): FlvAudioPacket {
  switch (packetType) {
    case AUDIO_PACKET_TYPE.sequenceEnd:
      return { type: "end", trackId };
    case AUDIO_PACKET_TYPE.multichannelConfig:
      return { type: "ignored", trackId, what: "audio MultichannelConfig packet" };
    case AUDIO_PACKET_TYPE.sequenceStart:
    case AUDIO_PACKET_TYPE.codedFrames:
      break;
    default:
      return { type: "unsupported", trackId, what: `AudioPacketType ${packetType}` };
  }
  const codec = AUDIO_FOURCC.get(fourcc);
  if (!codec) return { type: "unsupported", trackId, what: `audio FourCC ${JSON.stringify(fourcc)}` };
  const data = rest(r);
  return packetType === AUDIO_PACKET_TYPE.sequenceStart
    ? { type: "config", trackId, codec, config: data }
    : { type: "frame", trackId, codec, data };
}
