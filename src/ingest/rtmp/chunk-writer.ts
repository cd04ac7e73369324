import { EXTENDED_TIMESTAMP } from "./constants.ts";

/** A message to send: see `RtmpMessage` (the timestamp is ms modulo 2^32). */
export interface OutgoingMessage {
  csid: number;
  typeId: number;
  streamId: number;
  timestamp: number;
  payload: Uint8Array;
}

interface LastHeader {
  timestamp: number;
  delta: number;
  length: number;
  typeId: number;
  streamId: number;
}

const WRAP = 2 ** 32;

/**
 * Splits messages into chunks (RTMP spec §5.3) with the smallest header that says the same thing as the
 * last one on its chunk stream: type 0 for a stream's first message, a new stream ID or a timestamp going
 * back; type 1 when length or type changes; type 2 when only the delta changes; type 3 when nothing does.
 * Continuation chunks are type 3 and repeat the extended timestamp when the header had one (§5.3.1.3).
 * `compress: false` writes a type 0 header for every message.
 */
export class ChunkWriter {
  private chunkSize: number;
  private readonly compress: boolean;
  private readonly last = new Map<number, LastHeader>();

  constructor(chunkSize = 128, compress = true) {
    this.chunkSize = chunkSize;
    this.compress = compress;
  }

  /** Changes the size used for the next messages (after a Set Chunk Size was written with the old one). */
  setChunkSize(size: number): void {
    this.chunkSize = size;
  }

  get size(): number {
    return this.chunkSize;
  }

  write(m: OutgoingMessage): Uint8Array {
    const prev = this.last.get(m.csid);
    const length = m.payload.byteLength;
    let fmt = 0;
    let field = m.timestamp;
    if (this.compress && prev && prev.streamId === m.streamId && m.timestamp >= prev.timestamp) {
      const delta = (m.timestamp - prev.timestamp) % WRAP;
      field = delta;
      fmt = prev.length === length && prev.typeId === m.typeId ? (prev.delta === delta ? 3 : 2) : 1;
    }
    this.last.set(m.csid, { timestamp: m.timestamp, delta: field, length, typeId: m.typeId, streamId: m.streamId });
    const extended = field >= EXTENDED_TIMESTAMP;
    const basic = m.csid < 64 ? 1 : m.csid < 320 ? 2 : 3;
    const headerLen = [11, 7, 3, 0][fmt]!;
    const chunks = Math.max(1, Math.ceil(length / this.chunkSize));
    const contLen = basic + (extended ? 4 : 0);
    const out = new Uint8Array(basic + headerLen + (extended ? 4 : 0) + length + (chunks - 1) * contLen);
    let o = this.basicHeader(out, 0, fmt, m.csid);
    if (fmt < 3) {
      const ts = extended ? EXTENDED_TIMESTAMP : field;
      out[o++] = (ts >> 16) & 0xff;
      out[o++] = (ts >> 8) & 0xff;
      out[o++] = ts & 0xff;
    }
    if (fmt < 2) {
      out[o++] = (length >> 16) & 0xff;
      out[o++] = (length >> 8) & 0xff;
      out[o++] = length & 0xff;
      out[o++] = m.typeId;
    }
    if (fmt === 0) {
      // Message stream ID is little-endian (§5.3.1.2.1).
      out[o++] = m.streamId & 0xff;
      out[o++] = (m.streamId >>> 8) & 0xff;
      out[o++] = (m.streamId >>> 16) & 0xff;
      out[o++] = (m.streamId >>> 24) & 0xff;
    }
    if (extended) o = writeU32(out, o, field);
    for (let i = 0; i < chunks; i++) {
      if (i > 0) {
        o = this.basicHeader(out, o, 3, m.csid);
        if (extended) o = writeU32(out, o, field);
      }
      const part = m.payload.subarray(i * this.chunkSize, Math.min(length, (i + 1) * this.chunkSize));
      out.set(part, o);
      o += part.byteLength;
    }
    return out;
  }

  private basicHeader(out: Uint8Array, o: number, fmt: number, csid: number): number {
    if (csid < 64) {
      out[o++] = (fmt << 6) | csid;
    } else if (csid < 320) {
      out[o++] = fmt << 6;
      out[o++] = csid - 64;
    } else {
      out[o++] = (fmt << 6) | 1;
      out[o++] = (csid - 64) & 0xff;
      out[o++] = (csid - 64) >> 8;
    }
    return o;
  }
}

function writeU32(out: Uint8Array, o: number, v: number): number {
  out[o++] = (v >>> 24) & 0xff;
  out[o++] = (v >>> 16) & 0xff;
  out[o++] = (v >>> 8) & 0xff;
  out[o++] = v & 0xff;
  return o;
}
