import type { ByteQueue } from "../../container/byte-queue.ts";
import { ParseError } from "../../container/errors.ts";
import { DEFAULT_CHUNK_SIZE, EXTENDED_TIMESTAMP, MAX_CHUNK_SIZE, MSG } from "./constants.ts";

/** One reassembled RTMP message (RTMP spec §6.1): its virtual header and payload. */
export interface RtmpMessage {
  /** Chunk stream it came on. */
  csid: number;
  typeId: number;
  /** Message stream ID (0 = the NetConnection, others = NetStreams made by createStream). */
  streamId: number;
  /** Absolute timestamp, ms modulo 2^32 (deltas already applied). */
  timestamp: number;
  payload: Uint8Array;
}

export interface ChunkReaderLimits {
  /** Longest message accepted (its declared length). */
  maxMessageBytes: number;
  /** Most chunk streams one connection may open (each keeps a header and maybe a partial message). */
  maxChunkStreams: number;
  /** Sum of the declared lengths of all partial messages (interleaved on different chunk streams). */
  maxPartialBytes: number;
}

/** Per chunk stream: the last message header (for fmt 1–3 compression) and the message being reassembled. */
interface ChunkStream {
  timestamp: number;
  /** The last timestamp field: a delta (fmt 1/2) or, after fmt 0, the absolute value (which fmt 3 then adds, as ffmpeg does). */
  delta: number;
  length: number;
  typeId: number;
  streamId: number;
  /** The last fmt 0–2 header carried an extended timestamp, and its 32-bit value. */
  extended: boolean;
  extendedValue: number;
  partial: Uint8Array | undefined;
  filled: number;
}

const WRAP = 2 ** 32;

/**
 * Server side of the RTMP chunk stream (RTMP spec §5.3): reads chunks from a ByteQueue, reassembles
 * interleaved messages and handles the two chunk-layer control messages itself (Set Chunk Size §5.4.1,
 * Abort §5.4.2). All four chunk header types, 1–3 byte basic headers and extended timestamps are read;
 * a fmt 3 chunk carries the extended timestamp again when its header had one — read only if present,
 * since some encoders leave it out of continuation chunks.
 *
 * Nothing is consumed from the queue until a whole chunk (header and payload) is there, so any
 * chunking of the input gives the same messages, and a waiting chunk costs O(1) per push.
 */
export class ChunkReader {
  private readonly limits: ChunkReaderLimits;
  private readonly streams = new Map<number, ChunkStream>();
  private chunkSize = DEFAULT_CHUNK_SIZE;
  private partialBytes = 0;

  constructor(limits: ChunkReaderLimits) {
    this.limits = limits;
  }

  /** The peer's current chunk size. */
  get peerChunkSize(): number {
    return this.chunkSize;
  }

  /** Next complete message other than Set Chunk Size / Abort, or undefined until more bytes arrive. */
  read(q: ByteQueue): RtmpMessage | undefined {
    for (;;) {
      const msg = this.readChunk(q);
      if (msg === undefined) return undefined;
      if (msg === null) continue;
      if (msg.typeId === MSG.setChunkSize) this.setChunkSize(msg.payload);
      else if (msg.typeId === MSG.abort) this.abort(msg.payload);
      else return msg;
    }
  }

