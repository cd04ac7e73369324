/** Why a publisher's bytes were rejected. Stable strings: they are logged and sent to viewers. */
export type ParseErrorReason =
  | "unknown-format" // first bytes are neither fMP4 nor WebM
  | "http-request" // someone spoke HTTP to a raw ingest port
  | "too-large" // declared box/element size above the configured cap
  | "unsupported-size" // size 0 (to end of file) / unknown size where a live stream cannot have it
  | "fragment-before-init" // media before a complete init segment
  | "no-usable-track" // init without any video or audio track
  | "unknown-codec" // a track whose codec string cannot be built at all
  | "malformed" // a structure that contradicts its own sizes
  | "truncated"; // the stream ended inside a box/element

/** The only error a container parser throws on bad input. */
export class ParseError extends Error {
  readonly reason: ParseErrorReason;
  constructor(reason: ParseErrorReason, detail: string) {
    super(`${reason}: ${detail}`);
    this.name = "ParseError";
    this.reason = reason;
  }
}
