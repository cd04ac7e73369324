/** Tiny ISO BMFF builders and an independent top-level box scanner for the fMP4 tests. */
import { concat } from "../../helpers/feed.ts";

export type Part = Uint8Array | number[];

export function bytes(...parts: Part[]): Uint8Array {
  return concat(parts.map((p) => (p instanceof Uint8Array ? p : new Uint8Array(p))));
}

export function u16(n: number): number[] {
  return [(n >>> 8) & 0xff, n & 0xff];
}

export function u32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

export function ascii(s: string): number[] {
  return [...s].map((c) => c.charCodeAt(0));
}

/** A box with a 32-bit size. */
export function box(type: string, ...parts: Part[]): Uint8Array {
  const body = bytes(...parts);
  return bytes(u32(8 + body.byteLength), ascii(type), body);
}

/** A FullBox: version, 24-bit flags, then the fields. */
export function fullBox(type: string, version: number, flags: number, ...parts: Part[]): Uint8Array {
  return box(type, [version, (flags >>> 16) & 0xff, (flags >>> 8) & 0xff, flags & 0xff], ...parts);
}

export interface TopBox {
  type: string;
  start: number;
  size: number;
  headerSize: number;
}

/** Top-level boxes of a file, read with a plain DataView (independent of the parser's code). */
export function scanTopLevel(file: Uint8Array): TopBox[] {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const out: TopBox[] = [];
  let pos = 0;
  while (pos + 8 <= file.byteLength) {
    let size = view.getUint32(pos);
    let headerSize = 8;
    if (size === 1) {
      size = Number(view.getBigUint64(pos + 8));
      headerSize = 16;
    }
    const type = String.fromCharCode(...file.subarray(pos + 4, pos + 8));
    out.push({ type, start: pos, size, headerSize });
    if (size < 8) throw new Error(`bad fixture box at ${pos}`);
    pos += size;
  }
  if (pos !== file.byteLength) throw new Error("fixture does not end on a box boundary");
  return out;
}

const PREFIX = new Set(["styp", "sidx", "prft", "emsg"]);

/** [start, end) of every fragment: prefix boxes right before a moof, the moof, up to its first mdat's end. */
export function fragmentRanges(boxes: TopBox[]): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  boxes.forEach((b, i) => {
    if (b.type !== "moof") return;
    let first = i;
    while (first > 0 && PREFIX.has(boxes[first - 1]!.type)) first--;
    const mdat = boxes.slice(i).find((m) => m.type === "mdat");
    if (!mdat) throw new Error("moof without mdat in fixture");
    ranges.push([boxes[first]!.start, mdat.start + mdat.size]);
  });
  return ranges;
}

/** Copy of `file` with every top-level box of `type` rewritten to a 16-byte largesize header. */
export function withLargesize(file: Uint8Array, type: string): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const b of scanTopLevel(file)) {
    const body = file.subarray(b.start + b.headerSize, b.start + b.size);
    if (b.type !== type) {
      parts.push(file.subarray(b.start, b.start + b.size));
      continue;
    }
    const size = body.byteLength + 16;
    parts.push(bytes(u32(1), ascii(type), u32(Math.floor(size / 2 ** 32)), u32(size >>> 0), body));
  }
  return concat(parts);
}
