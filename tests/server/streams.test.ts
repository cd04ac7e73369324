import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { concat } from "../helpers/feed.ts";
import { runFfmpeg } from "../helpers/ffmpeg.ts";
import { parseExposition, value } from "../helpers/prometheus.ts";
import { startTestSluice, type TestSluice } from "../helpers/sluice.ts";
import { connectViewer, sessions, type TestViewer, texts } from "../helpers/ws-viewer.ts";

setDefaultTimeout(60_000);

const CAM2_KEY = "cam2-secret-key";
const GLOBAL_KEY = "global-secret-key";
let sluice: TestSluice;
let base: string;
beforeAll(async () => {
  sluice = await startTestSluice(["--stream-key", `cam2=${CAM2_KEY}`, "--publish-key", GLOBAL_KEY]);
  base = `http://127.0.0.1:${sluice.httpPort}`;
});
afterAll(async () => {
  await sluice.stop();
});

const src = (seconds: number) => ["-re", "-f", "lavfi", "-i", `testsrc2=size=320x240:rate=25:duration=${seconds}`];
const WEBM = [
  "-c:v",
  "libvpx",
  "-b:v",
  "300k",
  "-deadline",
  "realtime",
  "-cpu-used",
  "8",
  "-g",
  "25",
  "-f",
  "webm",
  "-live",
  "1",
  "-cluster_time_limit",
  "100",
];
const MP4 = [
  "-c:v",
  "libx264",
  "-preset",
  "veryfast",
  "-tune",
  "zerolatency",
  "-g",
  "25",
  "-pix_fmt",
  "yuv420p",
  "-f",
  "mp4",
  "-movflags",
  "empty_moov+default_base_moof+frag_keyframe+skip_trailer",
  "-frag_duration",
  "200000",
];

async function metrics() {
  const r = await fetch(`${base}/metrics`);
  expect(r.headers.get("content-type")).toContain("text/plain; version=0.0.4");
  return parseExposition(await r.text());
}

