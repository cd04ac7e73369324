import { describe, expect, test } from "bun:test";
import { ParseError } from "../../../src/container/errors.ts";
import type { AudioTrackConfig, VideoTrackConfig } from "../../../src/container/remux/frame.ts";
import { fixture, fixturePath } from "../../helpers/fixtures.ts";
import { demuxer, frames, hex, trackEvents, whole } from "./helpers.ts";
import { expectedVideoSample, findBoxPayload, probePackets, remuxToMp4, withoutAdts } from "./probe.ts";

/**
 * Every frame of ffmpeg-made MPEG-TS files against ffprobe's packets of the same file: count,
 * PTS/DTS in 90 kHz ticks, key flags, and the bytes (ffprobe's Annex B access units converted to
 * length-prefixed samples by the tests' own code; AAC without its ADTS header; Opus as is). The
 * decoder configuration against ffmpeg's own MP4 remux of the file.
 */

interface Case {
  file: string;
  video: "avc" | "hevc";
  audio: "aac" | "opus";
  /** Expected audio config: AudioSpecificConfig hex, or the OpusHead. */
  audioConfig: string;
  sampleRate: number;
  channels: number;
  /** Added to ffprobe's times (the wrap fixture: ffprobe shows the pre-wrap part as negative). */
  shift?: number;
  /**
   * Ticks audio times may differ by: at 44.1 kHz a frame lasts 2089.8 ticks; frames after the first
   * in a PES get the nearest tick of their exact time here, ffprobe accumulates rounded durations.
   */
  audioTolerance?: number;
}

const OPUS_HEAD_STEREO_312 = hex(Uint8Array.of(...new TextEncoder().encode("OpusHead"), 1, 2, 0x38, 0x01, 0x80, 0xbb, 0, 0, 0, 0, 0));

const CASES: Case[] = [
  { file: "h264-aac.mpegts", video: "avc", audio: "aac", audioConfig: "1188", sampleRate: 48000, channels: 1 },
  { file: "h264-aac-bframes.mpegts", video: "avc", audio: "aac", audioConfig: "1190", sampleRate: 48000, channels: 2 },
  { file: "hevc-aac.mpegts", video: "hevc", audio: "aac", audioConfig: "1208", sampleRate: 44100, channels: 1, audioTolerance: 1 },
  { file: "h264-opus.mpegts", video: "avc", audio: "opus", audioConfig: OPUS_HEAD_STEREO_312, sampleRate: 48000, channels: 2 },
  { file: "h264-aac.m2ts", video: "avc", audio: "aac", audioConfig: "1188", sampleRate: 48000, channels: 1 },
  { file: "h264-aac-wrap.mpegts", video: "avc", audio: "aac", audioConfig: "1188", sampleRate: 48000, channels: 1, shift: 2 ** 33 },
];

