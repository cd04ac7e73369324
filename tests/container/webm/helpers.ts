import { ParseError } from "../../../src/container/errors.ts";
import type { FragmentEvent, InitEvent, ParserEvent } from "../../../src/container/types.ts";
import { concat } from "../../helpers/feed.ts";

/** Test-side EBML writing, independent of the parser's reading code. */

/** Size VINT of exactly `length` bytes (RFC 8794 §6.1). */
export function sizeVint(size: number, length = 8): Uint8Array {
  const out = new Uint8Array(length);
  let v = size;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  out[0]! |= 0x80 >> (length - 1);
  return out;
}

/** The unknown-size marker of `length` bytes: marker bit then all value bits set (RFC 8794 §6.2). */
export function unknownSizeVint(length: number): Uint8Array {
  const out = new Uint8Array(length).fill(0xff);
  out[0] = (0x100 >> (length - 1)) - 1;
  return out;
}

/** Big-endian bytes of an element ID as the specs write it (marker kept). */
function idBytes(id: number): Uint8Array {
  const out: number[] = [];
  for (let v = id; v > 0; v = Math.floor(v / 256)) out.unshift(v % 256);
  return Uint8Array.from(out);
}

/** A whole element: ID, an 8-byte size (or the given size length), body. */
export function el(id: number, body: Uint8Array | number[] | Uint8Array[], sizeLength = 8): Uint8Array {
  const b =
    body instanceof Uint8Array
      ? body
      : Array.isArray(body) && body[0] instanceof Uint8Array
        ? concat(body as Uint8Array[])
        : Uint8Array.from(body as number[]);
  return concat([idBytes(id), sizeVint(b.byteLength, sizeLength), b]);
}

function uintBody(v: number): number[] {
  return [(v >> 24) & 0xff, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];
}

function ascii(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** First index of `pattern` in `bytes` at or after `from`, or -1. */
export function indexOf(bytes: Uint8Array, pattern: number[], from = 0): number {
  outer: for (let i = from; i + pattern.length <= bytes.byteLength; i++) {
    for (let j = 0; j < pattern.length; j++) if (bytes[i + j] !== pattern[j]) continue outer;
    return i;
  }
  return -1;
}

export const CLUSTER_ID = [0x1f, 0x43, 0xb6, 0x75];
export const TRACKS_ID = [0x16, 0x54, 0xae, 0x6b];

export function inits(events: ParserEvent[]): InitEvent[] {
  return events.filter((e): e is InitEvent => e.type === "init");
}

export function fragments(events: ParserEvent[]): FragmentEvent[] {
  return events.filter((e): e is FragmentEvent => e.type === "fragment");
}

/** [start, end) of every fragment in the original file, given that events concatenate to it. */
export function fragmentRanges(events: ParserEvent[]): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  let pos = 0;
  for (const e of events) {
    if (e.type === "fragment") ranges.push([pos, pos + e.bytes.byteLength]);
    pos += e.bytes.byteLength;
  }
  return ranges;
}

/** Length of the VINT whose first byte is `b`. */
export function vintLength(b: number): number {
  let n = 1;
  while (n <= 8 && (b & (0x80 >> (n - 1))) === 0) n++;
  return n;
}

/** A copy of `file` with the size field of the Clusters starting at `starts` replaced by unknown-size markers. */
export function withUnknownClusterSizes(file: Uint8Array, starts: number[]): Uint8Array {
  const out = file.slice();
  for (const s of starts) {
    const len = vintLength(out[s + 4]!);
    out.set(unknownSizeVint(len), s + 4);
  }
  return out;
}

/** The ParseError reason `fn` throws, undefined if it returns; any other exception is rethrown. */
export function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof ParseError) return e.reason;
    throw e;
  }
  return undefined;
}

/** Synthetic streams: the few elements a test needs, with 8-byte sizes unless stated. */
export const EBML_HEADER = el(0x1a45dfa3, [el(0x4282, ascii("webm"), 1)]);
export const SEGMENT_UNKNOWN_SIZE = concat([idBytes(0x18538067), unknownSizeVint(8)]);

export function info(timecodeScale = 1_000_000): Uint8Array {
  return el(0x1549a966, [el(0x2ad7b1, uintBody(timecodeScale))]);
}

export function trackEntry(number: number, type: number, codecId: string, extra: Uint8Array[] = []): Uint8Array {
  return el(0xae, [el(0xd7, [number]), el(0x83, [type]), el(0x86, ascii(codecId)), ...extra]);
}

export function tracks(...entries: Uint8Array[]): Uint8Array {
  return el(0x1654ae6b, entries);
}

/** A SimpleBlock of a track < 127 with the given flags and a small payload. */
export function simpleBlock(track: number, flags: number, payload: number[] = [1, 2, 3]): Uint8Array {
  return el(0xa3, [0x80 | track, 0, 0, flags, ...payload]);
}

/** A BlockGroup around a Block; with a ReferenceBlock when `referenced`. */
export function blockGroup(track: number, referenced: boolean): Uint8Array {
  const block = el(0xa1, [0x80 | track, 0, 0, 0, 9, 9]);
  return el(0xa0, referenced ? [block, el(0xfb, [0xff])] : [block]);
}

export function cluster(timecode: number, children: Uint8Array[]): Uint8Array {
  return el(0x1f43b675, [el(0xe7, uintBody(timecode)), ...children]);
}

/** The same Cluster with an unknown size (8-byte marker). */
export function openCluster(timecode: number, children: Uint8Array[]): Uint8Array {
  return concat([idBytes(0x1f43b675), unknownSizeVint(8), el(0xe7, uintBody(timecode)), ...children]);
}

/** VP8 video track 1 + Opus audio track 2. */
export const AV_TRACKS = tracks(trackEntry(1, 1, "V_VP8"), trackEntry(2, 2, "A_OPUS"));

export function stream(...parts: Uint8Array[]): Uint8Array {
  return concat([EBML_HEADER, SEGMENT_UNKNOWN_SIZE, info(), ...parts]);
}
