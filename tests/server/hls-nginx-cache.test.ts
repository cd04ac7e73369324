import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { LOWLAT_MP4, runFfmpeg } from "../helpers/ffmpeg.ts";
import { type CheckedPlaylist, checkBlockingAnswer, checkPlaylist, checkReload } from "../helpers/hls-checker.ts";
import { parseExposition } from "../helpers/prometheus.ts";
import { startTestSluice, type TestSluice } from "../helpers/sluice.ts";

setDefaultTimeout(90_000);

/**
 * scripts/proxy/nginx-hls-cache.conf with Debian's nginx in front of a real Sluice fed by real ffmpeg:
 * fifty low-latency players do blocking reloads and fetch every new part through the edge, and the
 * origin sees a small fraction of their requests (counted from Sluice's own metrics), the rest
 * answered from nginx's cache (X-Cache-Status).
 */
let sluice: TestSluice;
let nginx: Subprocess;
let edge: number;

async function freePort(): Promise<number> {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

beforeAll(async () => {
  if (!Bun.which("nginx")) throw new Error('nginx is not installed: run scripts/setup.sh (or "apt-get install -y nginx")');
  sluice = await startTestSluice();
  edge = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "sluice-nginx-hls-"));
  // nginx's workers (not root) keep the cache under it.
  chmodSync(dir, 0o755);
  const site = readFileSync(join(import.meta.dir, "../../scripts/proxy/nginx-hls-cache.conf"), "utf8")
    .replace("server 127.0.0.1:8080;", `server 127.0.0.1:${sluice.httpPort};`)
    .replace("listen 80;", `listen 127.0.0.1:${edge};`)
    .replace("/var/cache/nginx/sluice-hls", join(dir, "cache"));
  writeFileSync(join(dir, "site.conf"), site);
  const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `${t}_temp_path ${dir}/${t};`).join(" ");
  writeFileSync(
    join(dir, "nginx.conf"),
    `daemon off;\nworker_processes 1;\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log warn;\nevents { worker_connections 1024; }\nhttp { access_log off; ${temp} include ${dir}/site.conf; }\n`,
  );
  nginx = Bun.spawn(["nginx", "-p", dir, "-c", join(dir, "nginx.conf")], { stdout: "ignore", stderr: "pipe" });
  const end = Date.now() + 15_000;
  while (
    (await fetch(`http://127.0.0.1:${edge}/healthz`).then(
      (r) => r.status,
      () => 0,
    )) !== 200
  ) {
    if (Date.now() > end || nginx.exitCode !== null)
      throw new Error(`nginx did not start: ${await new Response(nginx.stderr as ReadableStream).text()}`);
    await Bun.sleep(50);
  }
});

afterAll(async () => {
  nginx?.kill();
  await nginx?.exited;
  await sluice?.stop();
});

const originRequests = async (kind: string) => {
  const text = await (await fetch(`http://127.0.0.1:${sluice.httpPort}/metrics`)).text();
  return parseExposition(text)
    .filter((s) => s.name === "sluice_hls_requests_total" && s.labels.kind === kind)
    .reduce((n, s) => n + s.value, 0);
};

const nextPart = (p: CheckedPlaylist) => {
  const last = p.segments[p.segments.length - 1]!;
  return last.duration === undefined ? { msn: last.msn, part: last.parts.length } : { msn: last.msn + 1, part: 0 };
};

test("fifty blocking-reload players through nginx: every answer checks out, the origin sees few requests, the rest are cache hits", async () => {
  const ff = runFfmpeg(LOWLAT_MP4(8, `tcp://127.0.0.1:${sluice.ingestPort}`));
  const base = `http://127.0.0.1:${edge}/hls/live/`;
  // Wait (through the edge: 404s are not cached) until the stream has a playlist.
  const end = Date.now() + 15_000;
  while ((await fetch(`${base}index.m3u8`).then((r) => r.status)) !== 200) {
    if (Date.now() > end) throw new Error("no playlist through nginx");
    await Bun.sleep(100);
  }
  const before = { playlist: await originRequests("playlist"), part: await originRequests("part") };
  const status = new Map<string, number>();
  const count = (kind: string, r: Response) => {
    const key = `${kind} ${r.status} ${r.headers.get("x-cache-status")}`;
    status.set(key, (status.get(key) ?? 0) + 1);
  };
  const stopAt = Date.now() + 4000;
  const player = async () => {
    let p = checkPlaylist(await (await fetch(`${base}index.m3u8`)).text());
    const fetched = new Set<string>();
    let reloads = 0;
    while (!p.ended && Date.now() < stopAt) {
      const want = nextPart(p);
      const r = await fetch(`${base}index.m3u8?_HLS_msn=${want.msn}&_HLS_part=${want.part}`);
      count("playlist", r);
      expect(r.status).toBe(200);
      const next = checkPlaylist(await r.text());
      checkBlockingAnswer(next, want.msn, want.part);
      checkReload(p, next);
      // Like a low-latency player: fetch the parts of the newest segment it has not fetched yet.
      const last = next.segments[next.segments.length - 1]!;
      for (const part of last.parts) {
        if (fetched.has(part.uri)) continue;
        fetched.add(part.uri);
        const m = await fetch(base + part.uri);
        count("part", m);
        expect(m.status).toBe(200);
        await m.arrayBuffer();
      }
      p = next;
      reloads++;
    }
    return reloads;
  };
  const reloads = await Promise.all(Array.from({ length: 50 }, player));
  const after = { playlist: await originRequests("playlist"), part: await originRequests("part") };
  ff.stop();
  await ff.done;

  const total = (kind: string, cache?: string) =>
    [...status]
      .filter(([k]) => k.startsWith(`${kind} `) && (cache === undefined || k.endsWith(` ${cache}`)))
      .reduce((n, [, v]) => n + v, 0);
  const clientPlaylists = total("playlist");
  const clientParts = total("part");
  const origin = { playlist: after.playlist - before.playlist, part: after.part - before.part };
  console.log(
    `50 players, ${clientPlaylists} blocking reloads and ${clientParts} part requests at the edge; ` +
      `origin saw ${origin.playlist} playlist and ${origin.part} part requests; edge statuses: ${JSON.stringify(Object.fromEntries(status))}`,
  );
  expect(Math.min(...reloads)).toBeGreaterThan(5);
  expect(total("playlist", "HIT")).toBeGreaterThan(clientPlaylists / 2);
  expect(total("part", "HIT")).toBeGreaterThan(clientParts / 2);
  expect(origin.playlist).toBeLessThan(clientPlaylists / 10);
  expect(origin.part).toBeLessThan(clientParts / 10);
});
