import { concat } from "../../helpers/feed.ts";

/** ffprobe as the oracle: every packet of a file with its timestamps, key flag and bytes. */
export interface ProbedPacket {
  kind: "video" | "audio";
  pts: number;
  dts: number;
  keyframe: boolean;
  data: Uint8Array;
}

export function probePackets(path: string): ProbedPacket[] {
  const r = Bun.spawnSync(["ffprobe", "-v", "error", "-show_packets", "-show_data", "-of", "json", path], { maxBuffer: 64 * 1024 * 1024 });
  if (r.exitCode !== 0) throw new Error(`ffprobe failed: ${r.stderr.toString()}`);
  const json = JSON.parse(r.stdout.toString()) as {
    packets: Array<{ codec_type: string; pts: number; dts: number; flags: string; data: string }>;
  };
  return json.packets.map((p) => ({
    kind: p.codec_type as "video" | "audio",
    pts: p.pts,
    dts: p.dts,
    keyframe: p.flags.startsWith("K"),
    data: fromHexDump(p.data),
  }));
}

/** ffprobe's `-show_data` dump: lines of "offset: 8 groups of 4 hex digits  ascii". */
function fromHexDump(dump: string): Uint8Array {
  const out: number[] = [];
  for (const line of dump.split("\n")) {
    const colon = line.indexOf(": ");
    if (colon < 0) continue;
    const hex = line.slice(colon + 2, colon + 2 + 40).replace(/ /g, "");
    for (let i = 0; i + 2 <= hex.length; i += 2) out.push(parseInt(hex.slice(i, i + 2), 16));
  }
  return Uint8Array.from(out);
}

/**
 * What the MP4 sample of an Annex B access unit must be, computed independently of the demuxer:
 * split at 00 00 01, trailing zero bytes dropped, AUD / filler / parameter sets left out, each unit
 * behind a 4-byte big-endian length.
 */
export function expectedVideoSample(annexB: Uint8Array, codec: "avc" | "hevc"): Uint8Array {
  const starts: number[] = [];
  for (let i = 0; i + 3 <= annexB.byteLength; i++) {
    if (annexB[i] === 0 && annexB[i + 1] === 0 && annexB[i + 2] === 1) {
      starts.push(i + 3);
      i += 2;
    }
  }
  const drop = codec === "avc" ? [7, 8, 9, 12] : [32, 33, 34, 35, 38];
  const units: Uint8Array[] = [];
  for (let k = 0; k < starts.length; k++) {
    let end = k + 1 < starts.length ? starts[k + 1]! - 3 : annexB.byteLength;
    while (end > starts[k]! && annexB[end - 1] === 0) end--;
    const nal = annexB.subarray(starts[k]!, end);
    const type = codec === "avc" ? nal[0]! & 0x1f : (nal[0]! >> 1) & 0x3f;
    if (nal.byteLength === 0 || drop.includes(type)) continue;
    const len = Uint8Array.of(nal.byteLength >>> 24, (nal.byteLength >> 16) & 0xff, (nal.byteLength >> 8) & 0xff, nal.byteLength & 0xff);
    units.push(len, nal);
  }
  return concat(units);
}

/** An AAC packet as ffprobe gives it for ADTS input (with its ADTS header) without that header. */
export function withoutAdts(data: Uint8Array): Uint8Array {
  if (data[0] === 0xff && (data[1]! & 0xf0) === 0xf0) return data.subarray(data[1]! & 1 ? 7 : 9);
  return data;
}

/** A box's payload found by its fourcc in an MP4 file (first occurrence; enough for avcC/hvcC/esds of one track). */
export function findBoxPayload(mp4: Uint8Array, type: string): Uint8Array | undefined {
  const t = [...type].map((c) => c.charCodeAt(0));
  for (let i = 4; i + 4 <= mp4.byteLength; i++) {
    if (mp4[i] === t[0] && mp4[i + 1] === t[1] && mp4[i + 2] === t[2] && mp4[i + 3] === t[3]) {
      const size = ((mp4[i - 4]! << 24) | (mp4[i - 3]! << 16) | (mp4[i - 2]! << 8) | mp4[i - 1]!) >>> 0;
      return mp4.subarray(i + 4, i - 4 + size);
    }
  }
  return undefined;
}

/** `ffmpeg -c copy` of a file into MP4 (in memory): ffmpeg's own decoder configuration records for the same streams (AAC needs `-bsf:a aac_adtstoasc` in `extra`). */
export function remuxToMp4(path: string, extra: string[] = []): Uint8Array {
  const r = Bun.spawnSync(
    [
      "ffmpeg",
      "-hide_banner",
      "-loglevel",
      "error",
      "-i",
      path,
      "-c",
      "copy",
      ...extra,
      "-f",
      "mp4",
      "-movflags",
      "empty_moov+default_base_moof+frag_keyframe",
      "pipe:1",
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  if (r.exitCode !== 0) throw new Error(`ffmpeg failed: ${r.stderr.toString()}`);
  return new Uint8Array(r.stdout);
}
