import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { prng } from "../helpers/feed.ts";
import { runFfmpeg } from "../helpers/ffmpeg.ts";
import { spawnSluice } from "../helpers/sluice-process.ts";
import { connectViewer, type TestViewer } from "../helpers/ws-viewer.ts";
import { connectRaw, sampleRss } from "./hostile.ts";

/**
 * Hostile RTMP and MPEG-TS publishers against a real Sluice process (issue 12): each attack ends in a
 * typed error and a closed connection, the resident set grows by less than MAX_GROWTH, and a viewer of
 * another, legitimate stream keeps receiving fragments throughout.
 */

setDefaultTimeout(90_000);
const MiB = 1024 * 1024;
const MAX_GROWTH = 64 * MiB;

let sluice: Awaited<ReturnType<typeof spawnSluice>>;
let rtmpPort = 0;
let tsPort = 0;
let victim: TestViewer;
let publisher: ReturnType<typeof runFfmpeg>;

const binaries = () => victim.messages.filter((m) => m.kind === "binary").length;

beforeAll(async () => {
  sluice = await spawnSluice(["--ingest", "0=ts", "--max-element-bytes", "4MiB", "--publisher-idle-seconds", "30"]);
  rtmpPort = Number(/rtmp-listening address=127\.0\.0\.1:(\d+)/.exec(sluice.output())?.[1]);
  tsPort = Number(/ingest-listening address=127\.0\.0\.1:(\d+) stream=ts/.exec(sluice.output())?.[1]);
  expect(rtmpPort).toBeGreaterThan(0);
  expect(tsPort).toBeGreaterThan(0);
  victim = await connectViewer(`ws://127.0.0.1:${sluice.httpPort}/ws/live`);
  publisher = runFfmpeg([
    "-re",
    "-f",
    "lavfi",
    "-i",
    "testsrc2=size=320x240:rate=25:duration=120",
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-tune",
    "zerolatency",
    "-g",
    "25",
    "-f",
    "mpegts",
    `tcp://127.0.0.1:${sluice.ingestPort}`,
  ]);
  await victim.until((m) => m.filter((x) => x.kind === "binary").length > 5, 20_000, "victim fragments");
});

afterAll(async () => {
  publisher?.stop();
  victim?.close();
  await sluice?.stop();
});

/** The log line saying how a publisher (by stream name) or an RTMP connection left. */
async function logLine(re: RegExp, ms = 30_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const line = sluice
      .output()
      .split("\n")
      .find((l) => re.test(l));
    if (line) return line;
    if (Date.now() > end) throw new Error(`no log line ${re}:\n${sluice.output().slice(-3000)}`);
    await Bun.sleep(20);
  }
}

/** Runs an attack while sampling RSS; checks the victim kept receiving fragments. */
async function underAttack(attack: () => Promise<void>): Promise<number> {
  const base = sluice.rss();
  const before = binaries();
  const sampler = sampleRss(() => sluice.rss());
  await attack();
  const growth = sampler.stop() - base;
  await victim.until(() => binaries() > before + 10, 10_000, "victim still fed");
  console.log(`  RSS peak +${(growth / MiB).toFixed(1)} MiB`);
  return growth;
}

/** C0 + C1 of the RTMP simple handshake; returns the connection after S0/S1/S2 came back and C2 went out. */
async function rtmpHandshake() {
  const conn = await connectRaw(rtmpPort);
  const c1 = new Uint8Array(1537);
  c1[0] = 3;
  await conn.write(c1);
  const deadline = Date.now() + 5000;
  while (conn.received().length < 1 + 1536 * 2 && Date.now() < deadline) await Bun.sleep(10);
  await conn.write(new Uint8Array(1536)); // C2
  return conn;
}

/** An RTMP type-0 chunk header (basic header of 1 byte) with a 24-bit message length. */
function chunkHeader(csid: number, length: number, typeId = 9): Uint8Array {
  return new Uint8Array([csid & 0x3f, 0, 0, 0, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff, typeId, 1, 0, 0, 0]);
}

