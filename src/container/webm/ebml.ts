import type { ByteQueue } from "../byte-queue.ts";
import { ParseError } from "../errors.ts";

/**
 * EBML primitives (RFC 8794): element IDs, size VINTs and element headers, read either from a complete
 * buffer or from the head of a ByteQueue that may still be filling.
 */

/** Element IDs as written in the specs, i.e. with the VINT marker bit kept (RFC 8794 §5; RFC 9559 element tables). */
export const ID = {
  // Level 0
  EBML: 0x1a45dfa3,
  DocType: 0x4282,
  Segment: 0x18538067,
  // Level 1 (Segment children)
  SeekHead: 0x114d9b74,
  Info: 0x1549a966,
  Tracks: 0x1654ae6b,
  Cluster: 0x1f43b675,
  Cues: 0x1c53bb6b,
  Attachments: 0x1941a469,
  Chapters: 0x1043a770,
  Tags: 0x1254c367,
  // Info children
  TimecodeScale: 0x2ad7b1,
  // Tracks children
  TrackEntry: 0xae,
  TrackNumber: 0xd7,
  TrackType: 0x83,
  CodecID: 0x86,
  CodecPrivate: 0x63a2,
  Video: 0xe0,
  PixelWidth: 0xb0,
  PixelHeight: 0xba,
  Audio: 0xe1,
  SamplingFrequency: 0xb5,
  Channels: 0x9f,
  // Cluster children
  Timecode: 0xe7,
  Position: 0xa7,
  PrevSize: 0xab,
  SimpleBlock: 0xa3,
  BlockGroup: 0xa0,
  Block: 0xa1,
  ReferenceBlock: 0xfb,
  BlockDuration: 0x9b,
  // Global elements (RFC 8794 §11.3), valid at any level
  Void: 0xec,
  CRC32: 0xbf,
} as const;

/** IDs that end an unknown-size Cluster: level 0 and level 1 elements (RFC 8794 §6.2, MSE WebM byte stream format). */
const TOP_LEVEL_IDS: ReadonlySet<number> = new Set([
  ID.EBML,
  ID.Segment,
  ID.SeekHead,
  ID.Info,
  ID.Tracks,
  ID.Cluster,
  ID.Cues,
  ID.Attachments,
  ID.Chapters,
  ID.Tags,
]);

/** True for level 0 (EBML, Segment) and level 1 (Segment children) IDs; Void and CRC-32 are not. */
export function isTopLevelId(id: number): boolean {
  return TOP_LEVEL_IDS.has(id);
}

/** The `size` of an element whose size VINT has all value bits set (RFC 8794 §6.2): "unknown size". */
export const UNKNOWN_SIZE = -1;

/** A decoded element header. `size` is the body length or `UNKNOWN_SIZE`. */
export interface ElementHeader {
  id: number;
  size: number;
  /** Bytes taken by the ID and the size VINT together. */
  headerLength: number;
}

/** Most bytes an element header can take: 4-byte ID (RFC 8794 §5) + 8-byte size VINT (§6). */
const MAX_HEADER_BYTES = 12;

/** Length of a VINT from its first byte (count of leading zero bits + 1); 0 when the first byte is 0. */
function vintLength(first: number): number {
  return first === 0 ? 0 : 9 - (32 - Math.clz32(first));
}

/** The marker bit of an ID of 1..4 bytes, which is also the count of its value bit patterns. */
const ID_MARKER = [0, 0x80, 0x4000, 0x20_0000, 0x1000_0000];

/**
 * Reads an element ID at `offset` of `bytes` (before `end`, default the end of `bytes`); null when `end`
 * comes first. Throws `ParseError("malformed")` for an ID longer than 4 bytes (first byte below 0x10,
 * including 0x00) or whose value bits are all 0 or all 1 (reserved, RFC 8794 §5).
 */
export function readId(bytes: Uint8Array, offset: number, end = bytes.byteLength): { id: number; length: number } | null {
  const first = offset < end ? bytes[offset] : undefined;
  if (first === undefined) return null;
  const length = vintLength(first);
  if (length === 0 || length > 4) throw new ParseError("malformed", `invalid EBML element ID byte 0x${first.toString(16)} at ${offset}`);
  if (offset + length > end) return null;
  let id = 0;
  for (let i = 0; i < length; i++) id = id * 256 + bytes[offset + i]!;
  const valueBits = id - ID_MARKER[length]!;
  if (valueBits === 0 || valueBits === ID_MARKER[length]! - 1) {
    throw new ParseError("malformed", `reserved EBML element ID 0x${id.toString(16)} at ${offset}`);
  }
  return { id, length };
}

