import { u32At } from "../bytes.ts";
import { ParseError } from "../errors.ts";
import type { Reader } from "../reader.ts";
import { fourccName } from "./box-types.ts";

/** A fourcc safe to put in a message: the characters when printable, else hex. */
export function printable(type: number): string {
  const name = fourccName(type);
  return /^[\x20-\x7e]{4}$/.test(name) ? name : type.toString(16).padStart(8, "0");
}

/** Largest box header: 32-bit size + type + 64-bit largesize. */
export const MAX_BOX_HEADER = 16;

/** A top-level box as announced by its header; the body may not have arrived yet. */
export interface BoxHeader {
  type: number;
  /** Total size including the header. */
  size: number;
  /** 8, or 16 with a 64-bit largesize. */
  headerSize: number;
}

/**
 * Decodes the header of a top-level box from its first bytes (`head` may hold more). Returns
 * undefined while more bytes are needed (fewer than 8, or fewer than 16 with a largesize).
 * Throws `unsupported-size` for size 0, `malformed` for a size smaller than its header and
 * `too-large` when the declared size exceeds `maxBytes`, all from the header alone.
 */
export function readBoxHeader(head: Uint8Array, maxBytes: number): BoxHeader | undefined {
  if (head.byteLength < 8) return undefined;
  let size = u32At(head, 0);
  const type = u32At(head, 4);
  let headerSize = 8;
  if (size === 1) {
    // ISO/IEC 14496-12 §4.2: size == 1 means a 64-bit largesize follows the type.
    if (head.byteLength < 16) return undefined;
    size = u32At(head, 8) * 0x1_0000_0000 + u32At(head, 12);
    headerSize = 16;
  } else if (size === 0) {
    // §4.2: size == 0 means "extends to end of file", which a live stream does not have.
    throw new ParseError("unsupported-size", `box '${printable(type)}' has size 0 (to end of file), impossible in a live stream`);
  }
  if (size < headerSize)
    throw new ParseError("malformed", `box '${printable(type)}' declares ${size} bytes, less than its ${headerSize}-byte header`);
  if (size > maxBytes)
    throw new ParseError("too-large", `box '${printable(type)}' declares ${size} bytes, over the ${maxBytes}-byte limit`);
  return { type, size, headerSize };
}

/** A box inside a parsed buffer: its payload is `[start, end)` of the reader's bytes. */
export interface BoxRange {
  type: number;
  start: number;
  end: number;
}

/**
 * Walks the child boxes of the payload `[start, end)` of `r.bytes` without allocating per child:
 * after each successful `next()`, `type`, `start` (payload start) and `end` describe the current one.
 * A size of 0, a size smaller than its header, or a child running past `end` is `malformed`, so the
 * walk always advances and ends.
 */
export class ChildBoxes {
  type = 0;
  start = 0;
  end = 0;
  private pos: number;

  constructor(
    private readonly r: Reader,
    start: number,
    private readonly limit: number,
  ) {
    this.pos = start;
  }

  next(): boolean {
    const { r } = this;
    const at = this.pos;
    if (at >= this.limit) return false;
    if (this.limit - at < 8) throw new ParseError("malformed", `${this.limit - at} stray bytes where a child box header should be`);
    r.pos = at;
    let size = r.u32();
    this.type = r.u32();
    if (size === 1) {
      if (this.limit - at < 16) throw new ParseError("malformed", `child box '${printable(this.type)}' has a truncated largesize`);
      size = r.u64();
    }
    if (size < r.pos - at || size > this.limit - at) {
      throw new ParseError(
        "malformed",
        `child box '${printable(this.type)}' declares ${size} bytes with ${this.limit - at} left in its parent`,
      );
    }
    this.start = r.pos;
    this.end = at + size;
    this.pos = this.end;
    return true;
  }
}

/** Every child of the payload `[start, end)` of `r.bytes`, in order (see `ChildBoxes`). */
export function childBoxes(r: Reader, start: number, end: number): BoxRange[] {
  const out: BoxRange[] = [];
  for (const it = new ChildBoxes(r, start, end); it.next(); ) out.push({ type: it.type, start: it.start, end: it.end });
  return out;
}

/** First box of `type` in `boxes`, or undefined. */
export function findBox(boxes: BoxRange[], type: number): BoxRange | undefined {
  return boxes.find((b) => b.type === type);
}

/** First box of `type` in `boxes`; `malformed` when it is missing. */
export function requireBox(boxes: BoxRange[], type: number, parent: number): BoxRange {
  const box = findBox(boxes, type);
  if (!box) throw new ParseError("malformed", `'${printable(parent)}' has no '${printable(type)}' box`);
  return box;
}

/**
 * Positions `r` at the payload of `box`, reads its FullBox version (8 bits) and flags (24 bits)
 * (ISO/IEC 14496-12 §4.2) and checks that `fixedBytes` more bytes fit inside the box.
 */
export function openFullBox(r: Reader, box: BoxRange, fixedBytes: number): { version: number; flags: number } {
  r.pos = box.start;
  fits(r, box, 4 + fixedBytes);
  const version = r.u8();
  const flags = r.u24();
  return { version, flags };
}

/** `malformed` unless `n` bytes from `r.pos` stay inside `box`. */
export function fits(r: Reader, box: { type: number; end: number }, n: number): void {
  if (r.pos + n > box.end)
    throw new ParseError("malformed", `'${printable(box.type)}' is too short: needs ${n} bytes at ${r.pos}, ends at ${box.end}`);
}
