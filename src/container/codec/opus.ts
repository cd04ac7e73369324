import { ParseError } from "../errors.ts";

/**
 * Opus facts shared by every container that carries it: the `OpusHead` identification header
 * (RFC 7845 §5.1), read and written, and packet durations from the TOC byte (RFC 6716 §3.1).
 */

/** Opus always decodes at 48 kHz (RFC 7845 §4); durations and pre-skip count 48 kHz samples. */
export const OPUS_SAMPLE_RATE = 48000;

/** What an `OpusHead` (RFC 7845 §5.1) says; little-endian on the wire. */
export interface OpusHead {
  channels: number;
  preSkip: number;
  inputSampleRate: number;
  /** Q7.8 dB, signed. */
  outputGain: number;
  mappingFamily: number;
  /** Family ≠ 0: stream count, coupled count, then one mapping byte per output channel. */
  mappingTable: Uint8Array | undefined;
}

const OPUS_HEAD_MAGIC = "OpusHead";
/** Magic, version, channel count, pre-skip, input rate, gain, mapping family. */
const OPUS_HEAD_SIZE = 19;
/** The version this code writes: 1 (§5.1: "MUST be set to 1"). */
const OPUS_HEAD_VERSION = 1;

/**
 * Reads an `OpusHead` packet (RFC 7845 §5.1). Throws `malformed` without the magic, for a major
 * version other than 0 (§5.1: version 1 is current, 0x0X all compatible), zero channels, family 0
 * with more than 2 channels, or a channel mapping table that does not fit.
 */
export function readOpusHead(head: Uint8Array): OpusHead {
  const bad = (why: string) => new ParseError("malformed", `OpusHead: ${why}`);
  if (head.byteLength < OPUS_HEAD_SIZE) throw bad(`${head.byteLength} bytes, needs ${OPUS_HEAD_SIZE}`);
  for (let i = 0; i < 8; i++) if (head[i] !== OPUS_HEAD_MAGIC.charCodeAt(i)) throw bad("no 'OpusHead' magic");
  if (head[8]! >> 4 !== 0) throw bad(`unsupported version ${head[8]}`);
  const channels = head[9]!;
  if (channels === 0) throw bad("zero channels");
  const gain = head[16]! | (head[17]! << 8);
  const mappingFamily = head[18]!;
  let mappingTable: Uint8Array | undefined;
  if (mappingFamily === 0) {
    if (channels > 2) throw bad(`mapping family 0 with ${channels} channels`);
  } else {
    // §5.1.1: stream count, coupled stream count, channel mapping[channels].
    if (head.byteLength < OPUS_HEAD_SIZE + 2 + channels) throw bad(`mapping table needs ${2 + channels} bytes`);
    mappingTable = head.subarray(OPUS_HEAD_SIZE, OPUS_HEAD_SIZE + 2 + channels);
  }
  return {
    channels,
    preSkip: head[10]! | (head[11]! << 8),
    inputSampleRate: (head[12]! | (head[13]! << 8) | (head[14]! << 16) | (head[15]! << 24)) >>> 0,
    outputGain: gain >= 0x8000 ? gain - 0x10000 : gain,
    mappingFamily,
    mappingTable,
  };
}

/**
 * The `OpusHead` packet (RFC 7845 §5.1, version 1, little-endian fields) for `head`; the mapping
 * table is written after the fixed part when present. Fields are truncated to their widths.
 */
export function writeOpusHead(head: OpusHead): Uint8Array {
  const table = head.mappingTable ?? new Uint8Array(0);
  const out = new Uint8Array(OPUS_HEAD_SIZE + table.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = OPUS_HEAD_MAGIC.charCodeAt(i);
  out[8] = OPUS_HEAD_VERSION;
  out[9] = head.channels;
  view.setUint16(10, head.preSkip & 0xffff, true);
  view.setUint32(12, head.inputSampleRate >>> 0, true);
  view.setUint16(16, head.outputGain & 0xffff, true);
  out[18] = head.mappingFamily;
  out.set(table, OPUS_HEAD_SIZE);
  return out;
}

/** RFC 6716 §3.2.5: a packet never holds more than 120 ms (5760 samples at 48 kHz). */
const OPUS_MAX_PACKET_SAMPLES = 5760;

/** 48 kHz samples per frame for each TOC config (RFC 6716 §3.1, Table 2): SILK 10/20/40/60 ms, Hybrid 10/20 ms, CELT 2.5/5/10/20 ms. */
function frameSamples(config: number): number {
  if (config < 12) return [480, 960, 1920, 2880][config & 3]!;
  if (config < 16) return [480, 960][config & 1]!;
  return [120, 240, 480, 960][config & 3]!;
}

/**
 * Duration of an Opus packet in 48 kHz samples from its TOC byte and frame count code (RFC 6716
 * §3.1; code 3 takes the count M from the next byte, §3.2.5), at most 5760 (120 ms, §3.2.5). 0 when
 * the packet cannot say: empty, or code 3 without its count byte or with M = 0. Callers that must
 * count such a packet choose their own fallback.
 */
export function opusPacketSamples(packet: Uint8Array): number {
  if (packet.byteLength === 0) return 0;
  const toc = packet[0]!;
  const code = toc & 3;
  let frames: number;
  if (code === 0) frames = 1;
  else if (code !== 3) frames = 2;
  else if (packet.byteLength >= 2) frames = packet[1]! & 0x3f;
  else return 0;
  return Math.min(frames * frameSamples(toc >> 3), OPUS_MAX_PACKET_SAMPLES);
}
