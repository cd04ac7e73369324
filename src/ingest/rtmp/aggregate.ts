import { ParseError } from "../../container/errors.ts";
import type { RtmpMessage } from "./chunk-reader.ts";

const TAG_HEADER = 11;
const BACK_POINTER = 4;

/**
 * The sub-messages of an Aggregate message (RTMP spec §7.1.6): FLV tags (type, size, timestamp,
 * stream ID, data, back pointer). Sub-message timestamps are shifted so the first one takes the
 * aggregate's own timestamp. Throws `ParseError("malformed")` when a tag overruns the payload.
 */
export function splitAggregate(msg: RtmpMessage): RtmpMessage[] {
  const p = msg.payload;
  const out: RtmpMessage[] = [];
  let first: number | undefined;
  for (let pos = 0; pos < p.byteLength; ) {
    if (p.byteLength - pos < TAG_HEADER) throw new ParseError("malformed", "Aggregate message ends inside a sub-message header");
    const typeId = p[pos]! & 0x1f;
    const size = (p[pos + 1]! << 16) | (p[pos + 2]! << 8) | p[pos + 3]!;
    // FLV TimestampExtended is the upper 8 bits (FLV spec §E.4.1).
    const ts = ((p[pos + 7]! << 24) | (p[pos + 4]! << 16) | (p[pos + 5]! << 8) | p[pos + 6]!) >>> 0;
    const start = pos + TAG_HEADER;
    if (size > p.byteLength - start) throw new ParseError("malformed", `Aggregate sub-message of ${size} bytes overruns the message`);
    first ??= ts;
    out.push({
      csid: msg.csid,
      typeId,
      streamId: msg.streamId,
      timestamp: (msg.timestamp + ts - first + 2 ** 32) % 2 ** 32,
      payload: p.subarray(start, start + size),
    });
    pos = Math.min(p.byteLength, start + size + BACK_POINTER);
  }
  return out;
}
