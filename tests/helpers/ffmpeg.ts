import type { Subprocess } from "bun";

/**
 * Runs real ffmpeg. `args` is everything between `ffmpeg` and nothing: the output URL included.
 * Resolves with the exit code; stderr is kept for error messages.
 */
export interface FfmpegRun {
  proc: Subprocess<"ignore", "ignore", "pipe">;
  done: Promise<number>;
  stderr(): Promise<string>;
  stop(): void;
}

export function runFfmpeg(args: string[]): FfmpegRun {
  const proc = Bun.spawn(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", ...args], {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  let err: Promise<string> | undefined;
  return {
    proc,
    done: proc.exited,
    stderr: () => (err ??= new Response(proc.stderr).text()),
    stop: () => proc.kill("SIGINT"),
  };
}

/** lavfi test sources standing in for the classic commands' camera (`-f v4l2 ... -i /dev/video0`). */
const CAMERA_640x480 = (seconds: number) => ["-re", "-f", "lavfi", "-i", `testsrc2=size=640x480:rate=25:duration=${seconds}`];

/** The classic WebM command, camera swapped for a test source. */
export const CLASSIC_WEBM = (seconds: number, url: string) => [
  ...CAMERA_640x480(seconds),
  ...[
    "-vcodec",
    "libvpx",
    "-b:v",
    "3500k",
    "-r",
    "25",
    "-crf",
    "10",
    "-quality",
    "realtime",
    "-speed",
    "16",
    "-threads",
    "8",
    "-an",
    "-g",
    "25",
    "-f",
    "webm",
    url,
  ],
];

/** The classic fMP4 command, camera swapped for a test source. */
export const CLASSIC_MP4 = (seconds: number, url: string) => [
  ...CAMERA_640x480(seconds),
  ...[
    "-vcodec",
    "libx264",
    "-profile:v",
    "main",
    "-g",
    "25",
    "-r",
    "25",
    "-b:v",
    "500k",
    "-keyint_min",
    "250",
    "-strict",
    "experimental",
    "-pix_fmt",
    "yuv420p",
    "-movflags",
    "empty_moov+default_base_moof",
    "-an",
    "-preset",
    "ultrafast",
    "-f",
    "mp4",
    url,
  ],
];

/** The README's low-latency H.264 + AAC command. */
export const LOWLAT_MP4 = (seconds: number, url: string, extra: string[] = []) => [
  "-re",
  "-f",
  "lavfi",
  "-i",
  `testsrc2=size=320x240:rate=25:duration=${seconds}`,
  "-re",
  "-f",
  "lavfi",
  "-i",
  `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
  ...[
    "-c:v",
    "libx264",
    "-preset",
    "veryfast",
    "-tune",
    "zerolatency",
    "-g",
    "25",
    "-keyint_min",
    "25",
    "-sc_threshold",
    "0",
    "-pix_fmt",
    "yuv420p",
  ],
  ...[
    "-b:v",
    "400k",
    "-c:a",
    "aac",
    "-b:a",
    "64k",
    "-f",
    "mp4",
    "-movflags",
    "empty_moov+default_base_moof+frag_keyframe+skip_trailer",
    "-frag_duration",
    "100000",
  ],
  ...extra,
  url,
];
