/**
 * MPEG-TS ingest end to end, server level: ffmpeg sends a source file as MPEG-TS (`-c copy -f mpegts`)
 * over a TCP ingest port, HTTP PUT (/ingest/:name) and UDP (`--ingest-udp`); a WebSocket viewer
 * connected before publishing records the remuxed fMP4, which is judged against the source by ffprobe
 * and Sluice's own fMP4 parser (see remux-compare.ts). Codecs: H.264 + AAC on every transport,
 * H.265 + AAC and H.264 + Opus over TCP.
 */

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { runFfmpeg } from "../helpers/ffmpeg.ts";
import { startTestSluice, type TestSluice } from "../helpers/sluice.ts";
import { connectViewer, sessions, type TestViewer, texts } from "../helpers/ws-viewer.ts";
import {
  apiStream,
  collectRelay,
  expectSameMedia,
  expectSluiceParses,
  FPS,
  fragmentKeyframes,
  makeSource,
  type SourceSpec,
  tempDir,
} from "./remux-compare.ts";

setDefaultTimeout(30_000);

/** MPEG-TS carries times in 90 kHz ticks. */
const TS_TICK = 1 / 90_000;
const SECONDS = 2;
/** The UDP publisher has no end: the idle watchdog ends its session this long after the last datagram. */
const IDLE_SECONDS = 1;

let sluice: TestSluice;
let tmp: ReturnType<typeof tempDir>;

beforeAll(async () => {
  tmp = tempDir("sluice-mpegts-ingest-");
  sluice = await startTestSluice([
    "--publisher-idle-seconds",
    String(IDLE_SECONDS),
    ...["--ingest", "0=tcp264", "--ingest", "0=tcp265", "--ingest", "0=tcpopus"],
    ...["--ingest-udp", "0=udp264"],
  ]);
});

afterAll(async () => {
  await sluice?.stop();
  tmp?.cleanup();
});

async function viewerBefore(stream: string): Promise<TestViewer> {
  const v = await connectViewer(`ws://127.0.0.1:${sluice.httpPort}/ws/${stream}`);
  await v.until((m) => texts(m, "waiting").length > 0, 5000, "waiting");
  return v;
}

interface Case {
  stream: string;
  spec: SourceSpec;
  /** ffmpeg's output: everything after `-f mpegts`. */
  output: () => string[];
  mime: RegExp;
}

const H264_AAC = /^video\/mp4; codecs="avc1\.[0-9A-F]{6},mp4a\.40\.2"$/;
const cases: Case[] = [
  {
    stream: "tcp264",
    spec: { video: "h264", audio: "aac", seconds: SECONDS },
    output: () => [`tcp://127.0.0.1:${sluice.ingestPorts.tcp264}`],
    mime: H264_AAC,
  },
  {
    stream: "http264",
    spec: { video: "h264", audio: "aac", seconds: SECONDS },
    output: () => ["-method", "PUT", `http://127.0.0.1:${sluice.httpPort}/ingest/http264`],
    mime: H264_AAC,
  },
  {
    stream: "udp264",
    spec: { video: "h264", audio: "aac", seconds: SECONDS },
    output: () => [`udp://127.0.0.1:${sluice.udpPorts.get("udp264")}?pkt_size=1316`],
    mime: H264_AAC,
  },
  {
    stream: "tcp265",
    spec: { video: "h265", audio: "aac", seconds: SECONDS },
    output: () => [`tcp://127.0.0.1:${sluice.ingestPorts.tcp265}`],
    mime: /^video\/mp4; codecs="hvc1\.[0-9A-Z.]+,mp4a\.40\.2"$/,
  },
  {
    stream: "tcpopus",
    spec: { video: "h264", audio: "opus", seconds: SECONDS },
    output: () => [`tcp://127.0.0.1:${sluice.ingestPorts.tcpopus}`],
    mime: /^video\/mp4; codecs="avc1\.[0-9A-F]{6},opus"$/,
  },
];

describe("ffmpeg sends a file as MPEG-TS; the relay matches the source", () => {
  for (const c of cases) {
    test(`${c.stream}: ${c.spec.video} + ${c.spec.audio}`, async () => {
      const src = makeSource(join(tmp.dir, `${c.stream}.mp4`), c.spec);
      const viewer = await viewerBefore(c.stream);
      const ff = runFfmpeg(["-re", "-i", src, "-c", "copy", "-f", "mpegts", ...c.output()]);
      await viewer.until((m) => sessions(m).length > 0, 10_000, "stream");
      expect(await apiStream(sluice.httpPort, c.stream)).toMatchObject({ live: true, format: "mpegts" });
      const [code, stderr] = await Promise.all([ff.done, ff.stderr()]);
      expect(stderr).toBe("");
      expect(code).toBe(0);
      const relay = await collectRelay(viewer, join(tmp.dir, `${c.stream}-relay.mp4`));
      viewer.close();
      expect(relay.stream.format).toBe("mpegts");
      expect(String(relay.stream.mime)).toMatch(c.mime);
      const events = expectSluiceParses(relay.init, relay.fragments);
      const cmp = expectSameMedia(src, relay.path, TS_TICK);
      expect(cmp.videoFrames[0]).toBe(SECONDS * FPS);
      expect(events.length).toBeGreaterThanOrEqual(SECONDS * FPS);
      expect(events[0]!.keyframe).toBe(true);
      expect(fragmentKeyframes(relay)[0]).toBe(true);
    });
  }
});
