/**
 * Byte-stream helpers for H.264 / H.265 (ITU-T H.264 Annex B, H.265 Annex B; the same rules).
 */

/**
 * The NAL units of an Annex B byte stream: the bytes between `00 00 01` start codes (a 4-byte
 * `00 00 00 01` is a 3-byte one after a zero_byte). Returned as views into `data`, without the
 * start codes and without trailing zero bytes (trailing_zero_8bits, B.2). Bytes before the first
 * start code are ignored (a stream that does not start with one is not Annex B there); empty
 * units are dropped. O(n).
 */
export function splitAnnexB(data: Uint8Array): Uint8Array[] {
  const units: Uint8Array[] = [];
  const n = data.byteLength;
  let start = -1;
  let i = 0;
  while (i + 2 < n) {
    // Skip ahead fast: a start code has 0x01 at i+2 and zeros at i, i+1.
    const b2 = data[i + 2]!;
    if (b2 > 1) {
      i += 3;
      continue;
    }
    if (b2 === 1 && data[i] === 0 && data[i + 1] === 0) {
      if (start >= 0) push(units, data, start, i);
      start = i + 3;
      i += 3;
      continue;
    }
    i++;
  }
  if (start >= 0) push(units, data, start, n);
  return units;
}

function push(units: Uint8Array[], data: Uint8Array, start: number, end: number): void {
  while (end > start && data[end - 1] === 0) end--;
  if (end > start) units.push(data.subarray(start, end));
}

/**
 * The RBSP of a NAL unit: every emulation_prevention_three_byte (the 0x03 of `00 00 03`,
 * H.264 §7.4.1 / H.265 §7.4.2) removed. Returns `nal` itself when there is none. O(n).
 */
export function removeEmulationPrevention(nal: Uint8Array): Uint8Array {
  const n = nal.byteLength;
  let first = -1;
  for (let i = 2; i < n; i++) {
    if (nal[i] === 3 && nal[i - 1] === 0 && nal[i - 2] === 0) {
      first = i;
      break;
    }
  }
  if (first < 0) return nal;
  const out = new Uint8Array(n);
  out.set(nal.subarray(0, first));
  let o = first;
  let zeros = 0;
  for (let i = first + 1; i < n; i++) {
    const b = nal[i]!;
    if (b === 3 && zeros >= 2) {
      zeros = 0;
      continue;
    }
    out[o++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, o);
}

/** `units` as one buffer of 4-byte big-endian length-prefixed NAL units (ISO/IEC 14496-15 §5.3.2 sample format, lengthSizeMinusOne = 3). */
export function lengthPrefixed(units: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const u of units) size += 4 + u.byteLength;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let o = 0;
  for (const u of units) {
    view.setUint32(o, u.byteLength);
    out.set(u, o + 4);
    o += 4 + u.byteLength;
  }
  return out;
}
