import { ByteQueue } from "../byte-queue.ts";
import { ParseError } from "../errors.ts";
import { buildMime } from "../mime.ts";
import type { ContainerParser, FragmentEvent, InitEvent, ParserEvent, ParserOptions } from "../types.ts";
import { type ClusterScan, childBytesNeeded, newClusterScan, scanCluster, scanClusterChild } from "./cluster.ts";
import { DEFAULT_TIMECODE_SCALE, parseInfo, parseTracks } from "./codecs.ts";
import { type ElementHeader, ID, UNKNOWN_SIZE, isTopLevelId, readQueuedHeader, readQueuedId } from "./ebml.ts";

/**
 * An unknown-size Cluster being collected child by child. Its header and complete children stay in the
 * queue (bytes [0, pos)) and are moved to `parts` only now and then, so a Cluster arriving in few large chunks
 * is copied once, and one arriving in many tiny chunks never makes a look-up walk many chunks.
 */
interface OpenCluster {
  /** Bytes of the Cluster already taken out of the queue. */
  parts: Uint8Array[];
  taken: number;
  /** Length of the Cluster's complete part still at the head of the queue. */
  pos: number;
  scan: ClusterScan;
}

/** Chunks an open Cluster's complete children may span in the queue before they are taken out. */
const MAX_OPEN_CHUNKS = 16;

/**
 * A push parser for a live WebM stream (RFC 9559 + the MSE WebM byte stream format), driven by declared
 * element sizes; only the unparsed tail is held.
 *
 * - InitEvent: the EBML header, the Segment header (ID + size only) and every level-1 element before the
 *   first Cluster, emitted when that Cluster's ID arrives (or at `end()` if no Cluster ever came).
 * - FragmentEvent: one Cluster, emitted as soon as its last byte arrives; an unknown-size Cluster ends at
 *   the next level-0/1 element ID (its bytes keep the unknown-size marker). `keyframe` = the Cluster's
 *   first video block is a keyframe (audio-only streams: always true); `decodeTime` = the Cluster
 *   Timestamp in `timescale` = 1e9 / TimecodeScale ticks.
 * - Level-1 elements after the first Cluster (Cues, Tags, Void, ...) are dropped. A new EBML header or
 *   Segment starts a new init (publisher restart, chained streams).
 *
 * Throws `ParseError`: too-large (any element, an unknown-size Cluster or the init growing, above
 * `maxElementBytes`), unsupported-size (unknown size other than Segment/Cluster), fragment-before-init,
 * no-usable-track / unknown-codec (from the tracks), malformed, truncated (from `end()`), unknown-format
 * (the stream does not start with an EBML header).
 */
