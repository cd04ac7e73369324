import { ByteQueue } from "./byte-queue.ts";
import { DETECT_BYTES, detectFormat } from "./detect.ts";
import { ParseError } from "./errors.ts";
import { createFmp4Parser } from "./fmp4/parser.ts";
import { createMpegTsParser } from "./remuxing-parser.ts";
import type { ContainerParser, IngestFormat, ParserEvent, ParserOptions } from "./types.ts";
import { createWebmParser } from "./webm/parser.ts";

export type * from "./types.ts";
export { ParseError };

/** A parser for a known byte-stream format (RTMP is a protocol, not a byte stream: see `createFrameRemuxer`). */
export function createParser(format: Exclude<IngestFormat, "rtmp">, options: ParserOptions): ContainerParser {
  if (format === "mpegts") return createMpegTsParser(options);
  return format === "fmp4" ? createFmp4Parser(options) : createWebmParser(options);
}

/** A parser whose container is not known up front: `format` is undefined until it is. */
export type SniffingParser = Omit<ContainerParser, "format"> & { readonly format: IngestFormat | undefined };

/**
 * A parser that sniffs the container from the first bytes (see `detectFormat`) and then delegates.
 * `format` is undefined until enough bytes arrived to decide.
 */
export function createSniffingParser(options: ParserOptions): SniffingParser {
  let inner: ContainerParser | undefined;
  const head = new ByteQueue();
  return {
    get format() {
      return inner?.format;
    },
    get buffered() {
      return inner ? inner.buffered : head.length;
    },
    push(chunk: Uint8Array): ParserEvent[] {
      if (inner) return inner.push(chunk);
      head.push(chunk);
      const format = detectFormat(head.peek(0, Math.min(head.length, DETECT_BYTES)));
      if (!format) return [];
      inner = createParser(format === "rtmp" ? "fmp4" : format, options);
      return inner.push(head.take(head.length));
    },
    end(): ParserEvent[] {
      if (inner) return inner.end();
      if (head.length === 0) return [];
      detectFormat(head.peek(0, head.length)); // garbage gets its own reason
      throw new ParseError("truncated", `the stream ended after ${head.length} bytes, before its format was known`);
    },
  };
}
