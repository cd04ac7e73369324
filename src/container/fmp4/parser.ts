import { ByteQueue } from "../byte-queue.ts";
import { ParseError } from "../errors.ts";
import { buildMime } from "../mime.ts";
import type { ContainerParser, FragmentEvent, InitEvent, ParserEvent, ParserOptions } from "../types.ts";
import { FREE, FTYP, MDAT, MFRA, MOOF, MOOV, PRFT, SKIP } from "./box-types.ts";
import { type BoxHeader, type BoxRange, MAX_BOX_HEADER, printable, readBoxHeader } from "./boxes.ts";
import { readFragment } from "./moof.ts";
import { type MovieInfo, parseMoov } from "./moov.ts";

/** Top-level boxes dropped between fragments: padding and the random-access trailer. */
const DROPPED = new Set([FREE, SKIP, MFRA]);

/** Where a box sits inside the pending unit (offset from the unit's first byte). */
interface Placed {
  at: number;
  header: BoxHeader;
}

/**
 * A push parser for live fragmented MP4, driven by declared box sizes: only box headers, `moov` and
 * `moof`/`prft` are parsed; media bytes are copied once into the emitted event (bytes that arrived in
 * chunks shorter than `COPY_BELOW` once more, into the queue's blocks).
 *
 * - Init: every top-level box up to the end of `moov` (ftyp, free, ...), emitted when `moov` is
 *   complete. A later `ftyp`/`moov` (muxer restart) starts a new init.
 * - Fragment: `styp`/`sidx`/`prft`/`emsg` (any box but free/skip/mfra/mdat) before a `moof`, the
 *   `moof`, anything after it and the first `mdat`; emitted as soon as that mdat's last byte arrives.
 * - Dropped between fragments: `free`, `skip`, `mfra` and an `mdat` no `moof` describes.
 *
 * Every declared box size and every pending init/fragment (prefix boxes held across dropped ones
 * included) is capped at `options.maxElementBytes`, checked from headers before bodies are buffered;
 * `buffered` counts all of it. Work is amortised O(bytes) whatever the chunking: no box is re-copied
 * or re-scanned as more arrive (see `ByteQueue`). After a `ParseError` the parser stays failed and
 * rethrows it.
 */
