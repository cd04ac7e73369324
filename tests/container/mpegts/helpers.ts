import { createTsDemuxer, type TsDemuxer } from "../../../src/container/mpegts/demuxer.ts";
import type { CodedFrame, DemuxEvent, TrackConfig } from "../../../src/container/remux/frame.ts";
import { concat, prng } from "../../helpers/feed.ts";

/** Test-side MPEG-TS knowledge, written apart from the demuxer's code. */

function fnv1a(b: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.byteLength; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return (h >>> 0).toString(16);
}

export const MiB = 1024 * 1024;
const PACKET = 188;

export function demuxer(maxBufferedBytes = 8 * MiB, maxPesBytes?: number): TsDemuxer {
  return createTsDemuxer({ maxBufferedBytes, maxPesBytes });
}

/** Feeds `bytes` cut at `sizes` (copies, like a socket), then end(); arrivalMs is the chunk's index. */
export function feed(d: TsDemuxer, bytes: Uint8Array, sizes: Iterable<number>): DemuxEvent[] {
  const events: DemuxEvent[] = [];
  let pos = 0;
  let i = 0;
  for (const n of sizes) {
    if (pos >= bytes.byteLength) break;
    events.push(...d.push(bytes.slice(pos, Math.min(bytes.byteLength, pos + n)), i++));
    pos += n;
  }
  if (pos < bytes.byteLength) events.push(...d.push(bytes.slice(pos), i++));
  events.push(...d.end());
  return events;
}

export const whole = (d: TsDemuxer, b: Uint8Array) => feed(d, b, [b.byteLength]);
export const byteByByte = (d: TsDemuxer, b: Uint8Array) =>
  feed(
    d,
    b,
    (function* () {
      for (;;) yield 1;
    })(),
  );
export function randomSplits(d: TsDemuxer, b: Uint8Array, seed: number, max = 700): DemuxEvent[] {
  const rnd = prng(seed);
  return feed(
    d,
    b,
    (function* () {
      for (;;) yield 1 + Math.floor(rnd() * max);
    })(),
  );
}

export function frames(events: DemuxEvent[], kind?: "video" | "audio"): CodedFrame[] {
  const out: CodedFrame[] = [];
  for (const e of events) if (e.type === "frame" && (!kind || e.frame.kind === kind)) out.push(e.frame);
  return out;
}

export function trackEvents(events: DemuxEvent[]): TrackConfig[][] {
  const out: TrackConfig[][] = [];
  for (const e of events) if (e.type === "tracks") out.push(e.tracks);
  return out;
}

/** Events in a comparable form without arrival times (they depend on the chunking). */
export function summarize(events: DemuxEvent[]): unknown[] {
  return events.map((e) => {
    if (e.type === "frame") {
      const f = e.frame;
      return `${f.kind} ${f.dts} ${f.pts} ${f.keyframe ? "K" : "-"} ${f.data.byteLength}:${fnv1a(f.data)}`;
    }
    if (e.type === "tracks") {
      return e.tracks.map((t) => ({ ...t, ...(t.kind === "video" ? { record: hex(t.record) } : { config: hex(t.config) }) }));
    }
    return e.type;
  });
}

export function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

/** The 188-byte packets of a plain TS file. */
export function packets(ts: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o + PACKET <= ts.byteLength; o += PACKET) out.push(ts.subarray(o, o + PACKET));
  return out;
}

export const pidOf = (p: Uint8Array) => ((p[1]! & 0x1f) << 8) | p[2]!;
export const pusiOf = (p: Uint8Array) => (p[1]! & 0x40) !== 0;

/** CRC_32/MPEG-2, bit by bit (no table), for building sections. */
function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b << 24;
    for (let k = 0; k < 8; k++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
  }
  return crc >>> 0;
}

/** A PSI section with its CRC appended; `body` is everything after section_length up to the CRC. */
function section(tableId: number, body: number[]): Uint8Array {
  const len = body.length + 4;
  const head = [tableId, 0xb0 | (len >> 8), len & 0xff, ...body];
  const crc = crc32(Uint8Array.from(head));
  return Uint8Array.from([...head, crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff]);
}

/** A PMT section for program 1 with the given (stream_type, pid, descriptors) entries. */
export function pmtSection(version: number, pcrPid: number, streams: Array<[number, number, number[]?]>): Uint8Array {
  const body = [0x00, 0x01, 0xc1 | (version << 1), 0, 0, 0xe0 | (pcrPid >> 8), pcrPid & 0xff, 0xf0, 0x00];
  for (const [type, pid, desc = []] of streams)
    body.push(type, 0xe0 | (pid >> 8), pid & 0xff, 0xf0 | (desc.length >> 8), desc.length & 0xff, ...desc);
  return section(0x02, body);
}

