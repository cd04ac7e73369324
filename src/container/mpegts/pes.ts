/**
 * PES packets (ISO/IEC 13818-1 §2.4.3.6) reassembled from the transport packets of one PID.
 */

/** A complete PES packet, header parsed. */
export interface PesPacket {
  /** 33-bit PTS / DTS in 90 kHz ticks when present (DTS only with a PTS). */
  pts?: number;
  dts?: number;
  /** The PES_packet_data_bytes. */
  payload: Uint8Array;
  /** arrivalMs of the push that brought the last transport packet of this PES. */
  arrivalMs: number;
  /** A discontinuity_indicator (on this PID or the PCR PID) came before this PES started. */
  discontinuity: boolean;
}

/** Why a PES was thrown away. */
export type PesDrop = "oversized" | "truncated" | "malformed";

/** Where a `PesAssembler` reports. */
export interface PesSink {
  pes(p: PesPacket): void;
  dropped(why: PesDrop): void;
  /** Every byte newly held (+) or released (−) by an assembler, for the demuxer's budget. */
  held(delta: number): void;
}

const START_CODE_BYTES = 6;
/** stream_ids without the optional PES header (Table 2-22): program_stream_map, padding, private_stream_2, ECM, EMM, directory, DSMCC, H.222.1 type E. */
const NO_HEADER_IDS = new Set([0xbc, 0xbe, 0xbf, 0xf0, 0xf1, 0xff, 0xf2, 0xf8]);

/**
 * Collects one PID's payloads between payload_unit_start_indicators. A PES with PES_packet_length
 * set is handed over the moment its last byte arrives; one with length 0 (unbounded, allowed for
 * video) when the next PES starts or at `flush()`. Payload pieces are copied into a list and joined
 * once, so cost is O(bytes) whatever the packet count; a PES growing past `maxBytes` is dropped
 * (and the PID ignored until its next PES starts).
 */
export class PesAssembler {
  private pieces: Uint8Array[] = [];
  private size = 0;
  /** Whole PES size from PES_packet_length (header included), 0 = unbounded, -1 = not read yet. */
  private declared = -1;
  private active = false;
  private arrivalMs = 0;
  private startedAfterBreak = false;
  /** Set by the demuxer on a discontinuity_indicator: the next PES to start begins a new time base. */
  pendingBreak = false;

  constructor(
    private readonly maxBytes: number,
    private readonly sink: PesSink,
  ) {}

  /** Bytes of the PES being collected. */
  get buffered(): number {
    return this.size;
  }

  /** One transport packet's payload. `room` is how many more bytes the demuxer's budget allows. */
  push(payload: Uint8Array, pusi: boolean, arrivalMs: number, room: number): void {
    if (pusi) {
      if (this.active) {
        if (this.declared === 0) this.complete();
        else this.drop("truncated");
      }
      this.active = true;
      this.declared = -1;
      this.startedAfterBreak = this.pendingBreak;
      this.pendingBreak = false;
    }
    if (!this.active || payload.byteLength === 0) return;
    if (this.size + payload.byteLength > this.maxBytes || payload.byteLength > room) {
      this.drop("oversized");
      return;
    }
    this.pieces.push(payload.slice());
    this.size += payload.byteLength;
    this.sink.held(payload.byteLength);
    this.arrivalMs = arrivalMs;
    if (this.declared < 0 && this.size >= START_CODE_BYTES) {
      const head = this.pieces[0]!.byteLength >= START_CODE_BYTES ? this.pieces[0]! : this.join().subarray(0, START_CODE_BYTES);
      if (head[0] !== 0 || head[1] !== 0 || head[2] !== 1) {
        this.drop("malformed");
        return;
      }
      const length = (head[4]! << 8) | head[5]!;
      this.declared = length === 0 ? 0 : START_CODE_BYTES + length;
    }
    if (this.declared > 0 && this.size >= this.declared) this.complete();
  }

  /** Throws away the PES being collected (a packet of it was lost); true if there was one. */
  abandon(): boolean {
    if (!this.active) return false;
    this.drop("truncated");
    return true;
  }

  /** End of stream: an unbounded PES is complete, a bounded one that is short is dropped. */
  flush(): void {
    if (!this.active) return;
    if (this.declared === 0) this.complete();
    else this.drop("truncated");
  }

  private join(): Uint8Array {
    if (this.pieces.length === 1) return this.pieces[0]!;
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const p of this.pieces) {
      out.set(p, o);
      o += p.byteLength;
    }
    this.pieces = [out];
    return out;
  }

  private release(): void {
    this.sink.held(-this.size);
    this.pieces = [];
    this.size = 0;
    this.active = false;
    this.declared = -1;
  }

  private drop(why: PesDrop): void {
    this.release();
    this.sink.dropped(why);
  }

  private complete(): void {
    const bytes = this.join();
    const whole = this.declared > 0 ? bytes.subarray(0, this.declared) : bytes;
    const arrivalMs = this.arrivalMs;
    const discontinuity = this.startedAfterBreak;
    this.release();
    const parsed = parsePesHeader(whole);
    if (!parsed) {
      this.sink.dropped("malformed");
      return;
    }
    this.sink.pes({ ...parsed, arrivalMs, discontinuity });
  }
}

/**
 * The PTS/DTS and payload of a whole PES packet (§2.4.3.7), or undefined when the optional header
 * contradicts itself (bad marker bits, header past the end, DTS without PTS).
 */
function parsePesHeader(pes: Uint8Array): { pts?: number; dts?: number; payload: Uint8Array } | undefined {
  if (pes.byteLength < START_CODE_BYTES || pes[0] !== 0 || pes[1] !== 0 || pes[2] !== 1) return undefined;
  const streamId = pes[3]!;
  if (NO_HEADER_IDS.has(streamId)) return { payload: pes.subarray(START_CODE_BYTES) };
  if (pes.byteLength < 9 || (pes[6]! & 0xc0) !== 0x80) return undefined;
  const flags = pes[7]! >> 6;
  const headerEnd = 9 + pes[8]!;
  if (headerEnd > pes.byteLength || flags === 1) return undefined;
  const out: { pts?: number; dts?: number; payload: Uint8Array } = { payload: pes.subarray(headerEnd) };
  if (flags & 2) {
    if (headerEnd < 14) return undefined;
    out.pts = readTimestamp(pes, 9);
    if (flags === 3) {
      if (headerEnd < 19) return undefined;
      out.dts = readTimestamp(pes, 14);
    }
  }
  return out;
}

/** A 33-bit PTS/DTS spread over 5 bytes with marker bits (§2.4.3.7): 3 + 15 + 15 bits. */
function readTimestamp(b: Uint8Array, at: number): number {
  const high = (b[at]! >> 1) & 0x07;
  const mid = (b[at + 1]! << 7) | (b[at + 2]! >> 1);
  const low = (b[at + 3]! << 7) | (b[at + 4]! >> 1);
  return high * 2 ** 30 + mid * 2 ** 15 + low;
}