export function createFmp4Parser(options: ParserOptions): ContainerParser {
  const max = options.maxElementBytes;
  const queue = new ByteQueue();
  /**
   * Bytes of the pending unit moved out of the queue so a dropped box behind them could be skipped. A
   * queue too, so holding many tiny boxes costs O(bytes) in time and memory, never a re-copy per box.
   */
  const held = new ByteQueue();
  /** End of the last announced box of the pending unit, counted from the queue's read position. */
  let cursor = 0;
  /** Bytes of a dropped box still to discard as they arrive. */
  let skipLeft = 0;
  let movie: MovieInfo | undefined;
  /** "init": collecting up to moov; "idle": between fragments (maybe prefix boxes); "fragment": moof seen. */
  let mode: "init" | "idle" | "fragment" = "init";
  /** Set once the unit's last box (moov / mdat) is announced: emit when the queue holds `cursor` bytes. */
  let complete = false;
  let moov: Placed | undefined;
  let moof: Placed | undefined;
  let prft: Placed | undefined;
  let failed: ParseError | undefined;

  function onBox(header: BoxHeader): void {
    const { type } = header;
    if (type === MOOF) {
      if (mode === "init") throw new ParseError("fragment-before-init", "a 'moof' arrived before the 'moov' of an init segment");
      if (mode === "fragment") throw new ParseError("malformed", "a 'moof' follows a 'moof' without its 'mdat'");
      mode = "fragment";
      moof = accept(header);
    } else if (type === MDAT && mode === "fragment") {
      accept(header);
      complete = true;
    } else if (type === FTYP || type === MOOV) {
      if (mode === "fragment") throw new ParseError("malformed", `a '${printable(type)}' arrived between a 'moof' and its 'mdat'`);
      mode = "init";
      prft = undefined;
      const placed = accept(header);
      if (type === MOOV) {
        moov = placed;
        complete = true;
      }
    } else if (mode === "idle" && (DROPPED.has(type) || type === MDAT)) {
      drop(header);
    } else {
      const placed = accept(header);
      if (type === PRFT && mode === "idle") prft = placed;
    }
  }

  /** Adds an announced box to the pending unit, enforcing the unit cap. */
  function accept(header: BoxHeader): Placed {
    const at = held.length + cursor;
    if (at + header.size > max) {
      const what = mode === "init" ? "init segment" : "fragment";
      throw new ParseError(
        "too-large",
        `the pending ${what} would reach ${at + header.size} bytes with '${printable(header.type)}', over the ${max}-byte limit`,
      );
    }
    cursor += header.size;
    return { at, header };
  }

  /** Discards an announced box without buffering it; pending prefix boxes in front of it move aside. */
  function drop(header: BoxHeader): void {
    if (cursor > 0) {
      held.push(queue.take(cursor));
      cursor = 0;
    }
    skipLeft = header.size;
  }

  /** Cuts the completed unit out of the queue and resets the per-unit state. */
  function takeUnit(): Uint8Array {
    let bytes: Uint8Array;
    if (held.length === 0) {
      bytes = queue.take(cursor);
    } else {
      bytes = new Uint8Array(held.length + cursor);
      const at = held.length;
      held.takeInto(bytes, 0, at);
      queue.takeInto(bytes, at, cursor);
    }
    cursor = 0;
    complete = false;
    return bytes;
  }

  function emitInit(): InitEvent {
    const at = moov!;
    const bytes = takeUnit();
    mode = "idle";
    moov = undefined;
    const payload = payloadOf(at);
    const next = parseMoov(bytes, payload.start, payload.end);
    const mime = buildMime("fmp4", next.tracks);
    movie = next;
    return { type: "init", format: "fmp4", bytes, mime, tracks: next.tracks };
  }

  function emitFragment(): FragmentEvent {
    let moofAt = payloadOf(moof!);
    let prftAt = prft && payloadOf(prft);
    // Read moof/prft from a view of the received chunks (no copy when they lie in one) rather than
    // from the fresh fragment copy: a DataView over a small fresh array is costly in JSC.
    let meta: Uint8Array | undefined;
    if (held.length === 0) {
      const from = prft?.at ?? moof!.at;
      meta = queue.peek(from, moofAt.end - from);
      moofAt = shift(moofAt, from);
      prftAt = prftAt && shift(prftAt, from);
    }
    const bytes = takeUnit();
    mode = "idle";
    moof = undefined;
    prft = undefined;
    return readFragment(bytes, meta ?? bytes, moofAt, prftAt, movie!);
  }

  function step(events: ParserEvent[]): boolean {
    if (skipLeft > 0) {
      const n = Math.min(skipLeft, queue.length);
      queue.skip(n);
      skipLeft -= n;
      return skipLeft === 0;
    }
    if (complete) {
      if (queue.length < cursor) return false;
      events.push(mode === "init" ? emitInit() : emitFragment());
      return true;
    }
    const avail = queue.length - cursor;
    if (avail < 8) return false;
    const header = readBoxHeader(queue.peek(cursor, Math.min(MAX_BOX_HEADER, avail)), max);
    if (!header) return false;
    onBox(header);
    return true;
  }

  return {
    format: "fmp4",
    get buffered() {
      return queue.length + held.length;
    },
    push(chunk: Uint8Array): ParserEvent[] {
      if (failed) throw failed;
      queue.push(chunk);
      const events: ParserEvent[] = [];
      try {
        while (step(events));
      } catch (e) {
        if (e instanceof ParseError) failed = e;
        throw e;
      }
      return events;
    },
    end(): ParserEvent[] {
      if (failed) throw failed;
      const left = queue.length + held.length;
      if (skipLeft > 0 || left > 0) {
        const missing = skipLeft > 0 ? skipLeft : Math.max(0, cursor - queue.length);
        failed = new ParseError(
          "truncated",
          `the stream ended with ${left} unemitted bytes${missing ? ` and ${missing} bytes of a box still missing` : ""}`,
        );
        throw failed;
      }
      return [];
    },
  };
}

/** The payload range of a placed box inside its unit's bytes. */
function payloadOf(placed: Placed): BoxRange {
  return { type: placed.header.type, start: placed.at + placed.header.headerSize, end: placed.at + placed.header.size };
}

function shift(range: BoxRange, by: number): BoxRange {
  return { type: range.type, start: range.start - by, end: range.end - by };
}
