import { ParseError } from "./errors.ts";
import type { ContainerFormat } from "./types.ts";

/** ISO BMFF box types a live fMP4 stream may begin with (ISO/IEC 14496-12 §4.3, §8.16.2, CMAF). */
const FMP4_FIRST_BOXES = new Set(["ftyp", "styp", "moov", "free", "skip", "sidx", "prft", "emsg", "moof"]);
const EBML_MAGIC = [0x1a, 0x45, 0xdf, 0xa3];
const HTTP_METHODS = ["GET ", "POST", "PUT ", "HEAD", "OPTI", "DELE", "PATC", "CONN", "TRAC", "PRI "];

/** Bytes `detectFormat` needs at most to decide. */
export const DETECT_BYTES = 8;

/**
 * Sniffs the container from a stream's first bytes. Returns `null` while fewer than `DETECT_BYTES`
 * bytes are known and the answer is still open; throws `ParseError` (`http-request` or
 * `unknown-format`) for anything else.
 */
export function detectFormat(head: Uint8Array): ContainerFormat | null {
  const n = head.byteLength;
  if (EBML_MAGIC.slice(0, Math.min(n, 4)).every((b, i) => head[i] === b)) return n >= 4 ? "webm" : null;
  if (n >= 4) {
    const ascii = String.fromCharCode(head[0]!, head[1]!, head[2]!, head[3]!);
    if (HTTP_METHODS.includes(ascii)) {
      throw new ParseError(
        "http-request",
        `an HTTP request ("${ascii.trim()} ...") was sent to a raw ingest port; publish over HTTP to /ingest/:name on the HTTP port instead`,
      );
    }
  }
  if (n < DETECT_BYTES) return null;
  const type = String.fromCharCode(head[4]!, head[5]!, head[6]!, head[7]!);
  if (FMP4_FIRST_BOXES.has(type)) return "fmp4";
  throw new ParseError(
    "unknown-format",
    `first bytes ${hexdump(head.subarray(0, 8))} are neither fMP4 (a box such as ftyp at offset 4) nor WebM (EBML magic 1A 45 DF A3)`,
  );
}

function hexdump(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");
}