describe("hostile RTMP and MPEG-TS publishers", () => {
  test("RTMP: 1 MiB of random bytes instead of a handshake is closed", async () => {
    const rand = prng(7);
    const junk = Uint8Array.from({ length: MiB }, () => Math.floor(rand() * 256));
    junk[0] = 3; // looks like C0, then garbage where C1/C2 and chunks belong
    const growth = await underAttack(async () => {
      const conn = await connectRaw(rtmpPort);
      await conn.write(junk);
      await Promise.race([conn.done, Bun.sleep(10_000)]);
      expect(conn.closed).toBe(true);
    });
    expect(growth).toBeLessThan(MAX_GROWTH);
  });

  test("RTMP: random chunk streams after a real handshake end with a protocol error and a close", async () => {
    const rand = prng(11);
    const growth = await underAttack(async () => {
      const conn = await rtmpHandshake();
      for (let i = 0; i < 64 && !conn.closed; i++) await conn.write(Uint8Array.from({ length: 16 * 1024 }, () => Math.floor(rand() * 256)));
      await Promise.race([conn.done, Bun.sleep(10_000)]);
      expect(conn.closed).toBe(true);
    });
    expect(growth).toBeLessThan(MAX_GROWTH);
    await logLine(/rtmp-dropped .*reason=(malformed|too-large)/);
  });

  test("RTMP: 64 chunk streams each declaring a 16 MiB message, never finished: refused past the caps", async () => {
    const growth = await underAttack(async () => {
      const conn = await rtmpHandshake();
      // Set Chunk Size 65536 is not needed: each 128-byte chunk of each message grows the partial buffers.
      for (let round = 0; round < 64 && !conn.closed; round++) {
        for (let cs = 3; cs < 60 && !conn.closed; cs++) {
          await conn.write(round === 0 ? chunkHeader(cs, 0xffffff) : new Uint8Array([0xc0 | cs]));
          await conn.write(new Uint8Array(128));
        }
      }
      conn.end();
      await Promise.race([conn.done, Bun.sleep(10_000)]);
      expect(conn.closed).toBe(true);
    });
    expect(growth).toBeLessThan(MAX_GROWTH);
  });

  test("MPEG-TS: a video PES that never ends (64 MiB without a new unit start) stays within the caps", async () => {
    // PAT and PMT of a real ffmpeg stream, then packets continuing one PES on its video PID forever.
    const r = Bun.spawnSync([
      "ffmpeg",
      "-hide_banner",
      "-loglevel",
      "error",
      "-f",
      "lavfi",
      "-i",
      "testsrc2=size=160x120:rate=25:duration=0.2",
      "-c:v",
      "libx264",
      "-f",
      "mpegts",
      "pipe:1",
    ]);
    const real = new Uint8Array(r.stdout);
    const tables = real.subarray(0, 2 * 188); // ffmpeg writes PAT then PMT first (ISO/IEC 13818-1 §2.4.4)
    const first = real.subarray(2 * 188, 3 * 188).slice(); // the first video packet: PUSI set, PES header
    const videoPid = ((first[1]! & 0x1f) << 8) | first[2]!;
    const packet = new Uint8Array(188).fill(0xaa);
    packet.set([0x47, (videoPid >> 8) & 0x1f, videoPid & 0xff, 0x10]);
    const growth = await underAttack(async () => {
      const conn = await connectRaw(tsPort);
      await conn.write(tables);
      await conn.write(first);
      const block = new Uint8Array(188 * 5000);
      for (let sent = 0; sent < 64 * MiB && !conn.closed; sent += block.byteLength) {
        for (let i = 0; i < 5000; i++) {
          packet[3] = 0x10 | ((i + sent) & 0x0f); // continuity counter keeps counting
          block.set(packet, i * 188);
        }
        await conn.write(block);
      }
      conn.end();
      await Promise.race([conn.done, Bun.sleep(10_000)]);
    });
    expect(growth).toBeLessThan(MAX_GROWTH);
    await logLine(/publisher-(error|disconnected) stream=ts /);
  });

  test("MPEG-TS: a flood of 100,000 PMT versions and then garbage after the sync bytes closes cleanly", async () => {
    const r = Bun.spawnSync([
      "ffmpeg",
      "-hide_banner",
      "-loglevel",
      "error",
      "-f",
      "lavfi",
      "-i",
      "testsrc2=size=160x120:rate=25:duration=0.2",
      "-c:v",
      "libx264",
      "-f",
      "mpegts",
      "pipe:1",
    ]);
    const real = new Uint8Array(r.stdout);
    const pmt = real.subarray(188, 2 * 188).slice();
    const rand = prng(3);
    const growth = await underAttack(async () => {
      const conn = await connectRaw(tsPort);
      await conn.write(real.subarray(0, 188));
      const block = new Uint8Array(188 * 1000);
      for (let n = 0; n < 100 && !conn.closed; n++) {
        for (let i = 0; i < 1000; i++) {
          pmt[3] = 0x10 | (i & 0x0f);
          // version_number (5 bits of byte 5 of the section, after the pointer field): the CRC no longer
          // matches, so each is a damaged section; half keep the CRC-valid original bytes.
          if (i % 2) pmt[4 + 1 + 5] = (pmt[4 + 1 + 5]! & 0xc1) | ((i % 32) << 1);
          block.set(pmt, i * 188);
        }
        await conn.write(block);
      }
      const junk = Uint8Array.from({ length: 256 * 1024 }, () => Math.floor(rand() * 256));
      await conn.write(junk);
      conn.end();
      await Promise.race([conn.done, Bun.sleep(10_000)]);
    });
    expect(growth).toBeLessThan(MAX_GROWTH);
  });
});