/** A PAT section pointing program 1 at `pmtPid`. */
export function patSection(pmtPid: number, version = 0): Uint8Array {
  return section(0x00, [0x00, 0x01, 0xc1 | (version << 1), 0, 0, 0x00, 0x01, 0xe0 | (pmtPid >> 8), pmtPid & 0xff]);
}

/**
 * Transport packets carrying `payload` on `pid` (first one with PUSI), continuity counters from
 * `cc`, the last packet padded with an adaptation field. `psi`: prefix a pointer_field.
 */
export function packetize(pid: number, payload: Uint8Array, cc: { n: number }, psi = false, discontinuity = false): Uint8Array[] {
  const data = psi ? concat([Uint8Array.of(0), payload]) : payload;
  const out: Uint8Array[] = [];
  for (let o = 0, first = true; o < data.byteLength || first; first = false) {
    let take = Math.min(184, data.byteLength - o);
    let af = 184 - take; // adaptation field bytes, its length byte included
    if (first && discontinuity && af < 2) {
      af = 2;
      take = 182;
    }
    const p = new Uint8Array(PACKET);
    p[0] = 0x47;
    p[1] = (first ? 0x40 : 0) | (pid >> 8);
    p[2] = pid & 0xff;
    p[3] = (af > 0 ? 0x30 : 0x10) | (cc.n++ & 0x0f);
    if (af > 0) {
      p[4] = af - 1;
      if (af > 1) {
        p[5] = first && discontinuity ? 0x80 : 0x00;
        p.fill(0xff, 6, 4 + af);
      }
    }
    p.set(data.subarray(o, o + take), 4 + af);
    out.push(p);
    o += take;
  }
  return out;
}

/** A PES packet: stream_id, PTS (and DTS), payload; `length0` writes PES_packet_length 0 (unbounded). */
export function pes(streamId: number, payload: Uint8Array, pts?: number, dts?: number, length0 = false): Uint8Array {
  const ts = (prefix: number, v: number) => [
    (prefix << 4) | ((Math.floor(v / 2 ** 30) & 7) << 1) | 1,
    Math.floor(v / 2 ** 22) & 0xff,
    ((Math.floor(v / 2 ** 15) & 0x7f) << 1) | 1,
    Math.floor(v / 2 ** 7) & 0xff,
    ((v & 0x7f) << 1) | 1,
  ];
  const opt: number[] = [];
  let flags = 0;
  if (pts !== undefined) {
    flags = dts !== undefined ? 0xc0 : 0x80;
    opt.push(...ts(dts !== undefined ? 3 : 2, pts));
    if (dts !== undefined) opt.push(...ts(1, dts));
  }
  const len = length0 ? 0 : 3 + opt.length + payload.byteLength;
  return concat([Uint8Array.from([0, 0, 1, streamId, len >> 8, len & 0xff, 0x80, flags, opt.length, ...opt]), payload]);
}

/** Identity of a frame for subset checks: kind, times and a hash of the bytes. */
export function frameKey(f: CodedFrame): string {
  return `${f.kind} ${f.dts} ${f.pts} ${f.keyframe ? "K" : "-"} ${f.data.byteLength}:${fnv1a(f.data)}`;
}

/** `second`'s packets with their continuity counters renumbered to continue `first`'s, per PID. */
export function continueCounters(first: Uint8Array, second: Uint8Array): Uint8Array {
  const last = new Map<number, number>();
  for (const p of packets(first)) if (p[3]! & 0x10) last.set(pidOf(p), p[3]! & 0x0f);
  const out = second.slice();
  for (const p of packets(out)) {
    if (!(p[3]! & 0x10)) continue;
    const pid = pidOf(p);
    const cc = ((last.get(pid) ?? -1) + 1) & 0x0f;
    last.set(pid, cc);
    p[3] = (p[3]! & 0xf0) | cc;
  }
  return out;
}

/** Sets discontinuity_indicator on the first packet of each of `pids` (each must carry an adaptation field with flags). */
export function flagDiscontinuity(ts: Uint8Array, pids: number[]): Uint8Array {
  const out = ts.slice();
  const todo = new Set(pids);
  for (const p of packets(out)) {
    const pid = pidOf(p);
    if (!todo.has(pid)) continue;
    if (!(p[3]! & 0x20) || p[4] === 0) throw new Error(`first packet of PID ${pid} has no adaptation field flags`);
    p[5]! |= 0x80;
    todo.delete(pid);
  }
  return out;
}

/** Every frame's dts increases strictly within its kind. */
export function monotonic(events: DemuxEvent[]): boolean {
  const last = new Map<string, number>();
  for (const f of frames(events)) {
    if (f.dts <= (last.get(f.kind) ?? -Infinity)) return false;
    last.set(f.kind, f.dts);
  }
  return true;
}

/** The ParseError reason a call throws ("no error" if none, the message for other errors). */
export function reasonOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as { reason?: string }).reason ?? String(e);
  }
  return "no error";
}
