import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Socket } from "bun";
import { mintViewerToken } from "../../src/access/secrets.ts";
import { concat } from "../helpers/feed.ts";
import { LOWLAT_MP4, runFfmpeg } from "../helpers/ffmpeg.ts";
import { fixture } from "../helpers/fixtures.ts";
import { type CheckedPlaylist, checkBlockingAnswer, checkPlaylist, checkReload, partId } from "../helpers/hls-checker.ts";
import { parseExposition } from "../helpers/prometheus.ts";
import { startTestSluice, type TestSluice } from "../helpers/sluice.ts";
import { fixtureStream } from "../hls/fixture-stream.ts";

setDefaultTimeout(90_000);

const metric = async (s: TestSluice, name: string, labels: Record<string, string> = {}) => {
  const text = await (await fetch(`http://127.0.0.1:${s.httpPort}/metrics`)).text();
  return parseExposition(text)
    .filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v))
    .reduce((n, x) => n + x.value, 0);
};

/** Sends a fixture over raw TCP ingest and keeps the connection open (a publisher that went quiet). */
async function quietPublisher(port: number, name: string): Promise<Socket<undefined>> {
  const sock = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
  sock.write(fixture(name));
  return sock;
}

/** Waits until the stream's playlist answers 200. */
async function playlistReady(base: string, query = ""): Promise<string> {
  const end = Date.now() + 15_000;
  for (;;) {
    const r = await fetch(`${base}index.m3u8${query}`);
    if (r.status === 200) return r.text();
    if (Date.now() > end) throw new Error(`playlist not ready: ${r.status} ${await r.text()}`);
    await Bun.sleep(50);
  }
}

/** Waits until the playlist stops changing (a quiet publisher's bytes are all in). */
async function stablePlaylist(base: string): Promise<string> {
  let last = await playlistReady(base);
  for (;;) {
    await Bun.sleep(300);
    const now = await playlistReady(base);
    if (now === last) return now;
    last = now;
  }
}

/** The next part after playlist `p`: what a low-latency client asks for in its blocking reload. */
const nextPart = (p: CheckedPlaylist) => {
  const last = p.segments[p.segments.length - 1]!;
  return last.duration === undefined ? { msn: last.msn, part: last.parts.length } : { msn: last.msn + 1, part: 0 };
};

function ffprobeFrames(bytes: Uint8Array): { frames: Record<string, number>; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), "sluice-hls-"));
  const path = join(dir, "joined.mp4");
  writeFileSync(path, bytes);
  const r = Bun.spawnSync([
    "ffprobe",
    "-v",
    "error",
    "-count_frames",
    "-show_entries",
    "stream=codec_type,nb_read_frames",
    "-of",
    "csv=p=0",
    path,
  ]);
  const frames: Record<string, number> = {};
  for (const line of r.stdout.toString().trim().split("\n")) {
    const [kind, n] = line.split(",");
    frames[kind!] = Number(n);
  }
  return { frames, stderr: r.stderr.toString() };
}

