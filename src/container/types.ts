/**
 * Events and options shared by every container parser. Pure types: no runtime imports.
 */

/** The container of the bytes Sluice relays: an init segment and fragments of fMP4 or of WebM. */
export type ContainerFormat = "fmp4" | "webm";

/**
 * What a publisher speaks. fMP4 and WebM are relayed as they are cut; MPEG-TS and RTMP are demuxed
 * into frames and remuxed into fMP4 (`remux/`), so their init and fragments are fMP4.
 */
export type IngestFormat = ContainerFormat | "mpegts" | "rtmp";

/** Whether `v` (untrusted, e.g. from the wire) names an ingest format. */
export function isIngestFormat(v: unknown): v is IngestFormat {
  return v === "fmp4" || v === "webm" || v === "mpegts" || v === "rtmp";
}

/** One elementary track described by the init segment. */
export interface TrackInfo {
  /** Track id (fMP4 track_ID / WebM TrackNumber). */
  id: number;
  kind: "video" | "audio" | "other";
  /** RFC 6381 codec string for this track, e.g. `avc1.64001E`, `opus`; "" when it cannot be built. */
  codec: string;
  /** Sample-entry fourcc (fMP4) or CodecID (WebM), e.g. `avc1`, `V_VP8`. */
  codecId: string;
  /** Media timescale in ticks per second. */
  timescale: number;
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
}

/** The init segment: every byte a decoder needs before the first fragment. */
export interface InitEvent {
  type: "init";
  /** What the publisher speaks; the bytes are `relayedContainer(format)`. */
  format: IngestFormat;
  bytes: Uint8Array;
  /** Full MSE type, e.g. `video/mp4; codecs="avc1.64001E,mp4a.40.2"`. */
  mime: string;
  tracks: TrackInfo[];
}

/** One independently appendable media segment (fMP4 [styp/sidx/prft/emsg]+moof+mdat, or one WebM Cluster). */
export interface FragmentEvent {
  type: "fragment";
  bytes: Uint8Array;
  /** True iff the fragment's first video sample is a sync sample (audio-only streams: always true). */
  keyframe: boolean;
  /**
   * Some video sample of the fragment is a sync sample, so decoding can (re)start inside it (a decoder
   * drops what precedes it). Implied by `keyframe`; always true for audio-only streams.
   */
  syncPoint: boolean;
  /** Decode time of the fragment's first sample (video track when present) in `timescale` ticks. */
  decodeTime: number;
  timescale: number;
  /** Earliest decode time over all of the fragment's tracks, in seconds of the stream's timeline; NaN if unknown. */
  start: number;
  /** Duration in `timescale` ticks when the container states it, else undefined. */
  duration?: number;
  /** fMP4 only: mfhd sequence_number. */
  sequence?: number;
  /** fMP4 with a `prft` box: NTP wallclock (ms since Unix epoch) of `prftMediaTime`. */
  prftWallclockMs?: number;
  /** fMP4 with a `prft` box: the media time (ticks of `timescale`) that `prftWallclockMs` refers to. */
  prftMediaTime?: number;
}

export type ParserEvent = InitEvent | FragmentEvent;

/** A push parser: feed it bytes as they arrive, get events the moment they are complete. */
export interface ContainerParser {
  readonly format: IngestFormat;
  /** Consume a chunk; returns every event completed by it. Throws `ParseError` on bad input. */
  push(chunk: Uint8Array): ParserEvent[];
  /** The publisher is gone: returns remaining events or throws `ParseError("truncated")` if bytes are left. */
  end(): ParserEvent[];
  /** Bytes held that are not yet part of an emitted event. */
  readonly buffered: number;
}

export interface ParserOptions {
  /** Largest accepted box / element (bytes), and the cap of what a demuxer or remuxer holds. Anything larger is a `too-large` error. */
  maxElementBytes: number;
  /** Fragment length for remuxed sources (MPEG-TS, RTMP): one per video frame, or about this many ms. */
  remuxFragment?: "frame" | { ms: number };
}

export const DEFAULT_PARSER_OPTIONS: ParserOptions = { maxElementBytes: 32 * 1024 * 1024, remuxFragment: "frame" };