/**
 * Reads an element header at `offset` of `bytes`. Returns null when `end` (default: the end of `bytes`)
 * comes before the header does. Throws `ParseError("malformed")` for an invalid ID (see `readId`) or a
 * size VINT starting with 0x00 (longer than 8 bytes, RFC 8794 §4).
 */
export function readHeader(bytes: Uint8Array, offset: number, end = bytes.byteLength): ElementHeader | null {
  const idv = readId(bytes, offset, end);
  if (!idv) return null;
  const sizeAt = offset + idv.length;
  if (sizeAt >= end) return null;
  const sizeLength = vintLength(bytes[sizeAt]!);
  if (sizeLength === 0) throw new ParseError("malformed", `invalid EBML size VINT (first byte 0x00) at ${sizeAt}`);
  if (sizeAt + sizeLength > end) return null;
  const size = readVintValue(bytes, sizeAt, sizeLength);
  return { id: idv.id, size, headerLength: idv.length + sizeLength };
}

/** Value of the VINT of `length` bytes at `offset` with its marker removed; `UNKNOWN_SIZE` if all value bits are 1. */
function readVintValue(bytes: Uint8Array, offset: number, length: number): number {
  const mask = 0xff >> length;
  let value = bytes[offset]! & mask;
  let allOnes = value === mask;
  for (let i = 1; i < length; i++) {
    const b = bytes[offset + i]!;
    if (b !== 0xff) allOnes = false;
    value = value * 256 + b; // > 2^53 only for sizes far beyond any cap; precision loss is harmless there
  }
  return allOnes ? UNKNOWN_SIZE : value;
}

/**
 * Reads a VINT-coded unsigned integer (a Block's track number, RFC 9559 Block Structure) at `offset`.
 * Returns its value and length, or throws `ParseError("malformed")` if it is invalid or runs past `end`.
 */
export function readVint(bytes: Uint8Array, offset: number, end: number): { value: number; length: number } {
  const first = offset < end ? bytes[offset] : undefined;
  const length = first === undefined ? 0 : vintLength(first);
  if (length === 0 || offset + length > end) throw new ParseError("malformed", `invalid or truncated VINT at ${offset}`);
  return { value: readVintValue(bytes, offset, length), length };
}

/** The ID of the element at `offset` bytes into `queue`; null while not all of it has arrived. */
export function readQueuedId(queue: ByteQueue, offset: number): number | null {
  const available = queue.length - offset;
  if (available <= 0) return null;
  return readId(queue.peek(offset, Math.min(available, 4)), 0)?.id ?? null;
}

/**
 * Reads the element header at `offset` bytes into `queue`; null while not enough bytes have arrived.
 * Throws `ParseError("too-large")` from the header alone (before any body is buffered) when a known
 * size exceeds `maxElementBytes`. The Segment is exempt: it is a container whose body is never buffered.
 */
export function readQueuedHeader(queue: ByteQueue, offset: number, maxElementBytes: number): ElementHeader | null {
  const available = queue.length - offset;
  if (available <= 0) return null;
  const header = readHeader(queue.peek(offset, Math.min(available, MAX_HEADER_BYTES)), 0);
  if (header && header.id !== ID.Segment && header.size > maxElementBytes) {
    throw new ParseError(
      "too-large",
      `element 0x${header.id.toString(16)} declares ${header.size} bytes, above the ${maxElementBytes}-byte cap`,
    );
  }
  return header;
}

/**
 * Calls `fn` for each child of the master element body `bytes[start, end)`, in order.
 * Throws `ParseError("malformed")` when a child runs past `end` or has an unknown size.
 */
export function forEachChild(
  bytes: Uint8Array,
  start: number,
  end: number,
  fn: (id: number, bodyStart: number, bodyEnd: number) => void,
): void {
  let pos = start;
  while (pos < end) {
    const h = readHeader(bytes, pos, end);
    if (!h) throw new ParseError("malformed", `element header at ${pos} runs past its parent's end ${end}`);
    const bodyStart = pos + h.headerLength;
    if (h.size === UNKNOWN_SIZE) throw new ParseError("malformed", `unknown-size child 0x${h.id.toString(16)} inside a sized element`);
    const bodyEnd = bodyStart + h.size;
    if (bodyEnd > end) throw new ParseError("malformed", `element 0x${h.id.toString(16)} at ${pos} runs past its parent's end ${end}`);
    fn(h.id, bodyStart, bodyEnd);
    pos = bodyEnd;
  }
}
