import type { InitEvent } from "../container/types.ts";
import { isNodeId, isNodeIdBytes, validEnded, validStreamInfo } from "./wire-fields.ts";

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
 * | 3 | 1 | length N of the node id (1-255 bytes of printable ASCII, no space) |
 * | 4 | 4 | bus sequence: per stream and publishing node, +1 for every message the node means to send |
 * | 8 | 4 | init sequence: the bus sequence of the `stream` message whose init segment applies |
 * | 12 | 8 | fragment decode time (float64, ticks of `timescale`; 0 otherwise) |
 * | 20 | 4 | fragment timescale (0 otherwise) |
 * | 24 | N | node id |
 *
 * Payloads: stream = u32 length + JSON `{format, mime, tracks}` + the init segment; fragment = its bytes
 * exactly as the publisher sent them; ended = JSON `{error?: {reason, message}}`.
 *
 * A message is well-formed only when every field is (anything else decodes to undefined, never throws):
 * version 1; a known type; flags 0 but the keyframe bit of a fragment; a valid node id; a `stream`
 * message's init sequence equal to its sequence, its JSON at most `MAX_INFO_JSON` bytes and valid per
 * wire-fields.ts (format, MIME type, every field of every track), its init segment not empty; a
 * fragment's decode time finite and >= 0, its timescale > 0, its bytes not empty; decode time and
 * timescale 0 in other messages; an `ended` JSON object of at most `MAX_ENDED_JSON` bytes whose
 * `error`, when present, has a string `reason` and `message`.
 */

const WIRE_VERSION = 1;
const HEADER = 24;
/** Largest JSON of a `stream` message and of an `ended` message. */
const MAX_INFO_JSON = 64 * 1024;
const MAX_ENDED_JSON = 4 * 1024;

type StreamInfo = Pick<InitEvent, "format" | "mime" | "tracks">;

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
  if (!isNodeId(m.node))
    throw new RangeError(`node id must be 1-255 characters of printable ASCII, got ${JSON.stringify(String(m.node).slice(0, 300))}`);
  const node = enc.encode(m.node);
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

/** A decoded message, or why the bytes are not one (a short kebab-case reason, for logs). */
export type ReadResult = { ok: true; message: BusMessage } | { ok: false; reason: string };

/**
 * Decodes and validates one message (see the module comment for the rules). Payload bytes are views
 * into `b` (copy them to keep them beyond the caller's buffer). Never throws.
 */
export function readMessage(b: Uint8Array): ReadResult {
  const bad = (reason: string): ReadResult => ({ ok: false, reason });
  if (b.byteLength < HEADER + 1) return bad("too-short");
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (v.getUint8(0) !== WIRE_VERSION) return bad("unknown-version");
  const code = v.getUint8(1);
  const flags = v.getUint8(2);
  const nodeLen = v.getUint8(3);
  const body = HEADER + nodeLen;
  if (body > b.byteLength) return bad("too-short");
  const nodeBytes = b.subarray(HEADER, body);
  if (!isNodeIdBytes(nodeBytes)) return bad("bad-node-id");
  const common: Common = { node: dec.decode(nodeBytes), seq: v.getUint32(4), initSeq: v.getUint32(8) };
  const decodeTime = v.getFloat64(12);
  const timescale = v.getUint32(20);
  if (code === 2) {
    if ((flags & ~1) !== 0) return bad("bad-flags");
    if (!Number.isFinite(decodeTime) || decodeTime < 0) return bad("bad-decode-time");
    if (timescale === 0) return bad("bad-timescale");
    if (body === b.byteLength) return bad("empty-fragment");
    return {
      ok: true,
      message: { ...common, type: "fragment", keyframe: (flags & 1) === 1, decodeTime, timescale, bytes: b.subarray(body) },
    };
  }
  if (code !== 1 && code !== 3) return bad("unknown-type");
  if (flags !== 0) return bad("bad-flags");
  if (decodeTime !== 0 || timescale !== 0) return bad("bad-header");
  if (code === 1) {
    if (common.initSeq !== common.seq) return bad("bad-init-seq");
    if (body + 4 > b.byteLength) return bad("too-short");
    const jsonLen = v.getUint32(body);
    if (jsonLen > MAX_INFO_JSON) return bad("info-too-large");
    const initAt = body + 4 + jsonLen;
    if (initAt > b.byteLength) return bad("too-short");
    if (initAt === b.byteLength) return bad("empty-init");
    const info = validStreamInfo(parseJson(b.subarray(body + 4, initAt)));
    if (!info) return bad("bad-stream-info");
    return { ok: true, message: { ...common, type: "stream", info, init: b.subarray(initAt) } };
  }
  if (b.byteLength - body > MAX_ENDED_JSON) return bad("ended-too-large");
  const ended = validEnded(parseJson(b.subarray(body)));
  if (!ended) return bad("bad-ended");
  return { ok: true, message: ended.error ? { ...common, type: "ended", error: ended.error } : { ...common, type: "ended" } };
}

/** Decodes one message; undefined when it is not a well-formed message of this version (see `readMessage`). */
export function decodeMessage(b: Uint8Array): BusMessage | undefined {
  const r = readMessage(b);
  return r.ok ? r.message : undefined;
}

/** JSON text (UTF-8, invalid bytes replaced) to a value; undefined when it is not JSON. */
function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(dec.decode(bytes));
  } catch {
    return undefined;
  }
}
