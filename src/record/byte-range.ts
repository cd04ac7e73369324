/**
 * A `Range` request header against a representation of `size` bytes (RFC 9110 §14), pure. One
 * byte range (`a-b`, `a-`, or the suffix `-n`) is served as a 206; several ranges are answered with
 * the whole representation (200: a server may ignore Range, §14.2; no multipart/byteranges), as is a
 * header that does not parse; a single range that starts past the end is unsatisfiable (416, §15.5.17).
 */
export type RangeAnswer = { kind: "whole" } | { kind: "partial"; start: number; end: number } | { kind: "unsatisfiable" };

const SINGLE = /^bytes=[ \t]*(\d{0,15})-(\d{0,15})[ \t]*$/i;

export function answerRange(header: string | null, size: number): RangeAnswer {
  if (header === null || header.length > 200) return { kind: "whole" };
  const m = SINGLE.exec(header);
  if (!m) return { kind: "whole" };
  const [first, last] = [m[1]!, m[2]!];
  if (first === "") {
    if (last === "") return { kind: "whole" };
    const n = Number(last);
    // A suffix of zero bytes cannot be satisfied; one longer than the file is the whole file (§14.1.3).
    if (n === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "partial", start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(first);
  const end = last === "" ? size - 1 : Number(last);
  if (last !== "" && end < start) return { kind: "whole" }; // invalid: ignored (§14.1.1)
  if (start >= size) return { kind: "unsatisfiable" };
  return { kind: "partial", start, end: Math.min(end, size - 1) };
}
