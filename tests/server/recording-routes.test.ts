import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mintViewerToken } from "../../src/access/secrets.ts";
import { LOWLAT_MP4, runFfmpeg } from "../helpers/ffmpeg.ts";
import { startTestSluice, type TestSluice } from "../helpers/sluice.ts";
import { probeRecording, until } from "../record/probe.ts";

setDefaultTimeout(90_000);

const SECRET = "recording-secret-1";
let dir: string;
let sluice: TestSluice;
let token: string;
let base: string;
let files: Array<{
  file: string;
  url: string;
  bytes: number;
  start: string;
  end: string;
  duration: number;
  mime: string;
  segments: number;
}>;
let published: { from: number; to: number };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sluice-rec-http-"));
  sluice = await startTestSluice(["--record", dir, "--record-rotate-minutes", "0.05", "--viewer-secret", SECRET]);
  base = `http://127.0.0.1:${sluice.httpPort}`;
  token = await mintViewerToken(SECRET, "live", Math.floor(Date.now() / 1000) + 600);
  const from = Date.now();
  const ff = runFfmpeg(LOWLAT_MP4(7, `tcp://127.0.0.1:${sluice.ingestPort}`));
  if ((await ff.done) !== 0) throw new Error(await ff.stderr());
  published = { from, to: Date.now() };
  await sluice.waitLog(/publisher-disconnected stream=live/, 5000);
  await until(
    async () => {
      files = ((await (await fetch(`${base}/api/recordings/live?token=${token}`)).json()) as { recordings: typeof files }).recordings;
      return files.every((f) => !(f as unknown as { recording: boolean }).recording);
    },
    5000,
    "every file closed",
  );
});
afterAll(async () => {
  await sluice.stop();
  rmSync(dir, { recursive: true, force: true });
});

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers });

describe("GET /api/recordings/:stream", () => {
  test("lists every file with ISO start/end, duration, bytes, mime and a URL carrying the token", () => {
    expect(files.length).toBeGreaterThanOrEqual(2);
    let total = 0;
    for (const f of files) {
      expect(f.start).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(Date.parse(f.end) - Date.parse(f.start)).toBeCloseTo(f.duration * 1000, -1);
      expect(Date.parse(f.start)).toBeGreaterThanOrEqual(published.from - 1000);
      expect(Date.parse(f.end)).toBeLessThanOrEqual(published.to + 1000);
      expect(f.mime).toMatch(/^video\/mp4; codecs="avc1\.[0-9A-F]{6},mp4a\.40\.2"$/);
      expect(f.url).toBe(`/recordings/live/${f.file}?token=${encodeURIComponent(token)}`);
      total += f.duration;
    }
    expect(Math.abs(total - 7)).toBeLessThan(0.2);
  });

  test("needs the viewer token like the WebSocket (401 without, 403 forged or for another stream)", async () => {
    expect((await get("/api/recordings/live")).status).toBe(401);
    expect(
      (await get(`/api/recordings/live?token=${await mintViewerToken("another-secret", "live", Date.now() / 1000 + 60)}`)).status,
    ).toBe(403);
    expect((await get(`/api/recordings/other?token=${token}`)).status).toBe(403);
    expect((await get(`/recordings/live/${files[0]!.file}`)).status).toBe(401);
    expect((await get("/hls/live/vod.m3u8")).status).toBe(401);
  });

  test("an invalid stream name is a 400; a stream never recorded lists nothing", async () => {
    expect((await get(`/api/recordings/bad.name?token=${token}`)).status).toBe(400);
    const other = await mintViewerToken(SECRET, "__proto__", Date.now() / 1000 + 60);
    const r = await get(`/api/recordings/__proto__?token=${other}`);
    expect(r.status).toBe(200);
    expect(((await r.json()) as { recordings: unknown[] }).recordings).toEqual([]);
  });
});

