import {
  CMFC,
  DINF,
  DREF,
  FTYP,
  HDLR,
  ISO5,
  ISO6,
  MDHD,
  MDIA,
  MINF,
  MOOV,
  MP41,
  MVEX,
  MVHD,
  SMHD,
  SOUN,
  STBL,
  STCO,
  STSC,
  STSD,
  STSZ,
  STTS,
  TKHD,
  TRAK,
  TREX,
  URL_,
  VIDE,
  VMHD,
} from "../fmp4/box-types.ts";
import { BoxWriter } from "./box-writer.ts";
import type { TrackConfig } from "./frame.ts";
import { writeAudioEntry, writeVideoEntry } from "./sample-entry.ts";

/** One track of an init segment: its track_ID and media timescale. */
export interface InitTrack {
  id: number;
  config: TrackConfig;
  /** mdhd timescale: ticks per second of every tfdt/trun time of this track. */
  timescale: number;
}

/** Movie timescale (mvhd): nothing is timed in it, the movie has no duration. */
const MOVIE_TIMESCALE = 1000;
/** Unity transformation matrix (§8.2.2.3): 16.16 ones on the diagonal, 2.30 w. */
const UNITY_MATRIX = [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000];
/** ISO 639-2/T "und" packed as three 5-bit letters minus 0x60 (§8.4.2.3). */
const LANGUAGE_UND = (("u".charCodeAt(0) - 0x60) << 10) | (("n".charCodeAt(0) - 0x60) << 5) | ("d".charCodeAt(0) - 0x60);
/** tkhd flags track_enabled | track_in_movie (§8.3.2.1). */
const TKHD_ENABLED_IN_MOVIE = 0x000003;
/** url flag: the media data is in the same file (§8.7.2.1). */
const URL_SELF_CONTAINED = 0x000001;
/** vmhd flags are 1 (§12.1.2.2). */
const VMHD_FLAGS = 0x000001;

/**
 * Writes an init segment for a fragmented movie (ISO/IEC 14496-12 §8.8): `ftyp` (major iso5;
 * compatible iso5, iso6, mp41, and cmfc when there is a single track: CMAF, ISO/IEC 23000-19 §7.3,
 * puts one track per fragment) and `moov` with `mvhd`, a `trak` per track whose sample table is
 * empty but for its one sample entry, and `mvex` with a `trex` per track (no defaults: every fragment
 * states durations, sizes and flags). Tracks are written in the given order; ids must be distinct.
 */
export function writeInitSegment(tracks: InitTrack[]): Uint8Array {
  const w = new BoxWriter(1024);
  const ftyp = w.begin(FTYP);
  w.u32(ISO5); // major_brand
  w.u32(0); // minor_version
  w.u32(ISO5);
  w.u32(ISO6);
  w.u32(MP41);
  if (tracks.length === 1) w.u32(CMFC);
  w.end(ftyp);

  const moov = w.begin(MOOV);
  writeMvhd(w, Math.max(0, ...tracks.map((t) => t.id)) + 1);
  for (const track of tracks) writeTrak(w, track);
  const mvex = w.begin(MVEX);
  for (const track of tracks) {
    const trex = w.beginFull(TREX, 0, 0);
    w.u32(track.id);
    w.u32(1); // default_sample_description_index
    w.u32(0); // default_sample_duration
    w.u32(0); // default_sample_size
    w.u32(0); // default_sample_flags
    w.end(trex);
  }
  w.end(mvex);
  w.end(moov);
  return w.finish();
}

function writeMatrix(w: BoxWriter): void {
  for (const v of UNITY_MATRIX) w.u32(v);
}

/** mvhd version 0 (§8.2.2): no times, no duration, rate 1.0, volume 1.0. */
function writeMvhd(w: BoxWriter, nextTrackId: number): void {
  const box = w.beginFull(MVHD, 0, 0);
  w.u32(0); // creation_time
  w.u32(0); // modification_time
  w.u32(MOVIE_TIMESCALE);
  w.u32(0); // duration
  w.u32(0x0001_0000); // rate
  w.u16(0x0100); // volume
  w.zeros(10); // reserved
  writeMatrix(w);
  w.zeros(24); // pre_defined[6]
  w.u32(nextTrackId);
  w.end(box);
}

function writeTrak(w: BoxWriter, track: InitTrack): void {
  const { config } = track;
  const video = config.kind === "video";
  const trak = w.begin(TRAK);

  // tkhd version 0 (§8.3.2): width/height 16.16 for video, volume 1.0 for audio.
  const tkhd = w.beginFull(TKHD, 0, TKHD_ENABLED_IN_MOVIE);
  w.u32(0); // creation_time
  w.u32(0); // modification_time
  w.u32(track.id);
  w.u32(0); // reserved
  w.u32(0); // duration
  w.zeros(8); // reserved[2]
  w.u16(0); // layer
  w.u16(0); // alternate_group
  w.u16(video ? 0 : 0x0100);
  w.u16(0); // reserved
  writeMatrix(w);
  w.u32(video ? config.width * 0x1_0000 : 0);
  w.u32(video ? config.height * 0x1_0000 : 0);
  w.end(tkhd);

  const mdia = w.begin(MDIA);
  const mdhd = w.beginFull(MDHD, 0, 0);
  w.u32(0); // creation_time
  w.u32(0); // modification_time
  w.u32(track.timescale);
  w.u32(0); // duration
  w.u16(LANGUAGE_UND);
  w.u16(0); // pre_defined
  w.end(mdhd);

  const hdlr = w.beginFull(HDLR, 0, 0);
  w.u32(0); // pre_defined
  w.u32(video ? VIDE : SOUN);
  w.zeros(12); // reserved[3]
  w.data(video ? VIDEO_HANDLER_NAME : SOUND_HANDLER_NAME);
  w.end(hdlr);

  const minf = w.begin(MINF);
  if (video) {
    const vmhd = w.beginFull(VMHD, 0, VMHD_FLAGS);
    w.zeros(8); // graphicsmode, opcolor[3]
    w.end(vmhd);
  } else {
    const smhd = w.beginFull(SMHD, 0, 0);
    w.zeros(4); // balance, reserved
    w.end(smhd);
  }
  const dinf = w.begin(DINF);
  const dref = w.beginFull(DREF, 0, 0);
  w.u32(1); // entry_count
  w.end(w.beginFull(URL_, 0, URL_SELF_CONTAINED));
  w.end(dref);
  w.end(dinf);

  const stbl = w.begin(STBL);
  const stsd = w.beginFull(STSD, 0, 0);
  w.u32(1); // entry_count
  if (config.kind === "video") writeVideoEntry(w, config);
  else writeAudioEntry(w, config);
  w.end(stsd);
  // Empty sample tables (§8.8.1: the samples are all in movie fragments).
  for (const type of [STTS, STSC, STSZ, STCO]) {
    const box = w.beginFull(type, 0, 0);
    if (type === STSZ) w.u32(0); // sample_size, before sample_count
    w.u32(0); // entry_count / sample_count
    w.end(box);
  }
  w.end(stbl);
  w.end(minf);
  w.end(mdia);
  w.end(trak);
}

const VIDEO_HANDLER_NAME = new TextEncoder().encode("VideoHandler\0");
const SOUND_HANDLER_NAME = new TextEncoder().encode("SoundHandler\0");