export function createWebmParser(options: ParserOptions): ContainerParser {
  const cap = options.maxElementBytes;
  const queue = new ByteQueue();
  let phase: "init" | "media" = "init";
  // Init being collected.
  let initParts: Uint8Array[] = [];
  let initLength = 0;
  let lastEbmlHeader: Uint8Array | undefined;
  let timecodeScale = DEFAULT_TIMECODE_SCALE;
  let tracksBody: Uint8Array | undefined;
  // From the last emitted init.
  let videoTracks: ReadonlySet<number> = new Set();
  let timescale = 1e9 / DEFAULT_TIMECODE_SCALE;
  // Parsing position: the header whose body is awaited (at the queue's head, or at `open.pos` inside an
  // open Cluster), bytes still to drop.
  let header: ElementHeader | undefined;
  let skipLeft = 0;
  let open: OpenCluster | undefined;
  let chunksSinceTake = 0;

  /** Removes the element at the queue's head once it is complete; null while its body is still arriving. */
  function takeElement(h: ElementHeader): Uint8Array | null {
    if (h.size === UNKNOWN_SIZE) throw new ParseError("unsupported-size", `element 0x${h.id.toString(16)} has an unknown size`);
    if (queue.length < h.headerLength + h.size) return null;
    header = undefined;
    return queue.take(h.headerLength + h.size);
  }

  function addInit(bytes: Uint8Array): void {
    initParts.push(bytes);
    initLength += bytes.byteLength;
  }

  function restartInit(parts: Uint8Array[]): void {
    phase = "init";
    initParts = [];
    initLength = 0;
    timecodeScale = DEFAULT_TIMECODE_SCALE;
    tracksBody = undefined;
    for (const p of parts) addInit(p);
  }

  function initEvent(): InitEvent {
    if (!tracksBody) throw new ParseError("fragment-before-init", "a Cluster arrived before any Tracks element");
    const tracks = parseTracks(tracksBody, timecodeScale);
    const mime = buildMime("webm", tracks);
    const bytes = concat(initParts, initLength);
    videoTracks = new Set(tracks.filter((t) => t.kind === "video").map((t) => t.id));
    timescale = 1e9 / timecodeScale;
    phase = "media";
    initParts = [];
    initLength = 0;
    return { type: "init", format: "webm", bytes, mime, tracks };
  }

  function fragmentEvent(bytes: Uint8Array, scan: ClusterScan): FragmentEvent {
    // Timestamp is mandatory in every Cluster (RFC 9559, Cluster \ Timestamp).
    if (scan.timecode === undefined) throw new ParseError("malformed", "a Cluster without a Timestamp element");
    const keyframe = videoTracks.size === 0 ? true : scan.keyframe;
    return { type: "fragment", bytes, keyframe, decodeTime: scan.timecode, timescale };
  }

  /** One step while collecting an init. Returns false to wait for more bytes. */
  function stepInit(h: ElementHeader, events: ParserEvent[]): boolean {
    if (h.id === ID.EBML) {
      const bytes = takeElement(h);
      if (!bytes) return false;
      lastEbmlHeader = bytes;
      restartInit([bytes]);
      return true;
    }
    if (!lastEbmlHeader) {
      if (h.id === ID.Cluster) throw new ParseError("fragment-before-init", "a Cluster arrived before the EBML header");
      throw new ParseError("unknown-format", `a WebM stream must start with an EBML header, not element 0x${h.id.toString(16)}`);
    }
    if (h.id === ID.Segment) {
      // Only the Segment's header belongs to the init; its size (known or unknown) is never waited for.
      header = undefined;
      addInit(queue.take(h.headerLength));
      return true;
    }
    if (h.id === ID.Cluster) {
      events.push(initEvent()); // the header stays pending: stepMedia handles this Cluster
      return true;
    }
    // The init is emitted as one unit, so it is capped as a whole, like any element.
    if (initLength + h.headerLength + h.size > cap) throw new ParseError("too-large", `the init segment grows past the ${cap}-byte cap`);
    const bytes = takeElement(h);
    if (!bytes) return false;
    addInit(bytes);
    if (h.id === ID.Info) timecodeScale = parseInfo(bytes.subarray(h.headerLength));
    else if (h.id === ID.Tracks) tracksBody = bytes.subarray(h.headerLength);
    return true;
  }

  /** One step between Clusters after an init. Returns false to wait for more bytes. */
  function stepMedia(h: ElementHeader, events: ParserEvent[]): boolean {
    if (h.id === ID.Cluster) {
      if (h.size === UNKNOWN_SIZE) {
        header = undefined;
        open = { parts: [], taken: 0, pos: h.headerLength, scan: newClusterScan() }; // the header stays queued
        chunksSinceTake = 0;
        return true;
      }
      const bytes = takeElement(h);
      if (!bytes) return false;
      events.push(fragmentEvent(bytes, scanCluster(bytes, h.headerLength, bytes.byteLength, videoTracks)));
      return true;
    }
    if (h.id === ID.EBML) {
      restartInit([]); // stepInit takes this header
      return true;
    }
    if (h.id === ID.Segment) {
      restartInit([lastEbmlHeader!]); // a chained Segment reuses the EBML header it follows
      return true;
    }
    // Any other element after the first Cluster (Cues, Tags, Chapters, Void, CRC-32, ...) is dropped.
    if (h.size === UNKNOWN_SIZE) throw new ParseError("unsupported-size", `element 0x${h.id.toString(16)} has an unknown size`);
    header = undefined;
    skipLeft = h.headerLength + h.size;
    return true;
  }

  /** One child of an unknown-size Cluster, left in the queue. Returns false to wait for more bytes. */
  function stepOpenCluster(c: OpenCluster, h: ElementHeader): boolean {
    if (h.size === UNKNOWN_SIZE) throw new ParseError("unsupported-size", `Cluster child 0x${h.id.toString(16)} has an unknown size`);
    const total = h.headerLength + h.size;
    if (c.taken + c.pos + total > cap) throw new ParseError("too-large", `unknown-size Cluster grows past the ${cap}-byte cap`);
    if (queue.length < c.pos + total) return false;
    const need = childBytesNeeded(c.scan, h.id, h.size, videoTracks);
    if (need > 0) scanClusterChild(c.scan, queue.peek(c.pos + h.headerLength, need), h.id, 0, need, videoTracks);
    c.pos += total;
    header = undefined;
    return true;
  }

  function takeOpenChildren(c: OpenCluster): void {
    if (c.pos === 0) return;
    c.parts.push(queue.take(c.pos));
    c.taken += c.pos;
    c.pos = 0;
    chunksSinceTake = 0;
  }

  function closeCluster(c: OpenCluster): FragmentEvent {
    takeOpenChildren(c);
    open = undefined;
    return fragmentEvent(concat(c.parts, c.taken), c.scan);
  }

  function drain(): ParserEvent[] {
    const events: ParserEvent[] = [];
    for (;;) {
      if (skipLeft > 0) {
        const n = Math.min(skipLeft, queue.length);
        queue.skip(n);
        skipLeft -= n;
        if (skipLeft > 0) break;
      }
      if (!header) {
        const at = open ? open.pos : 0;
        const h = readQueuedHeader(queue, at, cap);
        // An unknown-size element ends at the first element that cannot be its child (RFC 8794 §6.2):
        // for a Cluster, any level-0/1 element ID (MSE WebM byte stream format). The ID alone decides.
        const id = h ? h.id : open ? readQueuedId(queue, at) : null;
        if (open && id !== null && isTopLevelId(id)) {
          events.push(closeCluster(open)); // the element at `at` is now at the queue's head
          if (!h) continue;
        }
        if (!h) break;
        header = h;
      }
      const h = header;
      const progressed = open ? stepOpenCluster(open, h) : phase === "init" ? stepInit(h, events) : stepMedia(h, events);
      if (!progressed) break;
    }
    if (open && chunksSinceTake > MAX_OPEN_CHUNKS) takeOpenChildren(open);
    return events;
  }

  return {
    format: "webm",
    get buffered() {
      return queue.length + initLength + (open ? open.taken : 0);
    },
    push(chunk: Uint8Array): ParserEvent[] {
      queue.push(chunk);
      chunksSinceTake++;
      return drain();
    },
    end(): ParserEvent[] {
      const events = drain();
      const partial = queue.length - (open ? open.pos : 0);
      if (partial > 0 || skipLeft > 0) {
        throw new ParseError("truncated", `the stream ended inside an element (${partial} bytes of it arrived)`);
      }
      if (open) {
        events.push(closeCluster(open)); // an unknown-size Cluster that ended on a child boundary is complete
      } else if (phase === "init" && initLength > 0) {
        if (!tracksBody) throw new ParseError("truncated", "the stream ended before its Tracks element");
        events.push(initEvent()); // a complete init that no Cluster followed
      }
      return events;
    },
  };
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}
