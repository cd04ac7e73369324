import { crc32Mpeg } from "./crc32.ts";

/**
 * Largest PSI section this demuxer reassembles: PAT and PMT sections have section_length ≤ 1021
 * (ISO/IEC 13818-1 §2.4.4.4, §2.4.4.9), so a whole section is at most 1024 bytes.
 */
const MAX_SECTION = 1024;
const HEADER = 3;

/** What happened to a section: handed over whole, or dropped (bad CRC, impossible length, cut by a lost packet). */
export type SectionResult = { ok: true; section: Uint8Array } | { ok: false; why: string };

/**
 * Reassembles the PSI sections of one PID from transport packet payloads (§2.4.4.1–2.4.4.2): a
 * payload with payload_unit_start_indicator begins with a pointer_field; the bytes before the
 * pointer end the previous section, then one or more sections follow, until 0xFF stuffing. A
 * section may span any number of packets. Memory: one fixed 1 KiB buffer.
 */
export class SectionAssembler {
  private readonly buf = new Uint8Array(MAX_SECTION);
  private len = 0;
  /** Total bytes of the section being collected, known once its 3-byte header is in; 0 before. */
  private need = 0;
  private active = false;

  /** Drops the section being collected (a packet of it was lost). */
  reset(): void {
    this.active = false;
    this.len = 0;
    this.need = 0;
  }

  /** Feeds one packet's payload; calls `emit` for every section completed or dropped by it, in order. */
  push(payload: Uint8Array, pusi: boolean, emit: (r: SectionResult) => void): void {
    if (!pusi) {
      if (this.active) this.fill(payload, 0, emit);
      return;
    }
    if (payload.byteLength === 0) return;
    const pointer = payload[0]!;
    if (1 + pointer > payload.byteLength) {
      if (this.active) emit({ ok: false, why: "pointer_field past the packet" });
      this.reset();
      return;
    }
    if (this.active) {
      this.fill(payload.subarray(1, 1 + pointer), 0, emit);
      if (this.active) emit({ ok: false, why: "section cut short by the next one" });
      this.reset();
    }
    let pos = 1 + pointer;
    while (pos < payload.byteLength && payload[pos] !== 0xff) {
      this.active = true;
      pos = this.fill(payload, pos, emit);
      if (this.active) break; // the section continues in the next packet
    }
  }

  /** Copies bytes from `data[pos..]` into the current section; returns the position after what it used. */
  private fill(data: Uint8Array, pos: number, emit: (r: SectionResult) => void): number {
    while (pos < data.byteLength && this.active) {
      const want = this.need === 0 ? HEADER - this.len : this.need - this.len;
      const n = Math.min(want, data.byteLength - pos);
      this.buf.set(data.subarray(pos, pos + n), this.len);
      this.len += n;
      pos += n;
      if (this.need === 0 && this.len === HEADER) {
        const sectionLength = ((this.buf[1]! & 0x0f) << 8) | this.buf[2]!;
        if (HEADER + sectionLength > MAX_SECTION || sectionLength < 4) {
          emit({ ok: false, why: `section_length ${sectionLength} outside 4..${MAX_SECTION - HEADER}` });
          this.reset();
          return data.byteLength; // nothing after an impossible header can be trusted in this packet
        }
        this.need = HEADER + sectionLength;
      } else if (this.need > 0 && this.len === this.need) {
        const section = this.buf.subarray(0, this.len);
        const syntax = (section[1]! & 0x80) !== 0;
        if (syntax && crc32Mpeg(section) !== 0) emit({ ok: false, why: "CRC_32 mismatch" });
        else emit({ ok: true, section });
        this.reset();
      }
    }
    return pos;
  }
}
