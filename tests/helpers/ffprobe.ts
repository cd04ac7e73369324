/**
 * ffprobe as an independent oracle: which packets are keyframes and at which byte offset of the file
 * they sit. A fragment [start, end) of the file "starts with a video keyframe" iff the first video
 * packet whose `pos` lies inside it carries the K flag.
 */
export interface ProbedPacket {
  stream: number;
  kind: string;
  pos: number;
  keyframe: boolean;
}

export function probePackets(path: string): ProbedPacket[] {
  const streams = run(["-show_entries", "stream=index,codec_type", "-of", "csv=p=0", path])
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split(","));
  const kinds = new Map(streams.map(([i, k]) => [Number(i), k!]));
  return run(["-show_entries", "packet=stream_index,pos,flags", "-of", "csv=p=0", path])
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const [s, pos, flags] = l.split(",");
      return { stream: Number(s), kind: kinds.get(Number(s)) ?? "?", pos: Number(pos), keyframe: flags!.startsWith("K") };
    });
}

/** For each byte range, whether its first video packet is a keyframe (undefined: no video packet in it). */
export function firstVideoKeyframes(packets: ProbedPacket[], ranges: Array<[number, number]>): Array<boolean | undefined> {
  const video = packets.filter((p) => p.kind === "video" && p.pos >= 0).sort((a, b) => a.pos - b.pos);
  return ranges.map(([start, end]) => video.find((p) => p.pos >= start && p.pos < end)?.keyframe);
}

function run(args: string[]): string {
  const r = Bun.spawnSync(["ffprobe", "-v", "error", ...args]);
  if (r.exitCode !== 0) throw new Error(`ffprobe ${args.join(" ")} failed: ${r.stderr.toString()}`);
  return r.stdout.toString();
}