  /** Parses one chunk: undefined = incomplete (nothing consumed), null = consumed but the message is not complete. */
  private readChunk(q: ByteQueue): RtmpMessage | null | undefined {
    if (q.length < 1) return undefined;
    const b0 = q.byteAt(0);
    const fmt = b0 >> 6;
    let csid = b0 & 0x3f;
    let at = 1;
    // Basic header, §5.3.1.1: csid 0 → one more byte (64–319), 1 → two more, little-endian (64–65599).
    if (csid === 0) {
      if (q.length < 2) return undefined;
      csid = 64 + q.byteAt(1);
      at = 2;
    } else if (csid === 1) {
      if (q.length < 3) return undefined;
      csid = 64 + q.byteAt(1) + 256 * q.byteAt(2);
      at = 3;
    }
    const headerLen = [11, 7, 3, 0][fmt]!;
    if (q.length < at + headerLen) return undefined;
    const prev = this.streams.get(csid);
    if (!prev && fmt !== 0)
      throw new ParseError("malformed", `chunk stream ${csid} starts with a type ${fmt} header (RTMP spec §5.3.1.2 requires type 0)`);
    if (!prev && this.streams.size >= this.limits.maxChunkStreams)
      throw new ParseError("too-large", `more than ${this.limits.maxChunkStreams} chunk streams`);
    const h = q.peek(at, headerLen);
    // Message header, §5.3.1.2.
    let tsField = fmt < 3 ? (h[0]! << 16) | (h[1]! << 8) | h[2]! : prev!.delta;
    const length = fmt < 2 ? (h[3]! << 16) | (h[4]! << 8) | h[5]! : prev!.length;
    const typeId = fmt < 2 ? h[6]! : prev!.typeId;
    const streamId = fmt === 0 ? (h[7]! | (h[8]! << 8) | (h[9]! << 16)) + h[10]! * 0x1000000 : prev!.streamId;
    let extended = fmt < 3 ? tsField === EXTENDED_TIMESTAMP : prev!.extended;
    let extLen = 0;
    if (extended) {
      // §5.3.1.3. For fmt 3 the field repeats the last one; take it only when the 4 bytes match it.
      if (q.length < at + headerLen + 4) return undefined;
      const e = q.peek(at + headerLen, 4);
      const value = ((e[0]! << 24) | (e[1]! << 16) | (e[2]! << 8) | e[3]!) >>> 0;
      if (fmt < 3 || value === prev!.extendedValue) {
        extLen = 4;
        tsField = value;
      } else {
        tsField = prev!.extendedValue;
      }
      if (fmt === 3) extended = true;
    }
    const continuing = fmt === 3 && prev?.partial !== undefined;
    if (!continuing) {
      if (length > this.limits.maxMessageBytes)
        throw new ParseError(
          "too-large",
          `RTMP message of ${length} bytes (type ${typeId}) above the ${this.limits.maxMessageBytes}-byte limit`,
        );
      const held = this.partialBytes - (prev?.partial?.byteLength ?? 0) + length;
      if (held > this.limits.maxPartialBytes)
        throw new ParseError("too-large", `interleaved partial RTMP messages above ${this.limits.maxPartialBytes} bytes`);
    }
    const filled = continuing ? prev!.filled : 0;
    const n = Math.min(this.chunkSize, length - filled);
    if (q.length < at + headerLen + extLen + n) return undefined;

    // The whole chunk is here: commit.
    q.skip(at + headerLen + extLen);
    let s = prev;
    if (!s) {
      s = { timestamp: 0, delta: 0, length, typeId, streamId, extended: false, extendedValue: 0, partial: undefined, filled: 0 };
      this.streams.set(csid, s);
    }
    if (!continuing) {
      if (s.partial) this.partialBytes -= s.partial.byteLength; // a new header mid-message drops the old one
      s.timestamp = fmt === 0 ? tsField : (s.timestamp + tsField) % WRAP;
      s.delta = tsField;
      s.length = length;
      s.typeId = typeId;
      s.streamId = streamId;
      if (fmt < 3) s.extended = extended;
      if (extended) s.extendedValue = tsField;
      s.partial = new Uint8Array(length);
      s.filled = 0;
      this.partialBytes += length;
    }
    q.takeInto(s.partial!, s.filled, n);
    s.filled += n;
    if (s.filled < s.length) return null;
    const payload = s.partial!;
    s.partial = undefined;
    this.partialBytes -= payload.byteLength;
    return { csid, typeId: s.typeId, streamId: s.streamId, timestamp: s.timestamp, payload };
  }

  private setChunkSize(p: Uint8Array): void {
    if (p.byteLength < 4) throw new ParseError("malformed", "Set Chunk Size shorter than 4 bytes");
    const size = ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
    // §5.4.1: bit 31 must be 0; at least 1. Above 2^24 - 1 behaves like it (no message is longer).
    if (size === 0 || size > 0x7fffffff) throw new ParseError("malformed", `Set Chunk Size ${size}`);
    this.chunkSize = Math.min(size, MAX_CHUNK_SIZE);
  }

  private abort(p: Uint8Array): void {
    if (p.byteLength < 4) throw new ParseError("malformed", "Abort Message shorter than 4 bytes");
    const csid = ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
    const s = this.streams.get(csid);
    if (s?.partial) {
      this.partialBytes -= s.partial.byteLength;
      s.partial = undefined;
    }
  }
}