describe("MPEG-TS fixtures against ffprobe", () => {
  for (const c of CASES) {
    test(`${c.file}: one tracks event, then every frame as ffprobe sees it`, () => {
      const events = whole(demuxer(), fixture(c.file));
      expect(events[0]!.type).toBe("tracks");
      expect(events[events.length - 1]!.type).toBe("end-of-stream");
      const tracks = trackEvents(events);
      expect(tracks).toHaveLength(1);
      const [video, audio] = tracks[0]! as [VideoTrackConfig, AudioTrackConfig];
      expect(video).toMatchObject({ kind: "video", codec: c.video, width: 320, height: 240, timescale: 90000 });
      expect(audio).toMatchObject({ kind: "audio", codec: c.audio, sampleRate: c.sampleRate, channels: c.channels, timescale: 90000 });
      expect(hex(audio.config)).toBe(c.audioConfig);

      const probed = probePackets(fixturePath(c.file));
      const shift = c.shift ?? 0;
      for (const kind of ["video", "audio"] as const) {
        const mine = frames(events, kind).map((f) => ({ dts: f.dts, pts: f.pts, keyframe: f.keyframe, data: hex(f.data) }));
        const theirs = probed
          .filter((p) => p.kind === kind)
          .map((p) => ({
            dts: p.dts + shift,
            pts: p.pts + shift,
            keyframe: p.keyframe,
            data: hex(kind === "video" ? expectedVideoSample(p.data, c.video) : c.audio === "aac" ? withoutAdts(p.data) : p.data),
          }));
        expect(mine.length).toBeGreaterThan(70);
        const tolerance = kind === "audio" ? (c.audioTolerance ?? 0) : 0;
        if (tolerance > 0) {
          expect(mine.length).toBe(theirs.length);
          for (let i = 0; i < mine.length; i++) {
            expect(Math.abs(mine[i]!.dts - theirs[i]!.dts)).toBeLessThanOrEqual(tolerance);
            expect(mine[i]!.pts).toBe(mine[i]!.dts);
            theirs[i]!.dts = mine[i]!.dts;
            theirs[i]!.pts = mine[i]!.pts;
          }
        }
        expect(mine).toEqual(theirs);
      }
    });
  }

  test("avcC is byte-identical to the one ffmpeg writes when it remuxes the same file to MP4", () => {
    for (const file of ["h264-aac.mpegts", "h264-aac-bframes.mpegts"]) {
      const video = trackEvents(whole(demuxer(), fixture(file)))[0]![0] as VideoTrackConfig;
      expect(hex(video.record)).toBe(hex(findBoxPayload(remuxToMp4(fixturePath(file), ["-bsf:a", "aac_adtstoasc"]), "avcC")!));
    }
  });

  test("hvcC carries ffmpeg's profile/tier/level, format fields and parameter sets", () => {
    const video = trackEvents(whole(demuxer(), fixture("hevc-aac.mpegts")))[0]![0] as VideoTrackConfig;
    const theirs = findBoxPayload(remuxToMp4(fixturePath("hevc-aac.mpegts"), ["-bsf:a", "aac_adtstoasc"]), "hvcC")!;
    expect(hex(video.record.subarray(0, 22))).toBe(hex(theirs.subarray(0, 22)));
    // Same arrays apart from array_completeness, which hvc1 wants set (ffmpeg leaves it 0).
    const mine = video.record.slice();
    const their = theirs.slice();
    for (const r of [mine, their])
      for (let p = 23, a = 0; a < r[22]!; a++) {
        r[p]! &= 0x3f;
        const n = (r[p + 1]! << 8) | r[p + 2]!;
        p += 3;
        for (let i = 0; i < n; i++) p += 2 + ((r[p]! << 8) | r[p + 1]!);
      }
    expect(hex(mine)).toBe(hex(their));
  });

  test("MPEG-2 video with MPEG-1 audio: ParseError(no-usable-track) naming both stream types", () => {
    let err: unknown;
    try {
      whole(demuxer(), fixture("mpeg2-mp2.mpegts"));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ParseError);
    expect((err as ParseError).reason).toBe("no-usable-track");
    expect((err as ParseError).message).toContain("stream type 0x02 (MPEG-2 video) cannot be played by browsers");
    expect((err as ParseError).message).toContain("stream type 0x03 (MPEG-1 audio)");
  });

  test("the decoded pictures of the first frames come out right: ffmpeg decodes our samples with our avcC", () => {
    // Rebuild a raw H.264 stream from the record's parameter sets and our samples, and let ffprobe count decodable frames.
    const events = whole(demuxer(), fixture("h264-aac-bframes.mpegts"));
    const video = trackEvents(events)[0]![0] as VideoTrackConfig;
    const parts: number[] = [];
    const startCode = [0, 0, 0, 1];
    const r = video.record;
    let p = 6;
    for (let i = 0; i < (r[5]! & 0x1f); i++, p += 2 + ((r[p]! << 8) | r[p + 1]!))
      parts.push(...startCode, ...r.subarray(p + 2, p + 2 + ((r[p]! << 8) | r[p + 1]!)));
    const pps = r[p++]!;
    for (let i = 0; i < pps; i++, p += 2 + ((r[p]! << 8) | r[p + 1]!))
      parts.push(...startCode, ...r.subarray(p + 2, p + 2 + ((r[p]! << 8) | r[p + 1]!)));
    for (const f of frames(events, "video")) {
      for (let q = 0; q < f.data.byteLength; ) {
        const n = ((f.data[q]! << 24) | (f.data[q + 1]! << 16) | (f.data[q + 2]! << 8) | f.data[q + 3]!) >>> 0;
        parts.push(...startCode, ...f.data.subarray(q + 4, q + 4 + n));
        q += 4 + n;
      }
    }
    const out = Bun.spawnSync(
      ["ffprobe", "-v", "error", "-count_frames", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", "-f", "h264", "-"],
      { stdin: Uint8Array.from(parts) },
    );
    expect(out.stderr.toString()).toBe("");
    expect(Number(out.stdout.toString().trim())).toBe(75);
  });
});
