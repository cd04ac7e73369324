import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { concat } from "./feed.ts";
import { probePackets } from "./ffprobe.ts";

/** Top-level ISO BMFF boxes of a complete file (test-side walker, independent of the parser). */
export function topLevelBoxes(bytes: Uint8Array): Array<{ type: string; start: number; size: number }> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Array<{ type: string; start: number; size: number }> = [];
  for (let pos = 0; pos + 8 <= bytes.byteLength; ) {
    let size = view.getUint32(pos);
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    if (size === 1) size = Number(view.getBigUint64(pos + 8));
    if (size < 8) throw new Error(`bad box size ${size} at ${pos}`);
    out.push({ type, start: pos, size });
    pos += size;
  }
  return out;
}

/** The bytes a viewer should receive for an fMP4 publisher's bytes: everything but `mfra`. */
export function withoutMfra(bytes: Uint8Array): Uint8Array {
  return concat(
    topLevelBoxes(bytes)
      .filter((b) => b.type !== "mfra")
      .map((b) => bytes.subarray(b.start, b.start + b.size)),
  );
}

/** ffprobe's verdict on whether `fragment`'s first video packet is a keyframe, decoding init + fragment. */
export function firstVideoPacketIsKey(init: Uint8Array, fragment: Uint8Array, ext: "mp4" | "webm"): boolean | undefined {
  const dir = mkdtempSync(join(tmpdir(), "sluice-probe-"));
  const path = join(dir, `f.${ext}`);
  writeFileSync(path, concat([init, fragment]));
  return probePackets(path).find((p) => p.kind === "video")?.keyframe;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
