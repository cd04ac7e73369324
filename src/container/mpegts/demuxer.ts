import { ParseError } from "../errors.ts";
import type { CodedFrame, DemuxEvent } from "../remux/frame.ts";
import { TS_PACKET_SIZE, type TsFlavour } from "./detect.ts";
import { FrameGate } from "./frame-gate.ts";
import { NULL_PID, newPacketHeader, PAT_PID, readPacketHeader } from "./packet.ts";
import { PacketSplitter } from "./packet-splitter.ts";
import { PesAssembler, type PesDrop, type PesPacket } from "./pes.ts";
import { createTracks, type Selection, selectStreams } from "./program.ts";
import { parsePat, parsePmt } from "./psi.ts";
import { SectionAssembler, type SectionResult } from "./sections.ts";
import { ProgramClock } from "./timeline.ts";
import { type ElementaryTrack, newCounters, type TsCounters } from "./track.ts";

/** Limits of one demuxer (one publisher). */
export interface TsDemuxerOptions {
  /**
   * Budget for everything held: the unparsed tail, PES packets being collected and frames held
   * until the codec configurations are known. A PES that does not fit is dropped (`oversizedPes`),
   * held frames beyond a quarter of it are dropped oldest first (`droppedFrames`).
   */
  maxBufferedBytes: number;
  /** Largest PES packet collected (default: half of `maxBufferedBytes`); larger ones are dropped (`oversizedPes`). */
  maxPesBytes?: number;
}

/** A push demuxer for one MPEG-TS stream (see `createTsDemuxer`). */
export interface TsDemuxer {
  /**
   * Consumes a chunk that arrived at `arrivalMs` (wallclock ms); returns every event it completed.
   * Throws `ParseError`: `unknown-format` (not MPEG-TS), `malformed` (sync lost for 256 KiB),
   * `no-usable-track` (the program has no stream browsers can play; the message names the types).
   */
  push(chunk: Uint8Array, arrivalMs: number): DemuxEvent[];
  /**
   * End of input: completes a last unbounded PES, releases held frames behind a `tracks` event and
   * ends with `end-of-stream`. Throws `ParseError("truncated")` when bytes arrived but no track could
   * ever be announced (no PMT, or no codec configuration).
   */
  end(): DemuxEvent[];
  /** Bytes held that are not yet part of an emitted event. */
  readonly buffered: number;
  readonly counters: Readonly<TsCounters>;
  /** Streams of the program not passed on, and why (for logs). */
  readonly skippedStreams: readonly string[];
  /** "ts" (188-byte packets) or "m2ts" (192), once detected. */
  readonly flavour: TsFlavour | undefined;
}

/** A followed elementary PID. */
interface EsState {
  track: ElementaryTrack;
  pes: PesAssembler;
}

/** Held frames may use this fraction of the budget, so a PES always finds room. */
const HELD_SHARE = 0.25;

/**
 * A push demuxer for MPEG-TS (ISO/IEC 13818-1) carrying H.264 / H.265 video and AAC (ADTS) / Opus
 * audio, turning it into `CodedFrame`s for the fMP4 writer. Follows the first program of the PAT,
 * its first playable video and audio stream; other PIDs are ignored. All times are 90 kHz ticks
 * (`timescale` 90000 for video and audio alike: PES timestamps are kept exact and no rounding to
 * the audio sample rate happens), continuing the stream's own clock, unwrapped past 2^33 and kept
 * increasing across discontinuities (see timeline.ts). Memory is bounded by `maxBufferedBytes`;
 * work is O(bytes) under any chunking.
 *
 * A PMT that repeats the selected streams (even with a new version_number) changes nothing; one that
 * selects other PIDs or codecs replaces the tracks, and a new `tracks` event follows once their
 * configurations are known.
 */
