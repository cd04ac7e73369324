import { ParseError } from "../errors.ts";
import { Reader } from "../reader.ts";
import type { VideoCodec } from "../remux/frame.ts";
import { readMultitrack, rest, skipModEx } from "./ex-header.ts";

/**
 * FLV VIDEODATA payloads (the body of an FLV tag of type 9 = an RTMP video message): the legacy
 * VideoTagHeader (FLV spec v10.1 §E.4.3.1) and the ExVideoTagHeader of Enhanced RTMP (E-RTMP v2,
 * "Enhanced Video"), multitrack and ModEx included. Pure parsing: no state between tags.
 */

/** Legacy CodecID (FLV spec §E.4.3.1); 12 is the widespread, non-standard HEVC extension ("flv_hevc"). */
const VIDEO_CODEC_ID = { avc: 7, hevcLegacy: 12 } as const;
/** VideoFrameType (E-RTMP v2): 1 key, 2 inter, 3 disposable, 4 generated key, 5 command. */
const VIDEO_FRAME_TYPE = { key: 1, inter: 2, disposable: 3, generatedKey: 4, command: 5 } as const;
/** AVCPacketType of the legacy header. */
const AVC_PACKET_TYPE = { sequenceHeader: 0, nalu: 1, endOfSequence: 2 } as const;
/** VideoPacketType of the ExVideoTagHeader (E-RTMP v2). */
const VIDEO_PACKET_TYPE = {
  sequenceStart: 0,
  codedFrames: 1,
  sequenceEnd: 2,
  codedFramesX: 3,
  metadata: 4,
  mpeg2tsSequenceStart: 5,
  multitrack: 6,
  modEx: 7,
} as const;
/** E-RTMP video FourCCs Sluice can carry. */
const VIDEO_FOURCC = new Map<string, VideoCodec>([
  ["avc1", "avc"],
  ["hvc1", "hevc"],
  ["av01", "av1"],
  ["vp09", "vp9"],
]);
/** FourCCs whose CodedFrames carry an SI24 composition time offset (E-RTMP v2 ExVideoTagBody). */
const CTS_FOURCC = new Set(["avc1", "hvc1", "vvc1"]);

export type FlvVideoPacket =
  | { type: "config"; trackId: number; codec: VideoCodec; record: Uint8Array }
  /** `data`: the codec's payload as carried (NAL units with the record's length size, OBUs, a VP9 frame); `cts` in ms. */
  | { type: "frame"; trackId: number; codec: VideoCodec; keyframe: boolean; cts: number; data: Uint8Array }
  | { type: "end"; trackId: number }
  /** Carried, understood and deliberately dropped (command frames, HDR metadata, MPEG-2 TS descriptors). */
  | { type: "ignored"; trackId: number; what: string }
  /** A codec Sluice cannot carry (e.g. Sorenson H.263, VP6, VP8, VVC). */
  | { type: "unsupported"; trackId: number; what: string };

/**
 * The packets of one video message (several when it is multitrack). Throws `ParseError("malformed")` when
 * the header contradicts the payload's length; unknown enum values are reported as `unsupported`.
 */
export function parseVideoTag(payload: Uint8Array): FlvVideoPacket[] {
  if (payload.byteLength === 0) return [{ type: "ignored", trackId: 0, what: "empty video message" }];
  const r = new Reader(payload);
  const b0 = r.u8();
  if (b0 & 0x80) return parseExVideo(r, (b0 >> 4) & 0x07, b0 & 0x0f);
  const frameType = b0 >> 4;
  const codecId = b0 & 0x0f;
  if (frameType === VIDEO_FRAME_TYPE.command) return [{ type: "ignored", trackId: 0, what: "video command frame" }];
  if (codecId !== VIDEO_CODEC_ID.avc && codecId !== VIDEO_CODEC_ID.hevcLegacy)
    return [{ type: "unsupported", trackId: 0, what: `FLV video CodecID ${codecId}` }];
  const codec: VideoCodec = codecId === VIDEO_CODEC_ID.avc ? "avc" : "hevc";
  const packetType = r.u8();
  const cts = si24(r);
  const data = rest(r);
  switch (packetType) {
    case AVC_PACKET_TYPE.sequenceHeader:
      return [{ type: "config", trackId: 0, codec, record: data }];
    case AVC_PACKET_TYPE.nalu:
      return [{ type: "frame", trackId: 0, codec, keyframe: isKey(frameType), cts, data }];
    case AVC_PACKET_TYPE.endOfSequence:
      return [{ type: "end", trackId: 0 }];
    default:
      throw new ParseError("malformed", `AVCPacketType ${packetType}`);
  }
}

function parseExVideo(r: Reader, frameType: number, packetType: number): FlvVideoPacket[] {
  packetType = skipModEx(r, packetType);
  if (packetType !== VIDEO_PACKET_TYPE.metadata && frameType === VIDEO_FRAME_TYPE.command)
    return [{ type: "ignored", trackId: 0, what: "video command frame" }];
  if (packetType === VIDEO_PACKET_TYPE.multitrack) {
    return readMultitrack(r, "video", VIDEO_PACKET_TYPE.multitrack, (body, type, fourcc, trackId) =>
      exVideoBody(body, type, fourcc, frameType, trackId),
    );
  }
  return [exVideoBody(r, packetType, r.fourcc(), frameType, 0)];
}

/** One track's ExVideoTagBody; `r` holds the body after the FourCC (and track id / size when multitrack). */
function exVideoBody(r: Reader, packetType: number, fourcc: string, frameType: number, trackId: number): FlvVideoPacket {
  const codec = VIDEO_FOURCC.get(fourcc);
  switch (packetType) {
    case VIDEO_PACKET_TYPE.metadata:
      return { type: "ignored", trackId, what: "video Metadata packet" };
    case VIDEO_PACKET_TYPE.mpeg2tsSequenceStart:
      return { type: "ignored", trackId, what: "MPEG2TSSequenceStart packet" };
    case VIDEO_PACKET_TYPE.sequenceEnd:
      return { type: "end", trackId };
    case VIDEO_PACKET_TYPE.sequenceStart:
    case VIDEO_PACKET_TYPE.codedFrames:
    case VIDEO_PACKET_TYPE.codedFramesX:
      break;
    default:
      return { type: "unsupported", trackId, what: `VideoPacketType ${packetType}` };
  }
  if (!codec) return { type: "unsupported", trackId, what: `video FourCC ${JSON.stringify(fourcc)}` };
  if (packetType === VIDEO_PACKET_TYPE.sequenceStart) return { type: "config", trackId, codec, record: rest(r) };
  const cts = packetType === VIDEO_PACKET_TYPE.codedFrames && CTS_FOURCC.has(fourcc) ? si24(r) : 0;
  return { type: "frame", trackId, codec, keyframe: isKey(frameType), cts, data: rest(r) };
}

function isKey(frameType: number): boolean {
  return frameType === VIDEO_FRAME_TYPE.key || frameType === VIDEO_FRAME_TYPE.generatedKey;
}

/** SI24, big-endian two's complement. */
function si24(r: Reader): number {
  const v = r.u24();
  return v & 0x800000 ? v - 0x1000000 : v;
}
