/**
 * Recordings for the player's VOD tests (tests/browser/player-vod.test.ts, native-hls-fallback.test.ts),
 * made with real ffmpeg at test time: `-f hls -hls_segment_type fmp4 -hls_flags single_file
 * -hls_playlist_type vod` writes one fMP4 file per recording and a VOD playlist of EXT-X-BYTERANGE
 * segments with an EXT-X-MAP byte range. Served with the bundled player by a small Bun.serve with
 * `Range` support (206 / 416) that can demand a viewer token on every media request and records
 * the requests it saw.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Server } from "bun";
import { bundlePlayer } from "../../src/server/player-bundle.ts";
import { runFfmpeg } from "../helpers/ffmpeg.ts";

/** Encodes `seconds` of testsrc2 + sine (H.264 + AAC, a keyframe every second) into `<dir>/<name>.m3u8` + `<name>.mp4`. */
export async function recordVod(dir: string, name: string, o: { seconds: number; size: string; segment?: number }): Promise<string> {
  const run = runFfmpeg([
    ...["-f", "lavfi", "-i", `testsrc2=size=${o.size}:rate=25:duration=${o.seconds}`],
    ...["-f", "lavfi", "-i", `sine=frequency=440:sample_rate=48000:duration=${o.seconds}`],
    ...["-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-keyint_min", "25", "-sc_threshold", "0", "-pix_fmt", "yuv420p"],
    ...["-c:a", "aac", "-b:a", "64k", "-f", "hls", "-hls_time", String(o.segment ?? 2), "-hls_segment_type", "fmp4"],
    ...["-hls_flags", "single_file", "-hls_playlist_type", "vod", "-hls_segment_filename", join(dir, `${name}.mp4`)],
    join(dir, `${name}.m3u8`),
  ]);
  const code = await run.done;
  if (code !== 0) throw new Error(`ffmpeg failed (${code}): ${await run.stderr()}`);
  return Bun.file(join(dir, `${name}.m3u8`)).text();
}

export interface VodServer {
  readonly port: number;
  readonly dir: string;
  /** Media requests seen: path and Range header ("" when none). */
  readonly requests: Array<{ path: string; range: string; status: number }>;
  /** Writes a file into the served folder. */
  write(name: string, text: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Serves `/` (a page with `<sluice-player>` whose attributes come from the page's query: `src`,
 * `controls`), `/sluice-player.js` (the real bundle) and the files of a fresh temp folder under
 * `/vod/`, with Range support. With `token`, every `/vod/` request must carry `?token=<token>` (401 otherwise).
 */
export async function startVodServer(token?: string): Promise<VodServer> {
  const dir = mkdtempSync(join(tmpdir(), "sluice-vod-"));
  const bundle = await bundlePlayer(resolve(import.meta.dir, "../../static"));
  const requests: VodServer["requests"] = [];
  const page = `<!doctype html><meta charset="utf-8"><script type="module" src="/sluice-player.js"></script>
<sluice-player style="width:640px"></sluice-player>
<script>const q = new URLSearchParams(location.search); const p = document.querySelector("sluice-player");
for (const [k, v] of q) p.setAttribute(k, v);</script>`;
  const server: Server<undefined> = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const url = new URL(req.url);
      if (url.pathname === "/") return new Response(page, { headers: { "content-type": "text/html; charset=utf-8" } });
      if (url.pathname === "/sluice-player.js")
        return new Response(bundle.js.bodies.identity as Uint8Array<ArrayBuffer>, { headers: { "content-type": "text/javascript" } });
      if (url.pathname === "/sluice-player.js.map") return new Response(bundle.map.bodies.identity as Uint8Array<ArrayBuffer>);
      const m = /^\/vod\/([\w-]+\.(?:m3u8|mp4))$/.exec(url.pathname);
      const range = req.headers.get("range") ?? "";
      const answer = (status: number, body: BodyInit | null, headers: Record<string, string> = {}) => {
        requests.push({ path: url.pathname, range, status });
        return new Response(body, { status, headers: { "accept-ranges": "bytes", ...headers } });
      };
      if (!m) return answer(404, "not found");
      if (token !== undefined && url.searchParams.get("token") !== token) return answer(401, "this recording needs ?token=");
      const file = Bun.file(join(dir, m[1]!));
      if (!(await file.exists())) return answer(404, "not found");
      const type = m[1]!.endsWith(".m3u8") ? "application/vnd.apple.mpegurl" : "video/mp4";
      const size = file.size;
      if (!range) return answer(200, file, { "content-type": type });
      const r = /^bytes=(\d+)-(\d*)$/.exec(range);
      const start = r ? Number(r[1]) : Number.NaN;
      const end = r?.[2] ? Math.min(Number(r[2]), size - 1) : size - 1;
      if (!(start <= end)) return answer(416, null, { "content-range": `bytes */${size}` });
      return answer(206, file.slice(start, end + 1), { "content-type": type, "content-range": `bytes ${start}-${end}/${size}` });
    },
  });
  return {
    port: server.port!,
    dir,
    requests,
    write: async (name, text) => void (await Bun.write(join(dir, name), text)),
    async stop() {
      await server.stop(true);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
