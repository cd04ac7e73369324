import type { InitEvent } from "../container/types.ts";

/**
 * The cluster bus format: one binary message per stream event on the Redis channel `sluice:s:<name>`,
 * and the Redis key names. Pure (no Redis, no Bun APIs), so encode/decode are unit-tested alone.
 *
 * Header (big-endian), then the payload:
 *
 * | offset | size | field |
 * | --- | --- | --- |
 * | 0 | 1 | version (1) |
 * | 1 | 1 | type: 1 = stream, 2 = fragment, 3 = ended |
 * | 2 | 1 | flags: bit 0 = keyframe (fragments) |
 * | 3 | 1 | length N of the node id (1-255 bytes of ASCII) |
 * | 4 | 4 | bus sequence: per stream and publishing node, +1 for every message the node means to send |
 * | 8 | 4 | init sequence: the bus sequence of the `stream` message whose init segment applies |
 * | 12 | 8 | fragment decode time (float64, ticks of `timescale`; 0 otherwise) |
 * | 20 | 4 | fragment timescale (0 otherwise) |
 * | 24 | N | node id |
 *
 * Payloads: stream = u32 length + JSON `{format, mime, tracks}` + the init segment; fragment = its bytes
 * exactly as the publisher sent them; ended = JSON `{error?: {reason, message}}`.
 */

export const WIRE_VERSION = 1;
const HEADER = 24;

export type StreamInfo = Pick<InitEvent, "format" | "mime" | "tracks">;

interface Common {
  /** Id of the publishing node. */
  node: string;
  /** Bus sequence (u32, wraps). */
  seq: number;
  /** Bus sequence of the `stream` message this one belongs to. */
  initSeq: number;
}

export type BusMessage =
  | (Common & { type: "stream"; info: StreamInfo; init: Uint8Array })
  | (Common & { type: "fragment"; keyframe: boolean; decodeTime: number; timescale: number; bytes: Uint8Array })
  | (Common & { type: "ended"; error?: { reason: string; message: string } });

const TYPE_CODE = { stream: 1, fragment: 2, ended: 3 } as const;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** The channel a stream's messages go to. */
export const channelOf = (name: string): string => `sluice:s:${name}`;
/** The stream name of a channel, or undefined when it is not a stream channel. */
export const streamOfChannel = (channel: string): string | undefined => (channel.startsWith("sluice:s:") ? channel.slice(9) : undefined);
/** Who publishes the stream: the node id, with a TTL (the lease). */
export const leaseKey = (name: string): string => `sluice:lease:${name}`;
/** The current `stream` message (binary, this format), so a node that starts following gets the init at once. */
export const initKey = (name: string): string => `sluice:init:${name}`;
/** JSON about the stream for `/api/streams` on every node. */
export const infoKey = (name: string): string => `sluice:info:${name}`;
export const INFO_PATTERN = "sluice:info:*";
export const nameOfInfoKey = (key: string): string => key.slice("sluice:info:".length);

/** Encodes one message (one copy of the payload). */
export function encodeMessage(m: BusMessage): Uint8Array {
  const node = enc.encode(m.node);
  if (node.byteLength < 1 || node.byteLength > 255) throw new RangeError(`node id must be 1-255 bytes, got ${node.byteLength}`);
  let payload: Uint8Array[];
  if (m.type === "stream") {
    const json = enc.encode(JSON.stringify({ format: m.info.format, mime: m.info.mime, tracks: m.info.tracks }));
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, json.byteLength);
    payload = [len, json, m.init];
  } else if (m.type === "fragment") payload = [m.bytes];
  else payload = [enc.encode(JSON.stringify(m.error ? { error: m.error } : {}))];
  const size = HEADER + node.byteLength + payload.reduce((n, p) => n + p.byteLength, 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint8(0, WIRE_VERSION);
  v.setUint8(1, TYPE_CODE[m.type]);
  v.setUint8(2, m.type === "fragment" && m.keyframe ? 1 : 0);
  v.setUint8(3, node.byteLength);
  v.setUint32(4, m.seq >>> 0);
  v.setUint32(8, m.initSeq >>> 0);
  v.setFloat64(12, m.type === "fragment" ? m.decodeTime : 0);
  v.setUint32(20, m.type === "fragment" ? m.timescale >>> 0 : 0);
  out.set(node, HEADER);
  let at = HEADER + node.byteLength;
  for (const p of payload) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/**
 * Decodes one message; undefined when it is not a well-formed message of this version. Payload
 * bytes are views into `b` (copy them to keep them beyond the caller's buffer).
 */
export function decodeMessage(b: Uint8Array): BusMessage | undefined {
  if (b.byteLength < HEADER + 1) return undefined;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (v.getUint8(0) !== WIRE_VERSION) return undefined;
  const code = v.getUint8(1);
  const nodeLen = v.getUint8(3);
  const body = HEADER + nodeLen;
  if (nodeLen === 0 || body > b.byteLength) return undefined;
  const common: Common = { node: dec.decode(b.subarray(HEADER, body)), seq: v.getUint32(4), initSeq: v.getUint32(8) };
  try {
    if (code === 1) {
      if (body + 4 > b.byteLength) return undefined;
      const jsonLen = v.getUint32(body);
      if (body + 4 + jsonLen > b.byteLength) return undefined;
      const info = JSON.parse(dec.decode(b.subarray(body + 4, body + 4 + jsonLen))) as StreamInfo;
      if (typeof info.mime !== "string" || (info.format !== "fmp4" && info.format !== "webm") || !Array.isArray(info.tracks)) return undefined;
      return { ...common, type: "stream", info: { format: info.format, mime: info.mime, tracks: info.tracks }, init: b.subarray(body + 4 + jsonLen) };
    }
    if (code === 2) {
      return { ...common, type: "fragment", keyframe: (v.getUint8(2) & 1) === 1, decodeTime: v.getFloat64(12), timescale: v.getUint32(20), bytes: b.subarray(body) };
    }
    if (code === 3) {
      const j = JSON.parse(dec.decode(b.subarray(body))) as { error?: { reason?: unknown; message?: unknown } };
      const e = j.error;
      return e && typeof e.reason === "string" && typeof e.message === "string" ? { ...common, type: "ended", error: { reason: e.reason, message: e.message } } : { ...common, type: "ended" };
    }
  } catch {
    return undefined; // bad JSON
  }
  return undefined;
}
