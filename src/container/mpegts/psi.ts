import { ParseError } from "../errors.ts";
import { Reader } from "../reader.ts";

/** table_id values (ISO/IEC 13818-1 Table 2-31). */
const TABLE_PAT = 0x00;
const TABLE_PMT = 0x02;
/** Offset of a PAT's program loop: 3-byte section header + table_id_extension, version byte, section numbers. */
const PAT_LOOP = 8;
/** Offset of a PMT's program_info descriptors: PAT_LOOP + PCR_PID (2) + program_info_length (2). */
const PMT_FIXED = 12;
const CRC = 4;

/** One program of a PAT. */
interface PatProgram {
  programNumber: number;
  pmtPid: number;
}

/** A program_association_section's content. */
export interface Pat {
  version: number;
  /** Programs in section order; program_number 0 (the network PID) left out. */
  programs: PatProgram[];
}

/** One elementary stream of a PMT. */
export interface PmtStream {
  streamType: number;
  pid: number;
  /** The ES_info descriptors, raw (tag, length, body)*. */
  descriptors: Uint8Array;
}

/** A TS_program_map_section's content. */
export interface Pmt {
  programNumber: number;
  version: number;
  pcrPid: number;
  streams: PmtStream[];
}

/**
 * A program_association_section (§2.4.4.3), CRC already checked. Undefined when it is another
 * table or not current (current_next_indicator 0). Throws `ParseError("malformed")` when its loop
 * contradicts its length.
 */
export function parsePat(section: Uint8Array): Pat | undefined {
  const r = new Reader(section);
  if (r.u8() !== TABLE_PAT) return undefined;
  const end = 3 + (r.u16() & 0x0fff) - CRC;
  r.skip(2); // transport_stream_id
  const b = r.u8();
  if ((b & 1) === 0) return undefined;
  r.skip(2); // section_number, last_section_number
  if (end < PAT_LOOP || (end - PAT_LOOP) % 4 !== 0 || end > section.byteLength)
    throw new ParseError("malformed", "PAT loop is not a whole number of programs");
  const programs: PatProgram[] = [];
  while (r.pos < end) {
    const programNumber = r.u16();
    const pid = r.u16() & 0x1fff;
    if (programNumber !== 0) programs.push({ programNumber, pmtPid: pid });
  }
  return { version: (b >> 1) & 0x1f, programs };
}

/**
 * A TS_program_map_section (§2.4.4.8), CRC already checked. Undefined when it is another table or
 * not current. Throws `ParseError("malformed")` when a length inside contradicts the section.
 */
export function parsePmt(section: Uint8Array): Pmt | undefined {
  const r = new Reader(section);
  if (r.u8() !== TABLE_PMT) return undefined;
  const end = 3 + (r.u16() & 0x0fff) - CRC;
  if (end > section.byteLength || end < PMT_FIXED) throw new ParseError("malformed", "PMT shorter than its fixed fields");
  const programNumber = r.u16();
  const b = r.u8();
  if ((b & 1) === 0) return undefined;
  r.skip(2); // section_number, last_section_number
  const pcrPid = r.u16() & 0x1fff;
  const programInfoLength = r.u16() & 0x0fff;
  if (r.pos + programInfoLength > end) throw new ParseError("malformed", "PMT program_info_length past the section");
  r.skip(programInfoLength);
  const streams: PmtStream[] = [];
  while (r.pos < end) {
    if (r.pos + 5 > end) throw new ParseError("malformed", "PMT stream entry cut short");
    const streamType = r.u8();
    const pid = r.u16() & 0x1fff;
    const infoLength = r.u16() & 0x0fff;
    if (r.pos + infoLength > end) throw new ParseError("malformed", "PMT ES_info_length past the section");
    streams.push({ streamType, pid, descriptors: section.slice(r.pos, r.pos + infoLength) });
    r.skip(infoLength);
  }
  return { programNumber, version: (b >> 1) & 0x1f, pcrPid, streams };
}

/** Each (tag, body) of a descriptor loop (§2.6); stops at a descriptor that runs past the loop. */
export function* descriptors(loop: Uint8Array): Generator<{ tag: number; body: Uint8Array }> {
  let p = 0;
  while (p + 2 <= loop.byteLength) {
    const tag = loop[p]!;
    const len = loop[p + 1]!;
    if (p + 2 + len > loop.byteLength) return;
    yield { tag, body: loop.subarray(p + 2, p + 2 + len) };
    p += 2 + len;
  }
}