describe("two streams at once, one over TCP and one over HTTP PUT", () => {
  let live: TestViewer;
  let cam2: TestViewer;
  let tcp: ReturnType<typeof runFfmpeg>;
  let http: ReturnType<typeof runFfmpeg>;
  const before: { cam2In?: number } = {};

  beforeAll(async () => {
    live = await connectViewer(`ws://127.0.0.1:${sluice.httpPort}/ws/live`);
    cam2 = await connectViewer(`ws://127.0.0.1:${sluice.httpPort}/ws/cam2`);
    tcp = runFfmpeg([...src(6), ...WEBM, `tcp://127.0.0.1:${sluice.ingestPort}`]);
    http = runFfmpeg([...src(6), ...MP4, "-method", "PUT", "-headers", `Authorization: Bearer ${CAM2_KEY}\r\n`, `${base}/ingest/cam2`]);
    await live.until((m) => (sessions(m)[0]?.fragments.length ?? 0) > 5, 15_000, "live fragments");
    await cam2.until((m) => (sessions(m)[0]?.fragments.length ?? 0) > 3, 15_000, "cam2 fragments");
    before.cam2In = value(await metrics(), "sluice_stream_received_bytes_total", { stream: "cam2" });
  });

  test("a missing key gets 401, a wrong one 403, the right key for a busy stream 409, and the live publisher is untouched", async () => {
    const body = new Uint8Array(64);
    expect((await fetch(`${base}/ingest/cam2`, { method: "PUT", body })).status).toBe(401);
    expect((await fetch(`${base}/ingest/cam2?key=nope-nope-nope`, { method: "PUT", body })).status).toBe(403);
    expect((await fetch(`${base}/ingest/cam2`, { method: "POST", body, headers: { authorization: "Bearer wrong-key-here" } })).status).toBe(
      403,
    );
    expect((await fetch(`${base}/ingest/cam2?key=${GLOBAL_KEY}`, { method: "PUT", body })).status).toBe(409);
    expect((await fetch(`${base}/ingest/bad%20name?key=${GLOBAL_KEY}`, { method: "PUT", body })).status).toBe(400);
    await sluice.waitLog(/publisher-refused stream=cam2 .*reason=missing-key/);
    await sluice.waitLog(/publisher-refused stream=cam2 .*reason=bad-key/);
    expect(sluice.logs.join("\n")).not.toContain(CAM2_KEY);
    expect(sluice.logs.join("\n")).not.toContain(GLOBAL_KEY);
  });

  test("/api/streams lists both with their own type strings and figures", async () => {
    const list = (await (await fetch(`${base}/api/streams`)).json()) as Array<Record<string, unknown>>;
    const byName = Object.fromEntries(list.map((s) => [s.name, s]));
    expect(byName.live).toMatchObject({
      live: true,
      mime: 'video/webm; codecs="vp8"',
      format: "webm",
      width: 320,
      height: 240,
      viewers: 1,
    });
    expect(byName.cam2).toMatchObject({
      live: true,
      mime: 'video/mp4; codecs="avc1.64000D"',
      format: "fmp4",
      width: 320,
      height: 240,
      viewers: 1,
    });
    for (const key of [
      "bitrate",
      "fragmentRate",
      "keyframeInterval",
      "uptime",
      "bytesIn",
      "bytesOut",
      "publisherRestarts",
      "slowViewerSkips",
      "slowViewerCloses",
    ]) {
      expect(byName.cam2).toHaveProperty(key);
    }
    expect(byName.cam2!.bitrate as number).toBeGreaterThan(10_000);
  });

  test("/metrics passes the strict exposition check and its counters move with traffic", async () => {
    await Bun.sleep(500);
    const m = await metrics();
    expect(value(m, "sluice_stream_live", { stream: "live" })).toBe(1);
    expect(value(m, "sluice_stream_viewers", { stream: "cam2" })).toBe(1);
    expect(value(m, "sluice_stream_received_bytes_total", { stream: "cam2" })!).toBeGreaterThan(before.cam2In!);
    expect(value(m, "sluice_stream_sent_bytes_total", { stream: "live" })!).toBeGreaterThan(0);
    expect(value(m, "sluice_rejected_connections_total", { kind: "ingest", reason: "missing-key" })).toBe(1);
    expect(value(m, "sluice_rejected_connections_total", { kind: "ingest", reason: "bad-key" })).toBe(2);
    expect(value(m, "sluice_process_resident_memory_bytes")!).toBeGreaterThan(1e6);
  });

  test("each stream reached only its own viewers, in full, with no error", async () => {
    expect(await tcp.done, await tcp.stderr()).toBe(0);
    expect(await http.done, await http.stderr()).toBe(0);
    await live.until((m) => texts(m, "ended").length === 1, 5000, "live ended");
    await cam2.until((m) => texts(m, "ended").length === 1, 5000, "cam2 ended");
    const [l] = sessions(live.messages);
    const [c] = sessions(cam2.messages);
    expect(sessions(live.messages)).toHaveLength(1);
    expect(sessions(cam2.messages)).toHaveLength(1);
    expect(l!.stream.stream).toBe("live");
    expect(c!.stream.stream).toBe("cam2");
    // WebM bytes only on live, fMP4 bytes only on cam2.
    expect([...l!.init.subarray(0, 4)]).toEqual([0x1a, 0x45, 0xdf, 0xa3]);
    expect(new TextDecoder().decode(c!.init.subarray(4, 8))).toBe("ftyp");
    expect(l!.fragments.every((f) => f[0] === 0x1f && f[1] === 0x43)).toBe(true);
    expect(c!.fragments.every((f) => new TextDecoder().decode(f.subarray(4, 8)) === "moof")).toBe(true);
    expect(texts(live.messages, "error")).toHaveLength(0);
    expect(texts(cam2.messages, "error")).toHaveLength(0);
    expect(concat(c!.fragments).byteLength).toBeGreaterThan(50_000);
    live.close();
    cam2.close();
  });
});

describe("TCP ingest access", () => {
  test("an address outside --ingest-allow is refused and counted", async () => {
    const other = await startTestSluice(["--ingest-allow", "10.0.0.0/8"]);
    try {
      let closed!: () => void;
      const done = new Promise<void>((r) => (closed = r));
      const sock = await Bun.connect({ hostname: "127.0.0.1", port: other.ingestPort, socket: { data() {}, close: () => closed() } });
      sock.write(new Uint8Array(100));
      await done;
      await other.waitLog(/publisher-refused stream=live remote=127\.0\.0\.1:\d+ reason=address-not-allowed/);
      const res = await fetch(`http://127.0.0.1:${other.httpPort}/ingest/live`, { method: "PUT", body: new Uint8Array(10) });
      expect(res.status).toBe(403);
    } finally {
      await other.stop();
    }
  });

  test("--max-ingest-per-address caps concurrent ingest connections from one address", async () => {
    const other = await startTestSluice(["--ingest", "0=cam2", "--max-ingest-per-address", "1"]);
    try {
      const first = await Bun.connect({ hostname: "127.0.0.1", port: other.ingestPorts.live!, socket: { data() {} } });
      await other.waitLog(/publisher-connected stream=live/);
      let closed!: () => void;
      const done = new Promise<void>((r) => (closed = r));
      await Bun.connect({ hostname: "127.0.0.1", port: other.ingestPorts.cam2!, socket: { data() {}, close: () => closed() } });
      await done;
      await other.waitLog(/publisher-refused stream=cam2 .*reason=too-many-from-address/);
      first.end();
    } finally {
      await other.stop();
    }
  });
});