describe("GET /recordings/:stream/:file", () => {
  const url = () => files[0]!.url;
  const whole = async () => new Uint8Array(await (await get(url())).arrayBuffer());

  test("the whole file: 200, Accept-Ranges, ETag, the exact bytes on disk, readable by ffprobe", async () => {
    const r = await get(url());
    expect(r.status).toBe(200);
    expect(r.headers.get("accept-ranges")).toBe("bytes");
    expect(r.headers.get("content-type")).toBe("video/mp4");
    expect(r.headers.get("etag")).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    const body = new Uint8Array(await r.arrayBuffer());
    expect(body.byteLength).toBe(files[0]!.bytes);
    const copy = join(dir, "copy.mp4");
    writeFileSync(copy, body);
    expect(probeRecording(copy).errors).toBe("");
  });

  test("single ranges answer 206 with Content-Range: a-b, a-, and the suffix -n", async () => {
    const all = await whole();
    const size = all.byteLength;
    for (const [range, start, end] of [
      ["bytes=0-99", 0, 99],
      ["bytes=100-", 100, size - 1],
      ["bytes=-100", size - 100, size - 1],
      ["bytes=10-99999999", 10, size - 1],
      [`bytes=-${size + 5}`, 0, size - 1],
    ] as const) {
      const r = await get(url(), { range });
      expect(r.status).toBe(206);
      expect(r.headers.get("content-range")).toBe(`bytes ${start}-${end}/${size}`);
      const body = new Uint8Array(await r.arrayBuffer());
      expect(body.byteLength).toBe(end - start + 1);
      expect(body).toEqual(all.subarray(start, end + 1));
    }
  });

  test("unsatisfiable ranges are 416 with bytes */size; several ranges or a malformed header get the whole file (200)", async () => {
    const size = files[0]!.bytes;
    for (const range of [`bytes=${size}-`, "bytes=-0"]) {
      const r = await get(url(), { range });
      expect(r.status).toBe(416);
      expect(r.headers.get("content-range")).toBe(`bytes */${size}`);
    }
    for (const range of ["bytes=0-1,5-9", "bytes=abc", "items=0-5", "bytes=9-2"]) {
      const r = await get(url(), { range });
      expect(r.status).toBe(200);
      expect(Number(r.headers.get("content-length"))).toBe(size);
      await r.arrayBuffer();
    }
  });

  test("If-Range with the current ETag keeps the range, a stale one gets the whole file; If-None-Match gets 304", async () => {
    const etag = (await get(url(), { range: "bytes=0-0" })).headers.get("etag")!;
    expect((await get(url(), { range: "bytes=0-9", "if-range": etag })).status).toBe(206);
    expect((await get(url(), { range: "bytes=0-9", "if-range": '"stale-1"' })).status).toBe(200);
    expect((await get(url(), { "if-none-match": etag })).status).toBe(304);
  });

  test("names are checked strictly: traversal, other files in the folder, sidecars and look-alikes are 404", async () => {
    const t = `?token=${token}`;
    const sidecar = files[0]!.file.replace(".mp4", ".idx");
    for (const path of [
      `/recordings/live/..%2f..%2f..%2fetc%2fpasswd${t}`,
      `/recordings/live/%2e%2e${t}`,
      `/recordings/live/${sidecar}${t}`,
      `/recordings/live/${files[0]!.file.toUpperCase()}${t}`,
      `/recordings/live/${files[0]!.file}%00${t}`,
      `/recordings/live/20261302T000000000Z-00000000.mp4${t}`,
    ]) {
      const r = await get(path);
      expect([r.status, path]).toEqual([404, path]);
    }
    const raw = await fetch(`${base}/recordings/live/../../../etc/passwd${t}`);
    expect(raw.status).toBe(404);
  });
});

