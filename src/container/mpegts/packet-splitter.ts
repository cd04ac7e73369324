import { ByteQueue } from "../byte-queue.ts";
import { ParseError } from "../errors.ts";
import { DETECT_BYTES, detectMpegTs, M2TS_PACKET_SIZE, SYNC_BYTE, TS_PACKET_SIZE, type TsFlavour } from "./detect.ts";

/** Bytes skipped in one search for the sync byte before the stream is declared not MPEG-TS any more. */
const MAX_RESYNC_BYTES = 256 * 1024;

/**
 * Cuts a byte stream into 188-byte transport packets, whatever the chunking: the flavour (188-byte
 * TS or 192-byte M2TS) is detected from the first bytes, full packets are handed out as they
 * complete and only the unparsed tail is kept (under two packets, except while searching for sync).
 * When a packet does not start with 0x47 the splitter searches for a position where 0x47 appears
 * twice one packet apart, counting the bytes it skips; O(1) amortised work per byte.
 */
export class PacketSplitter {
  private readonly q = new ByteQueue();
  private flavour: TsFlavour | undefined;
  private size = TS_PACKET_SIZE;
  private syncOffset = 0;
  private lostRun = 0;
  private searching = false;
  /** Times the sync byte was not where the previous packet said it would be. */
  syncLosses = 0;
  /** Bytes dropped while searching for sync (garbage and broken packets). */
  skippedBytes = 0;

  /** Bytes held that are not yet part of a packet handed out. */
  get buffered(): number {
    return this.q.length;
  }

  /** 188, or 192 for M2TS. */
  get packetSize(): number {
    return this.size;
  }

  get detected(): TsFlavour | undefined {
    return this.flavour;
  }

  push(chunk: Uint8Array): void {
    this.q.push(chunk);
  }

  /**
   * The next complete transport packet (188 bytes, sync byte first; an M2TS timestamp prefix is cut
   * off), or undefined when more bytes are needed. The view is valid until the caller's next call
   * and must not be kept. Throws `ParseError("unknown-format")` when the first bytes are not
   * MPEG-TS and `ParseError("malformed")` when sync stays lost for `MAX_RESYNC_BYTES`.
   */
  next(): Uint8Array | undefined {
    if (!this.flavour && !this.detect(false)) return undefined;
    const q = this.q;
    for (;;) {
      if (q.length < this.size) return undefined;
      if (!this.searching) {
        if (q.byteAt(this.syncOffset) === SYNC_BYTE) {
          const packet = q.peek(this.syncOffset, TS_PACKET_SIZE);
          q.skip(this.size);
          return packet;
        }
        this.searching = true;
        this.syncLosses++;
        this.drop(1);
      }
      if (!this.resync()) return undefined;
    }
  }

  /** At end of stream: decide the flavour on what arrived (fewer bytes than `DETECT_BYTES`). Returns the bytes left that make no packet. */
  finish(): number {
    if (!this.flavour && this.q.length > 0) this.detect(true);
    return this.q.length;
  }

  private detect(atEnd: boolean): boolean {
    const q = this.q;
    if (q.length < DETECT_BYTES && !atEnd) return false;
    const head = q.peek(0, Math.min(q.length, DETECT_BYTES));
    let flavour = detectMpegTs(head);
    if (!flavour && atEnd) {
      // A stream shorter than three packets: one or two sync bytes where they belong must do.
      if (head[0] === SYNC_BYTE && (head.byteLength < TS_PACKET_SIZE + 1 || head[TS_PACKET_SIZE] === SYNC_BYTE)) flavour = "ts";
      else if (head[4] === SYNC_BYTE && (head.byteLength < M2TS_PACKET_SIZE + 5 || head[M2TS_PACKET_SIZE + 4] === SYNC_BYTE))
        flavour = "m2ts";
    }
    if (!flavour) throw new ParseError("unknown-format", "not MPEG-TS: no sync byte 0x47 every 188 (or 192) bytes at the start");
    this.flavour = flavour;
    this.size = flavour === "ts" ? TS_PACKET_SIZE : M2TS_PACKET_SIZE;
    this.syncOffset = flavour === "ts" ? 0 : 4;
    return true;
  }

  /**
   * Skips to the next position whose sync byte is confirmed by another one a packet later (ISO/IEC
   * 13818-1 leaves resynchronisation to the receiver; this is the usual two-in-a-row rule). Returns
   * true when found, false when more bytes are needed to decide (every position ruled out is dropped,
   * so each byte is looked at a bounded number of times).
   */
  private resync(): boolean {
    const q = this.q;
    const o = this.syncOffset;
    let s = 0;
    while (s + o + this.size < q.length) {
      if (q.byteAt(s + o) === SYNC_BYTE && q.byteAt(s + o + this.size) === SYNC_BYTE) {
        this.drop(s);
        this.searching = false;
        this.lostRun = 0;
        return true;
      }
      s++;
    }
    this.drop(s);
    return false;
  }

  private drop(n: number): void {
    this.q.skip(n);
    this.skippedBytes += n;
    this.lostRun += n;
    if (this.lostRun > MAX_RESYNC_BYTES) throw new ParseError("malformed", `lost MPEG-TS sync for more than ${MAX_RESYNC_BYTES} bytes`);
  }
}