describe("LL-HLS from a live ffmpeg publisher", () => {
  let sluice: TestSluice;
  let base: string;
  beforeAll(async () => {
    sluice = await startTestSluice([
      "--hls-ended-seconds",
      "1",
      "--ingest",
      "0=stall",
      "--ingest",
      "0=hostile",
      "--ingest",
      "0=webm",
      "--ingest",
      "0=ts",
      "--ingest",
      "0=head",
      "--ingest",
      "0=young",
    ]);
    base = `http://127.0.0.1:${sluice.httpPort}/hls/live/`;
  });
  afterAll(async () => {
    await sluice.stop();
  });

  test("a blocking-reload client sees every part as it appears; every playlist passes the checker; init + segments are the whole stream", async () => {
    const ff = runFfmpeg(LOWLAT_MP4(4, `tcp://127.0.0.1:${sluice.ingestPort}`));
    let prev = checkPlaylist(await playlistReady(base));
    const first = await fetch(`${base}index.m3u8`);
    expect(first.headers.get("cache-control")).toBe("public, max-age=1");
    expect(first.headers.get("content-type")).toBe("application/vnd.apple.mpegurl");
    expect(first.headers.get("access-control-allow-origin")).toBe("*");
    await first.text();
    let reloads = 0;
    let held = 0;
    const parts = new Map<string, Uint8Array>();
    while (!prev.ended) {
      const want = nextPart(prev);
      // Fetch the hinted part at the same time, as an LL-HLS client does: it is held until complete.
      const hinted = prev.preloadHint ? fetch(base + prev.preloadHint) : undefined;
      const t0 = performance.now();
      const r = await fetch(`${base}index.m3u8?_HLS_msn=${want.msn}&_HLS_part=${want.part}`);
      if (performance.now() - t0 > 20) held++;
      expect(r.status).toBe(200);
      const text = await r.text();
      const p = checkPlaylist(text);
      checkBlockingAnswer(p, want.msn, want.part);
      checkReload(prev, p);
      if (!p.ended) expect(r.headers.get("cache-control")).toBe("public, max-age=30");
      const h = await hinted;
      if (h && h.status === 200) {
        expect(h.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
        parts.set(prev.preloadHint!, new Uint8Array(await h.arrayBuffer()));
      } else await h?.text();
      prev = p;
      reloads++;
    }
    expect(await ff.done, await ff.stderr()).toBe(0);
    expect(reloads).toBeGreaterThan(10);
    expect(held).toBeGreaterThan(5);
    expect(parts.size).toBeGreaterThan(5);
    // Every segment, fetched whole, equals its parts fetched while live.
    const segments = [];
    for (const s of prev.segments) {
      const bytes = new Uint8Array(await (await fetch(base + s.uri)).arrayBuffer());
      segments.push(bytes);
      const live = [...parts].filter(([uri]) => partId(uri)!.msn === s.msn);
      if (live.length === s.parts.length && s.parts.length > 0) expect(concat(s.parts.map((p) => parts.get(p.uri)!))).toEqual(bytes);
    }
    const init = new Uint8Array(await (await fetch(base + prev.segments[0]!.map)).arrayBuffer());
    const { frames, stderr } = ffprobeFrames(concat([init, ...segments]));
    expect(stderr).toBe("");
    expect(frames.video).toBe(100); // 4 s at 25 fps, from the first keyframe on
    expect(frames.audio).toBeGreaterThanOrEqual(180); // 4 s of 1024-sample AAC frames at 48 kHz is 187
    expect(await metric(sluice, "sluice_hls_blocked_requests_total", { kind: "playlist" })).toBeGreaterThan(5);
  });

  test("an ended stream's playlist stays briefly with EXT-X-ENDLIST, then it and its memory are gone", async () => {
    const end = Date.now() + 5000;
    while ((await fetch(`${base}index.m3u8`)).status === 200 && Date.now() < end) await Bun.sleep(100);
    const r = await fetch(`${base}index.m3u8`);
    expect(r.status).toBe(404);
    expect(r.headers.get("cache-control")).toBe("no-store");
    expect(await r.text()).toContain("no live stream called live");
    expect(await metric(sluice, "sluice_hls_window_bytes", { stream: "live" })).toBe(0);
    expect(sluice.logs.some((l) => / hls-epoch stream=live /.test(l))).toBe(true);
  });

  test("a blocking reload for a part that does not come is answered 503 after three target durations", async () => {
    const sock = await quietPublisher(sluice.ingestPorts.stall!, "h264-main-aac.mp4");
    const q = `http://127.0.0.1:${sluice.httpPort}/hls/stall/`;
    const p = checkPlaylist(await stablePlaylist(q));
    const want = nextPart(p);
    const t0 = Date.now();
    const [late, hinted] = await Promise.all([
      fetch(`${q}index.m3u8?_HLS_msn=${want.msn}&_HLS_part=${want.part}`),
      fetch(q + p.preloadHint),
    ]);
    const waited = Date.now() - t0;
    expect(late.status).toBe(503);
    expect(hinted.status).toBe(503);
    expect(late.headers.get("cache-control")).toBe("no-store");
    expect(await late.text()).toContain("three target durations");
    expect(waited).toBeGreaterThanOrEqual(3 * p.targetDuration * 1000 - 50);
    expect(await metric(sluice, "sluice_hls_wait_timeouts_total", { kind: "playlist" })).toBe(1);
    expect(await metric(sluice, "sluice_hls_wait_timeouts_total", { kind: "part" })).toBe(1);
    expect(await metric(sluice, "sluice_hls_waiters")).toBe(0);
    // Requests too far ahead are refused at once (RFC 8216bis 6.2.5.2).
    const far = await fetch(`${q}index.m3u8?_HLS_msn=${want.msn + 3}`);
    expect(far.status).toBe(400);
    expect(await far.text()).toContain("too far ahead");
    expect((await fetch(`${q}index.m3u8?_HLS_msn=${want.msn}&_HLS_part=${want.part + 16}`)).status).toBe(400);
    sock.end();
  });

  test("bad delivery directives, bad names and hostile query strings get 400/404, never a 500, and nothing else breaks", async () => {
    const sock = await quietPublisher(sluice.ingestPorts.hostile!, "h264-main-aac.mp4");
    const q = `http://127.0.0.1:${sluice.httpPort}/hls/hostile/`;
    await playlistReady(q);
    for (const [path, status] of [
      ["index.m3u8?_HLS_part=1", 400],
      ["index.m3u8?_HLS_msn=abc", 400],
      ["index.m3u8?_HLS_msn=1&_HLS_msn=2", 400],
      ["index.m3u8?_HLS_skip=NO", 400],
      [`index.m3u8?_HLS_msn=${"9".repeat(4000)}`, 400],
      ["index.m3u8?_HLS_msn=%ff%fe", 400],
      ["index.m3u8?_HLS_msn=1e999", 400],
      ["s-0123456789ab-0.m4s", 404],
      ["p-0123456789ab-0-0.m4s", 404],
      ["init-0123456789ab.mp4", 404],
      ["init-zzzz.mp4", 404],
      ["..%2f..%2fetc%2fpasswd", 404],
      ["s-0123456789ab-99999999999999999999.m4s", 404],
    ] as const) {
      const r = await fetch(q + path);
      expect(r.status, path).toBe(status);
      await r.text();
    }
    for (const [path, status] of [
      ["/hls/a%20b/index.m3u8", 400],
      [`/hls/${"x".repeat(65)}/index.m3u8`, 400],
      ["/hls/nobody/index.m3u8", 404],
      ["/hls/nobody/s-0123456789ab-0.m4s", 404],
    ] as const) {
      const r = await fetch(`http://127.0.0.1:${sluice.httpPort}${path}`);
      expect(r.status, path).toBe(status);
      await r.text();
    }
    const ok = await fetch(`${q}index.m3u8?foo=${"%00".repeat(1000)}&_HLS_skip=YES`);
    expect(ok.status).toBe(200);
    checkPlaylist(await ok.text());
    expect(await metric(sluice, "sluice_hls_requests_total", { status: "500" })).toBe(0);
    sock.end();
  });

  test("HEAD on the playlist, init, segments and parts answers like GET, without a body", async () => {
    const sock = await quietPublisher(sluice.ingestPorts.head!, "h264-main-aac.mp4");
    const q = `http://127.0.0.1:${sluice.httpPort}/hls/head/`;
    const p = checkPlaylist(await stablePlaylist(q));
    const seg = p.segments[0]!;
    for (const path of ["index.m3u8", seg.map, seg.uri!, p.segments[p.segments.length - 1]!.parts[0]!.uri]) {
      const get = await fetch(q + path);
      const body = new Uint8Array(await get.arrayBuffer());
      const head = await fetch(q + path, { method: "HEAD" });
      expect(head.status, path).toBe(200);
      for (const h of ["content-type", "cache-control", "access-control-allow-origin"])
        expect(head.headers.get(h), h).toBe(get.headers.get(h));
      expect(head.headers.get("content-length"), path).toBe(String(body.byteLength));
      expect((await head.arrayBuffer()).byteLength).toBe(0);
    }
    const missing = await fetch(`${q}s-0123456789ab-0.m4s`, { method: "HEAD" });
    expect(missing.status).toBe(404);
    sock.end();
  });

  test("no playlist before the first segment is complete: held, then 503 with Retry-After (targets are fixed from that segment)", async () => {
    // The init and the fragments of the first 0.5 s: the first segment has started but never completes.
    const { init, fragments } = fixtureStream("h264-main-aac.mp4");
    const sock = await Bun.connect({ hostname: "127.0.0.1", port: sluice.ingestPorts.young!, socket: { data() {} } });
    sock.write(concat([init.bytes, ...fragments.filter((f) => f.decodeTime / f.timescale < 0.5).map((f) => f.bytes)]));
    const q = `http://127.0.0.1:${sluice.httpPort}/hls/young/`;
    await Bun.sleep(500); // the publisher's bytes are in
    const t0 = Date.now();
    const r = await fetch(`${q}index.m3u8`);
    const waited = Date.now() - t0;
    expect(r.status).toBe(503);
    expect(r.headers.get("retry-after")).toBe("1");
    expect(await r.text()).toContain("no complete segment yet");
    expect(waited).toBeGreaterThanOrEqual(5_900);
    sock.end();
  });

  test("CORS: OPTIONS preflights and every answer allow any origin when no --allowed-origins is set", async () => {
    const r = await fetch(`http://127.0.0.1:${sluice.httpPort}/hls/live/index.m3u8`, {
      method: "OPTIONS",
      headers: { origin: "https://player.example", "access-control-request-method": "GET" },
    });
    expect(r.status).toBe(204);
    expect(r.headers.get("access-control-allow-origin")).toBe("*");
    expect(r.headers.get("access-control-allow-methods")).toContain("GET");
    const m = await fetch(`http://127.0.0.1:${sluice.httpPort}/hls/live/p-0123456789ab-1-2.m4s`, { method: "OPTIONS" });
    expect(m.status).toBe(204);
  });

  test("MPEG-TS publishers (remuxed to fMP4) get LL-HLS too, and ffprobe reads init + segments whole", async () => {
    const args = LOWLAT_MP4(3, `tcp://127.0.0.1:${sluice.ingestPorts.ts}`);
    const at = args.indexOf("mp4");
    args.splice(at - 1, 6, "-f", "mpegts"); // -f mp4 -movflags … -frag_duration 100000 → -f mpegts
    const ff = runFfmpeg(args);
    const q = `http://127.0.0.1:${sluice.httpPort}/hls/ts/`;
    let p = checkPlaylist(await playlistReady(q));
    while (!p.ended) {
      const want = nextPart(p);
      const r = await fetch(`${q}index.m3u8?_HLS_msn=${want.msn}&_HLS_part=${want.part}`);
      expect(r.status).toBe(200);
      const next = checkPlaylist(await r.text());
      checkReload(p, next);
      p = next;
    }
    expect(await ff.done, await ff.stderr()).toBe(0);
    // Per-frame remuxed fragments make parts of the target (the 85% rule holds).
    checkPlaylist(await (await fetch(`${q}index.m3u8`)).text(), { strictPartMinimum: true });
    const init = new Uint8Array(await (await fetch(q + p.segments[0]!.map)).arrayBuffer());
    const segs = await Promise.all(p.segments.map(async (s) => new Uint8Array(await (await fetch(q + s.uri)).arrayBuffer())));
    const { frames, stderr } = ffprobeFrames(concat([init, ...segs]));
    expect(stderr).toBe("");
    expect(frames.video).toBeGreaterThanOrEqual(70);
  });

  test("WebM streams get a 404 that says why", async () => {
    const sock = await quietPublisher(sluice.ingestPorts.webm!, "vp8-opus.webm");
    const q = `http://127.0.0.1:${sluice.httpPort}/hls/webm/`;
    const end = Date.now() + 5000;
    let r = await fetch(`${q}index.m3u8`);
    while (!(await r.clone().text()).includes("WebM") && Date.now() < end) {
      await Bun.sleep(50);
      r = await fetch(`${q}index.m3u8`);
    }
    expect(r.status).toBe(404);
    expect(await r.text()).toBe("stream webm is WebM: LL-HLS needs fMP4 media; WebM is relayed over WebSocket only (/ws/webm)\n");
    sock.end();
  });
});

describe("LL-HLS with viewer tokens", () => {
  const secret = "a-long-viewer-secret";
  let sluice: TestSluice;
  let sock: Socket<undefined>;
  beforeAll(async () => {
    sluice = await startTestSluice(["--viewer-secret", secret]);
    sock = await quietPublisher(sluice.ingestPort, "h264-main-aac.mp4");
  });
  afterAll(async () => {
    sock.end();
    await sluice.stop();
  });

  test("the playlist needs a token (401 without, 403 for a bad or foreign one) and carries it in every URI", async () => {
    const base = `http://127.0.0.1:${sluice.httpPort}/hls/live/`;
    const token = await mintViewerToken(secret, "live", Date.now() / 1000 + 600);
    const other = await mintViewerToken(secret, "other", Date.now() / 1000 + 600);
    const text = await playlistReady(base, `?token=${token}`);
    expect((await fetch(`${base}index.m3u8`)).status).toBe(401);
    expect((await fetch(`${base}index.m3u8?token=${other}`)).status).toBe(403);
    expect((await fetch(`${base}index.m3u8?token=garbage`)).status).toBe(403);
    const p = checkPlaylist(text);
    const uris = [
      p.segments[0]!.map,
      p.preloadHint!,
      ...p.segments.flatMap((s) => [...(s.uri ? [s.uri] : []), ...s.parts.map((x) => x.uri)]),
    ];
    expect(uris.length).toBeGreaterThan(10);
    for (const u of uris) {
      expect(u.endsWith(`?token=${token}`)).toBe(true);
      if (u === p.preloadHint) continue; // the quiet publisher never completes it
      const ok = await fetch(base + u);
      expect(ok.status).toBe(200);
      await ok.arrayBuffer();
    }
    const bare = await fetch(base + p.segments[0]!.uri!.split("?")[0]);
    expect(bare.status).toBe(401);
    expect(await bare.text()).toContain("viewer token");
  });
});

test("with --hls off every LL-HLS request is a 404 that says so", async () => {
  const off = await startTestSluice(["--hls", "off"]);
  try {
    const r = await fetch(`http://127.0.0.1:${off.httpPort}/hls/live/index.m3u8`);
    expect(r.status).toBe(404);
    expect(await r.text()).toBe("LL-HLS is off on this server (--hls off)\n");
  } finally {
    await off.stop();
  }
});