/** The playlist's lines, and its segments with the file, byte range and duration. */
function parsePlaylist(text: string) {
  const lines = text.trimEnd().split("\n");
  const segments: Array<{ uri: string; offset: number; length: number; duration: number; file: number }> = [];
  let file = -1;
  let duration = 0;
  let range: [number, number] | undefined;
  for (const l of lines) {
    if (l.startsWith("#EXT-X-MAP:")) file++;
    else if (l.startsWith("#EXTINF:")) duration = Number(/^#EXTINF:([\d.]+),$/.exec(l)![1]);
    else if (l.startsWith("#EXT-X-BYTERANGE:")) {
      const m = /^#EXT-X-BYTERANGE:(\d+)@(\d+)$/.exec(l)!;
      range = [Number(m[1]), Number(m[2])];
    } else if (!l.startsWith("#")) {
      segments.push({ uri: l, length: range![0], offset: range![1], duration, file });
      range = undefined;
    }
  }
  return { lines, segments };
}

describe("GET /hls/:stream/vod.m3u8", () => {
  test("a VOD media playlist: tags in order, one MAP and PROGRAM-DATE-TIME per file, DISCONTINUITY between, contiguous byte ranges, ENDLIST", async () => {
    const r = await get(`/hls/live/vod.m3u8?token=${token}`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/vnd.apple.mpegurl");
    const { lines, segments } = parsePlaylist(await r.text());
    expect(lines.slice(0, 6)).toEqual([
      "#EXTM3U",
      "#EXT-X-VERSION:7",
      expect.stringMatching(/^#EXT-X-TARGETDURATION:\d+$/),
      "#EXT-X-MEDIA-SEQUENCE:0",
      "#EXT-X-PLAYLIST-TYPE:VOD",
      "#EXT-X-INDEPENDENT-SEGMENTS",
    ]);
    expect(lines.at(-1)).toBe("#EXT-X-ENDLIST");
    const target = Number(lines[2]!.split(":")[1]);
    expect(lines.filter((l) => l === "#EXT-X-DISCONTINUITY")).toHaveLength(files.length - 1);
    const maps = lines.filter((l) => l.startsWith("#EXT-X-MAP:"));
    expect(maps).toHaveLength(files.length);
    // Per file: [DISCONTINUITY] MAP PROGRAM-DATE-TIME, then EXTINF BYTERANGE URI triples.
    for (const [i, f] of files.entries()) {
      const at = lines.indexOf(maps[i]!);
      expect(maps[i]).toMatch(new RegExp(`^#EXT-X-MAP:URI="/recordings/live/${f.file}\\?token=[^"]+",BYTERANGE="\\d+@0"$`));
      if (i > 0) expect(lines[at - 1]).toBe("#EXT-X-DISCONTINUITY");
      expect(lines[at + 1]).toBe(`#EXT-X-PROGRAM-DATE-TIME:${f.start}`);
      const own = segments.filter((s) => s.file === i);
      expect(own).toHaveLength(f.segments);
      const initBytes = Number(/BYTERANGE="(\d+)@0"/.exec(maps[i]!)![1]);
      expect(own[0]!.offset).toBe(initBytes);
      for (let k = 1; k < own.length; k++) expect(own[k]!.offset).toBe(own[k - 1]!.offset + own[k - 1]!.length);
      expect(own.at(-1)!.offset + own.at(-1)!.length).toBe(f.bytes);
      expect(own.every((s) => s.uri === `/recordings/live/${f.file}?token=${encodeURIComponent(token)}`)).toBe(true);
    }
    for (const s of segments) expect(Math.round(s.duration)).toBeLessThanOrEqual(target);
    const total = segments.reduce((n, s) => n + s.duration, 0);
    expect(Math.abs(total - 7)).toBeLessThan(0.2);
  });

  test("listed byte ranges (first, middle, last), appended to their file's init, start with a keyframe and decode without an error", async () => {
    const text = await (await get(`/hls/live/vod.m3u8?token=${token}`)).text();
    const inits = [...text.matchAll(/BYTERANGE="(\d+)@0"/g)].map((m) => Number(m[1]));
    const { segments } = parsePlaylist(text);
    for (const s of [segments[0]!, segments[Math.floor(segments.length / 2)]!, segments.at(-1)!]) {
      const bytes = async (start: number, length: number) =>
        new Uint8Array(await (await get(s.uri, { range: `bytes=${start}-${start + length - 1}` })).arrayBuffer());
      const path = join(dir, `seg-${s.file}-${s.offset}.mp4`);
      writeFileSync(path, new Uint8Array([...(await bytes(0, inits[s.file]!)), ...(await bytes(s.offset, s.length))]));
      const p = probeRecording(path);
      expect([p.errors, p.startsWithKeyframe]).toEqual(["", true]);
      expect(Math.abs(p.videoSeconds - s.duration)).toBeLessThan(0.1);
    }
  });

  test("from/to (ISO 8601 or epoch ms) select the overlapping segments", async () => {
    const first = Date.parse(files[0]!.start);
    const mid = first + 2500;
    const r = await get(`/hls/live/vod.m3u8?token=${token}&from=${new Date(mid).toISOString()}&to=${mid + 1500}`);
    expect(r.status).toBe(200);
    const { lines, segments } = parsePlaylist(await r.text());
    expect(segments.length).toBeGreaterThanOrEqual(2);
    expect(segments.length).toBeLessThanOrEqual(3);
    const pdt = Date.parse(lines.find((l) => l.startsWith("#EXT-X-PROGRAM-DATE-TIME:"))!.slice(25));
    expect(pdt).toBeLessThanOrEqual(mid);
    expect(pdt).toBeGreaterThan(mid - 1100);
  });

  test("bad ranges are a 400 saying what to fix; an empty range is a 404", async () => {
    const bad = async (q: string, re: RegExp) => {
      const r = await get(`/hls/live/vod.m3u8?token=${token}&${q}`);
      expect([r.status, q]).toEqual([400, q]);
      expect(await r.text()).toMatch(re);
    };
    await bad("from=yesterday", /from must be an ISO 8601 time with a zone .* or epoch milliseconds/);
    await bad("to=2026-13-01T00:00:00Z", /to must be .*not a valid time/);
    await bad("from=2026-12-02T10:00:00", /from must be an ISO 8601 time with a zone/);
    await bad(`from=${"9".repeat(100)}`, /100 characters/);
    await bad(`from=${Date.now()}&to=${Date.now() - 1000}`, /is after to/);
    const r = await get(`/hls/live/vod.m3u8?token=${token}&from=0&to=1000`);
    expect(r.status).toBe(404);
    expect(await r.text()).toMatch(/no recorded fMP4 segments of live between 1970-01-01T00:00:00.000Z and 1970-01-01T00:00:01.000Z/);
  });
});
