import { ParseError } from "../errors.ts";
import { Reader } from "../reader.ts";

// Box types (ISO/IEC 14496-12 unless noted).
export const FTYP = "ftyp";
export const STYP = "styp";
export const MOOV = "moov";
export const MVHD = "mvhd";
export const TRAK = "trak";
export const TKHD = "tkhd";
export const MDIA = "mdia";
export const MDHD = "mdhd";
export const HDLR = "hdlr";
export const MINF = "minf";
export const STBL = "stbl";
export const STSD = "stsd";
export const MVEX = "mvex";
export const TREX = "trex";
export const MOOF = "moof";
export const MFHD = "mfhd";
export const TRAF = "traf";
export const TFHD = "tfhd";
export const TFDT = "tfdt";
export const TRUN = "trun";
export const MDAT = "mdat";
export const MFRA = "mfra";
export const FREE = "free";
export const SKIP = "skip";
export const SIDX = "sidx";
export const PRFT = "prft";
export const EMSG = "emsg";
// Codec configuration boxes inside sample entries.
export const AVCC = "avcC"; // ISO/IEC 14496-15 §5.4.2
export const HVCC = "hvcC"; // ISO/IEC 14496-15 §8.4.1
export const AV1C = "av1C"; // AV1-ISOBMFF §2.3
export const VPCC = "vpcC"; // VP codec ISO-BMFF binding §2.2
export const ESDS = "esds"; // ISO/IEC 14496-14 §5.6
export const WAVE = "wave"; // QuickTime sound description extension that may wrap esds

/** Largest box header: 32-bit size + type + 64-bit largesize. */
export const MAX_BOX_HEADER = 16;

/** A top-level box as announced by its header; the body may not have arrived yet. */
export interface BoxHeader {
  type: string;
  /** Total size including the header. */
  size: number;
  /** 8, or 16 with a 64-bit largesize. */
  headerSize: number;
}

/** A complete box inside a parsed payload. `payload` is a view (no copy) of the bytes after the header. */
export interface Box {
  type: string;
  payload: Uint8Array;
}

/**
 * Decodes the header of a top-level box from its first bytes (`head` may hold more). Returns
 * undefined while more bytes are needed (fewer than 8, or fewer than 16 with a largesize).
 * Throws `unsupported-size` for size 0, `malformed` for a size smaller than its header and
 * `too-large` when the declared size exceeds `maxBytes`, all from the header alone.
 */
export function readBoxHeader(head: Uint8Array, maxBytes: number): BoxHeader | undefined {
  if (head.byteLength < 8) return undefined;
  const r = new Reader(head);
  let size = r.u32();
  const type = r.fourcc();
  let headerSize = 8;
  if (size === 1) {
    // ISO/IEC 14496-12 §4.2: size == 1 means a 64-bit largesize follows the type.
    if (head.byteLength < 16) return undefined;
    size = r.u64();
    headerSize = 16;
  } else if (size === 0) {
    // §4.2: size == 0 means "extends to end of file", which a live stream does not have.
    throw new ParseError("unsupported-size", `box '${printable(type)}' has size 0 (to end of file), impossible in a live stream`);
  }
  if (size < headerSize) throw new ParseError("malformed", `box '${printable(type)}' declares ${size} bytes, less than its ${headerSize}-byte header`);
  if (size > maxBytes) throw new ParseError("too-large", `box '${printable(type)}' declares ${size} bytes, over the ${maxBytes}-byte limit`);
  return { type, size, headerSize };
}

/**
 * The child boxes of a complete container payload, in order. Every child must fit exactly: a size of
 * 0, a size smaller than its header, or one running past the payload is `malformed` (so iteration
 * always advances and ends).
 */
export function childBoxes(payload: Uint8Array): Box[] {
  const r = new Reader(payload);
  const out: Box[] = [];
  while (r.remaining > 0) {
    const start = r.pos;
    let size = r.u32();
    const type = r.fourcc();
    if (size === 1) size = r.u64();
    const headerSize = r.pos - start;
    if (size < headerSize) throw new ParseError("malformed", `child box '${printable(type)}' declares ${size} bytes`);
    r.pos = start;
    r.need(size, `child box '${printable(type)}'`);
    out.push({ type, payload: payload.subarray(start + headerSize, start + size) });
    r.pos = start + size;
  }
  return out;
}

/** First child of `type`, or undefined. */
export function findBox(boxes: Box[], type: string): Box | undefined {
  return boxes.find((b) => b.type === type);
}

/** First child of `type`; `malformed` when it is missing. */
export function requireBox(boxes: Box[], type: string, parent: string): Box {
  const box = findBox(boxes, type);
  if (!box) throw new ParseError("malformed", `'${parent}' has no '${type}' box`);
  return box;
}

/** Reads a FullBox version (8 bits) and flags (24 bits), ISO/IEC 14496-12 §4.2. */
export function readFullBoxHeader(r: Reader): { version: number; flags: number } {
  const version = r.u8();
  const flags = r.u24();
  return { version, flags };
}

/** A fourcc safe to show in a message. */
export function printable(type: string): string {
  return /^[\x20-\x7e]{4}$/.test(type) ? type : [...type].map((c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("");
}
