import { ByteQueue } from "../byte-queue.ts";
import { ParseError } from "../errors.ts";
import { buildMime } from "../mime.ts";
import type { ContainerParser, FragmentEvent, InitEvent, ParserEvent, ParserOptions } from "../types.ts";
import { DEFAULT_TIMECODE_SCALE, parseInfo, parseTracks } from "./codecs.ts";
import { type ElementHeader, ID, isTopLevelId, readQueuedHeader, readQueuedId, UNKNOWN_SIZE } from "./ebml.ts";
import { newWebmClusterScan, scanWebmCluster, scanWebmClusterChild, type WebmClusterScan, webmClusterBytesNeeded } from "./webm-cluster.ts";

/**
 * An unknown-size Cluster being collected child by child. Its header and complete children stay in the
 * queue (bytes [0, pos)) until it ends, and are then taken out in one copy.
 */
interface OpenCluster {
  /** Length of the Cluster's complete part at the head of the queue. */
  pos: number;
  scan: WebmClusterScan;
}

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
 * Everything held counts against `maxElementBytes`: each element, an unknown-size Cluster, and the init
 * as a whole (Segment headers included). The init and an unknown-size Cluster stay in the queue until
 * emitted and are then copied out once, so every operation is amortised O(bytes) whatever the chunking.
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
  // Init being collected: `initPrefix` (the EBML header a chained Segment reuses, not in the queue)
  // then `initQueued` bytes at the head of the queue, starting with an EBML header of `ebmlLength`
  // bytes unless there is a prefix.
  let initPrefix: Uint8Array | undefined;
  let initQueued = 0;
  let ebmlLength = 0;
  let sawEbmlHeader = false;
  let timecodeScale = DEFAULT_TIMECODE_SCALE;
  /** Body of the init's Tracks element, as offsets into the queue. */
  let tracksBody: { at: number; size: number } | undefined;
  // From the last emitted init.
  let lastEbmlHeader: Uint8Array | undefined;
  let videoTracks: ReadonlySet<number> = new Set();
  let timescale = 1e9 / DEFAULT_TIMECODE_SCALE;
  // Parsing position: the header whose body is awaited (at the end of the queued init, at `open.pos`
  // inside an open Cluster, else at the queue's head), bytes still to drop.
  let header: ElementHeader | undefined;
  let skipLeft = 0;
  let open: OpenCluster | undefined;

  const initLength = () => (initPrefix?.byteLength ?? 0) + initQueued;

  /** Removes the element at the queue's head once it is complete; null while its body is still arriving. */
  function takeElement(h: ElementHeader): Uint8Array | null {
    if (h.size === UNKNOWN_SIZE) throw new ParseError("unsupported-size", `element 0x${h.id.toString(16)} has an unknown size`);
    if (queue.length < h.headerLength + h.size) return null;
    header = undefined;
    return queue.take(h.headerLength + h.size);
  }

  function restartInit(prefix: Uint8Array | undefined): void {
    phase = "init";
    initPrefix = prefix;
    initQueued = 0;
    ebmlLength = prefix?.byteLength ?? 0;
    timecodeScale = DEFAULT_TIMECODE_SCALE;
    tracksBody = undefined;
  }

  function initEvent(): InitEvent {
    if (!tracksBody) throw new ParseError("fragment-before-init", "a Cluster arrived before any Tracks element");
    const tracks = parseTracks(queue.peek(tracksBody.at, tracksBody.size), timecodeScale);
    const mime = buildMime("webm", tracks);
    const bytes = queue.take(initQueued, initPrefix);
    // Kept for a chained Segment: a view of the init just emitted, which the stream holds anyway.
    lastEbmlHeader = bytes.subarray(0, ebmlLength);
    videoTracks = new Set(tracks.filter((t) => t.kind === "video").map((t) => t.id));
    timescale = 1e9 / timecodeScale;
    phase = "media";
    initPrefix = undefined;
    initQueued = 0;
    return { type: "init", format: "webm", bytes, mime, tracks };
  }

  function fragmentEvent(bytes: Uint8Array, scan: WebmClusterScan): FragmentEvent {
    // Timestamp is mandatory in every Cluster (RFC 9559, Cluster \ Timestamp).
    if (scan.timecode === undefined) throw new ParseError("malformed", "a Cluster without a Timestamp element");
    const audioOnly = videoTracks.size === 0;
    return {
      type: "fragment",
      bytes,
      keyframe: audioOnly || scan.keyframe,
      syncPoint: audioOnly || scan.anyKeyframe,
      decodeTime: scan.timecode,
      timescale,
      start: scan.timecode / timescale,
    };
  }

  /** The init would grow by `bytes`: too-large past the cap (the init is emitted as one unit). */
  function growInit(bytes: number): void {
    if (initLength() + bytes > cap) throw new ParseError("too-large", `the init segment grows past the ${cap}-byte cap`);
  }

  /** One step while collecting an init (`h` is at `initQueued`). Returns false to wait for more bytes. */
  function stepInit(h: ElementHeader, events: ParserEvent[]): boolean {
    if (h.id === ID.EBML) {
      // A new EBML header restarts the init (publisher restart): what was collected is dropped now.
      queue.skip(initQueued);
      restartInit(undefined);
      if (h.size === UNKNOWN_SIZE) throw new ParseError("unsupported-size", "the EBML header has an unknown size");
      if (queue.length < h.headerLength + h.size) return false;
      header = undefined;
      initQueued = ebmlLength = h.headerLength + h.size;
      sawEbmlHeader = true;
      return true;
    }
    if (!sawEbmlHeader) {
      if (h.id === ID.Cluster) throw new ParseError("fragment-before-init", "a Cluster arrived before the EBML header");
      throw new ParseError("unknown-format", `a WebM stream must start with an EBML header, not element 0x${h.id.toString(16)}`);
    }
    if (h.id === ID.Segment) {
      // Only the Segment's header belongs to the init; its size (known or unknown) is never waited for.
      growInit(h.headerLength);
      header = undefined;
      initQueued += h.headerLength;
      return true;
    }
    if (h.id === ID.Cluster) {
      events.push(initEvent()); // the header stays pending: stepMedia handles this Cluster
      return true;
    }
    if (h.size === UNKNOWN_SIZE) throw new ParseError("unsupported-size", `element 0x${h.id.toString(16)} has an unknown size`);
    growInit(h.headerLength + h.size);
    if (queue.length < initQueued + h.headerLength + h.size) return false;
    header = undefined;
    const body = initQueued + h.headerLength;
    initQueued = body + h.size;
    if (h.id === ID.Info) timecodeScale = parseInfo(queue.peek(body, h.size));
    else if (h.id === ID.Tracks) tracksBody = { at: body, size: h.size };
    return true;
  }

  /** One step between Clusters after an init. Returns false to wait for more bytes. */
  function stepMedia(h: ElementHeader, events: ParserEvent[]): boolean {
    if (h.id === ID.Cluster) {
      if (h.size === UNKNOWN_SIZE) {
        header = undefined;
        open = { pos: h.headerLength, scan: newWebmClusterScan() }; // the header stays queued
        return true;
      }
      const bytes = takeElement(h);
      if (!bytes) return false;
      events.push(fragmentEvent(bytes, scanWebmCluster(bytes, h.headerLength, bytes.byteLength, videoTracks)));
      return true;
    }
    if (h.id === ID.EBML) {
      restartInit(undefined); // stepInit takes this header
      return true;
    }
    if (h.id === ID.Segment) {
      restartInit(lastEbmlHeader); // a chained Segment reuses the EBML header it follows
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
    if (c.pos + total > cap) throw new ParseError("too-large", `unknown-size Cluster grows past the ${cap}-byte cap`);
    if (queue.length < c.pos + total) return false;
    const need = webmClusterBytesNeeded(c.scan, h.id, h.size, videoTracks);
    if (need > 0) scanWebmClusterChild(c.scan, queue.peek(c.pos + h.headerLength, need), h.id, 0, need, videoTracks);
    c.pos += total;
    header = undefined;
    return true;
  }

  function closeCluster(c: OpenCluster): FragmentEvent {
    open = undefined;
    return fragmentEvent(queue.take(c.pos), c.scan);
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
        const at = open ? open.pos : phase === "init" ? initQueued : 0;
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
    return events;
  }

  return {
    format: "webm",
    get buffered() {
      return queue.length + (initPrefix?.byteLength ?? 0);
    },
    push(chunk: Uint8Array): ParserEvent[] {
      queue.push(chunk);
      return drain();
    },
    end(): ParserEvent[] {
      const events = drain();
      const partial = queue.length - (open ? open.pos : 0) - (phase === "init" ? initQueued : 0);
      if (partial > 0 || skipLeft > 0) {
        throw new ParseError("truncated", `the stream ended inside an element (${partial} bytes of it arrived)`);
      }
      if (open) {
        events.push(closeCluster(open)); // an unknown-size Cluster that ended on a child boundary is complete
      } else if (phase === "init" && initLength() > 0) {
        if (!tracksBody) throw new ParseError("truncated", "the stream ended before its Tracks element");
        events.push(initEvent()); // a complete init that no Cluster followed
      }
      return events;
    },
  };
}