export function createTsDemuxer(options: TsDemuxerOptions): TsDemuxer {
  const maxBuffered = options.maxBufferedBytes;
  const maxPes = options.maxPesBytes ?? Math.floor(maxBuffered / 2);
  const counters = newCounters();
  const splitter = new PacketSplitter();
  const header = newPacketHeader();
  const lastCc = new Int8Array(8192).fill(-1);
  const clock = new ProgramClock();
  let pesHeld = 0;
  let events: DemuxEvent[] = [];
  let received = 0;
  let lastArrivalMs = 0;
  const frames: CodedFrame[] = [];
  const gate = new FrameGate(
    () => Math.max(0, Math.floor(maxBuffered * HELD_SHARE)),
    (n) => (counters.droppedFrames += n),
  );

  const patSections = new SectionAssembler();
  let program: { number: number; pmtPid: number } | undefined;
  let pmtSections: SectionAssembler | undefined;
  let selection: Selection | undefined;
  let pcrPid = -1;
  const es = new Map<number, EsState>();

  const buffered = () => splitter.buffered + pesHeld + gate.heldBytes;

  function onSection(r: SectionResult, table: "pat" | "pmt"): void {
    if (!r.ok) {
      counters.sectionErrors++;
      return;
    }
    try {
      if (table === "pat") onPat(r.section);
      else onPmt(r.section);
    } catch (e) {
      if (!(e instanceof ParseError) || e.reason !== "malformed") throw e;
      counters.sectionErrors++;
    }
  }

  function onPat(section: Uint8Array): void {
    const pat = parsePat(section);
    const first = pat?.programs[0];
    if (!first || (program && program.number === first.programNumber && program.pmtPid === first.pmtPid)) return;
    program = { number: first.programNumber, pmtPid: first.pmtPid };
    pmtSections = new SectionAssembler();
  }

  function onPmt(section: Uint8Array): void {
    const pmt = parsePmt(section);
    if (!pmt || !program || pmt.programNumber !== program.number) return;
    pcrPid = pmt.pcrPid;
    const next = selectStreams(pmt);
    if (selection && selection.key === next.key) {
      selection = { ...next };
      return;
    }
    if (selection) counters.programChanges++;
    selection = next;
    for (const s of es.values()) {
      pesHeld -= s.pes.buffered;
      clock.retire(s.track.timeline);
    }
    const tracks = createTracks(next, clock, counters);
    for (const track of tracks) {
      if (!es.has(track.pid) && track.pid !== pcrPid) lastCc[track.pid] = -1; // not followed until now: its counter is unknown
    }
    es.clear();
    for (const track of tracks) es.set(track.pid, { track, pes: new PesAssembler(maxPes, sinkFor(track)) });
    gate.setTracks(tracks);
  }

  function sinkFor(track: ElementaryTrack) {
    return {
      pes(p: PesPacket) {
        track.onPes(p, frames);
        for (const f of frames) gate.offer(f, events);
        frames.length = 0;
      },
      dropped(why: PesDrop) {
        if (why === "oversized") counters.oversizedPes++;
        else counters.damagedPes++;
        track.onDamage();
      },
      held(delta: number) {
        pesHeld += delta;
      },
    };
  }

  /** A packet of `pid` was lost or unusable: whatever was being collected there is damaged. */
  function lose(pid: number): void {
    const s = es.get(pid);
    if (s) {
      if (!s.pes.abandon()) s.track.onDamage();
    } else if (pid === PAT_PID) patSections.reset();
    else if (program && pid === program.pmtPid) pmtSections?.reset();
  }

  function onPacket(p: Uint8Array, arrivalMs: number): void {
    const h = header;
    if (!readPacketHeader(p, 0, h)) {
      counters.badPackets++;
      return;
    }
    const pid = h.pid;
    if (pid === NULL_PID) return;
    const isPmt = program !== undefined && pid === program.pmtPid;
    const s = es.get(pid);
    if (!s && !isPmt && pid !== PAT_PID && pid !== pcrPid) return;
    if (h.error || h.scrambled) {
      counters.badPackets++;
      lose(pid);
      return;
    }
    // continuity_counter (§2.4.3.3): +1 per packet with payload; one repeat allowed; free after a discontinuity_indicator.
    if (h.hasPayload) {
      const last = lastCc[pid]!;
      if (last >= 0 && !h.discontinuity) {
        if (h.continuityCounter === last) {
          counters.duplicatePackets++;
          return;
        }
        if (h.continuityCounter !== ((last + 1) & 0x0f)) {
          counters.continuityErrors++;
          lose(pid);
        }
      }
      lastCc[pid] = h.continuityCounter;
    }
    if (h.discontinuity && (pid === pcrPid || s)) {
      counters.discontinuityIndicators++;
      // On the PCR PID it announces a new system time base for every stream of the program (§2.4.3.5).
      if (pid === pcrPid) for (const e of es.values()) e.pes.pendingBreak = true;
      else s!.pes.pendingBreak = true;
    }
    if (!h.hasPayload || h.payloadStart >= TS_PACKET_SIZE) return;
    const payload = p.subarray(h.payloadStart, TS_PACKET_SIZE);
    if (s) s.pes.push(payload, h.pusi, arrivalMs, maxBuffered - buffered());
    else if (pid === PAT_PID) patSections.push(payload, h.pusi, (r) => onSection(r, "pat"));
    else if (isPmt) pmtSections!.push(payload, h.pusi, (r) => onSection(r, "pmt"));
  }

  let seenSyncLosses = 0;
  let seenSkipped = 0;
  let lastPid = -1;

  function drain(arrivalMs: number): void {
    for (let p = splitter.next(); p; p = splitter.next()) {
      if (splitter.syncLosses !== seenSyncLosses) {
        // Sync came back after less than a packet: the packet before was most likely cut short and filled
        // up with the start of the next one, so whatever it went into is damaged (a PES already handed
        // over cannot be taken back). A longer run is taken as garbage between intact packets.
        if (splitter.skippedBytes - seenSkipped < splitter.packetSize && lastPid >= 0) lose(lastPid);
        seenSyncLosses = splitter.syncLosses;
        seenSkipped = splitter.skippedBytes;
      }
      onPacket(p, arrivalMs);
      lastPid = header.pid;
    }
  }

  /** Copies the counters kept by the parts into `counters`. */
  function syncCounters(extraSkipped = 0): void {
    counters.syncLosses = splitter.syncLosses;
    counters.skippedBytes = splitter.skippedBytes + extraSkipped;
    counters.timelineBreaks = clock.breaks;
    counters.clampedTimestamps = clock.clamped;
  }

  function collect(): DemuxEvent[] {
    const out = events;
    events = [];
    return out;
  }

  return {
    push(chunk, arrivalMs) {
      received += chunk.byteLength;
      lastArrivalMs = arrivalMs;
      splitter.push(chunk);
      try {
        drain(arrivalMs);
      } finally {
        syncCounters();
      }
      return collect();
    },
    end() {
      try {
        splitter.finish();
        drain(lastArrivalMs);
        for (const s of es.values()) s.pes.flush();
      } finally {
        // A partial packet left at the end is skipped too.
        syncCounters(splitter.buffered);
      }
      gate.finish(events);
      if (!gate.everAnnounced && received > 0) {
        throw new ParseError(
          "truncated",
          program ? "the stream ended before its codec configurations were known" : "the stream ended before a program map table",
        );
      }
      events.push({ type: "end-of-stream" });
      return collect();
    },
    get buffered() {
      return buffered();
    },
    counters,
    get skippedStreams() {
      return selection?.skipped ?? [];
    },
    get flavour() {
      return splitter.detected;
    },
  };
}
