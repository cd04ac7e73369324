import { ParseError } from "./errors.ts";
import { detectMpegTs, SYNC_BYTE, DETECT_BYTES as TS_DETECT_BYTES } from "./mpegts/detect.ts";
import type { IngestFormat } from "./types.ts";

/** ISO BMFF box types a live fMP4 stream may begin with (ISO/IEC 14496-12 §4.3, §8.16.2, CMAF). */
const FMP4_FIRST_BOXES = new Set(["ftyp", "styp", "moov", "free", "skip", "sidx", "prft", "emsg", "moof"]);
const EBML_MAGIC = [0x1a, 0x45, 0xdf, 0xa3];
const HTTP_METHODS = ["GET ", "POST", "PUT ", "HEAD", "OPTI", "DELE", "PATC", "CONN", "TRAC", "PRI "];

/** Bytes `detectFormat` needs at most to decide (three MPEG-TS packets; 8 for everything else). */
export const DETECT_BYTES = TS_DETECT_BYTES;
/** Bytes that decide between fMP4 and WebM. */
const BOX_HEADER_BYTES = 8;

/**
 * Sniffs the container from a stream's first bytes. Returns `null` while fewer than `DETECT_BYTES`
 * bytes are known and the answer is still open; throws `ParseError` (`http-request` or
 * `unknown-format`) for anything else.
 */
export function detectFormat(head: Uint8Array): IngestFormat | null {
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
  // MPEG-TS: a sync byte at 0 (TS) or 4 (M2TS), confirmed by the next two packets (ISO/IEC 13818-1
  // §2.4.3.2). An fMP4 box starting with 0x47 would declare over 1 GiB, past any cap.
  if (n <= 4 || head[0] === SYNC_BYTE || head[4] === SYNC_BYTE) {
    if (detectMpegTs(head)) return "mpegts";
    if (n < TS_DETECT_BYTES) return null;
  }
  if (n < BOX_HEADER_BYTES) return null;
  const type = String.fromCharCode(head[4]!, head[5]!, head[6]!, head[7]!);
  if (FMP4_FIRST_BOXES.has(type)) return "fmp4";
  throw new ParseError(
    "unknown-format",
    `first bytes ${hexdump(head.subarray(0, 8))} are neither fMP4 (a box such as ftyp at offset 4), WebM (EBML magic 1A 45 DF A3) nor MPEG-TS (sync byte 47 every 188 bytes)`,
  );
}

function hexdump(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");
}
