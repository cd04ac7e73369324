import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { concat } from "../helpers/feed.ts";
import { LOWLAT_MP4, runFfmpeg } from "../helpers/ffmpeg.ts";
import { fixture } from "../helpers/fixtures.ts";
import { topLevelBoxes } from "../helpers/media.ts";
import { startTestSluice, type TestSluice } from "../helpers/sluice.ts";
import { connectViewer, sessions, texts } from "../helpers/ws-viewer.ts";

setDefaultTimeout(60_000);

let sluice: TestSluice;
beforeAll(async () => {
  sluice = await startTestSluice(["--max-element-bytes", "1MiB"]);
});
afterAll(async () => {
  await sluice.stop();
});

const ascii = (s: string) => new TextEncoder().encode(s);

/** Sends `bytes` as a publisher; resolves once the connection is closed (by the server unless `hangUp`). */
async function publish(bytes: Uint8Array, hangUp = false, port = sluice.ingestPort): Promise<void> {
  let closed!: () => void;
  const done = new Promise<void>((r) => (closed = r));
  const sock = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {}, close: () => closed(), error: () => closed() } });
  sock.write(bytes);
  if (hangUp) sock.end();
  await done;
}

/** A copy of an fMP4 fixture's init with every `from` fourcc inside moov replaced by `to`. */
function patchedInit(name: string, from: string, to: Uint8Array): Uint8Array {
  const file = fixture(name);
  const boxes = topLevelBoxes(file);
  const moov = boxes.find((b) => b.type === "moov")!;
  const out = file.slice(0, moov.start + moov.size);
  const f = ascii(from);
  for (let i = moov.start; i + 4 <= out.byteLength; i++) {
    if (out[i] === f[0] && out[i + 1] === f[1] && out[i + 2] === f[2] && out[i + 3] === f[3]) out.set(to, i);
  }
  return out;
}

function box(type: string, size: number, body = new Uint8Array(0)): Uint8Array {
  const head = new Uint8Array(8);
  new DataView(head.buffer).setUint32(0, size);
  head.set(ascii(type), 4);
  return concat([head, body]);
}

describe("bad publishers are closed with a logged reason and viewers are told", () => {
  test.each([
    ["a declared box size over the cap", () => concat([ftypOf("h264-baseline-aac.mp4"), box("moov", 100 * 1024 * 1024)]), "too-large"],
    ["a fragment before any init", () => concat([box("moof", 16, new Uint8Array(8)), box("mdat", 8)]), "fragment-before-init"],
    ["an init with no usable track", () => patchedInit2(), "no-usable-track"],
    [
      "an init whose codec string cannot be built",
      () => patchedInit("h264-baseline-aac.mp4", "avc1", new Uint8Array([1, 2, 3, 4])),
      "unknown-codec",
    ],
    // A Cluster declaring 256 MiB (8-byte size VINT 01 00 00 00 10 00 00 00) right after the init.
    [
      "a WebM element over the cap",
      () => concat([webmInit("vp8-opus.webm"), new Uint8Array([0x1f, 0x43, 0xb6, 0x75, 0x01, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00])]),
      "too-large",
    ],
  ])("%s", async (_what, bytes, reason) => {
    const viewer = await connectViewer(`ws://127.0.0.1:${sluice.httpPort}/ws/live`);
    await viewer.until((m) => m.length > 0, 5000, "first message");
    await publish(bytes(), false);
    await sluice.waitLog(new RegExp(`publisher-error stream=live .*reason=${reason}`));
    await viewer.until((m) => texts(m, "error").some((e) => e.reason === reason) && texts(m, "ended").length > 0, 5000, "error + ended");
    viewer.close();
    sluice.logs.length = 0;
  });

  test("an unknown but printable codec is still relayed with the type string it can build", async () => {
    const viewer = await connectViewer(`ws://127.0.0.1:${sluice.httpPort}/ws/live`);
    const file = fixture("h264-baseline-aac.mp4");
    const moov = topLevelBoxes(file).find((b) => b.type === "moov")!;
    const init = patchedInit("h264-baseline-aac.mp4", "avc1", ascii("xvc1"));
    await publish(concat([init, file.subarray(moov.start + moov.size)]), true);
    await viewer.until((m) => texts(m, "ended").length > 0, 5000, "ended");
    const [s] = sessions(viewer.messages);
    expect(s!.stream.mime).toBe('video/mp4; codecs="xvc1,mp4a.40.2"');
    expect(s!.fragments.length).toBeGreaterThan(3);
    viewer.close();
  });

  test("server memory returns to where it was after 40 bad publishers", async () => {
    const file = fixture("h264-baseline-aac.mp4");
    const moov = topLevelBoxes(file).find((b) => b.type === "moov")!;
    // A valid init, then a fragment that declares 1 MB but stops at 900 KB: the parser holds it until hang-up.
    const partial = concat([file.subarray(0, moov.start + moov.size), box("moof", 1_000_000), new Uint8Array(900_000)]);
    const heap = () => {
      Bun.gc(true);
      return process.memoryUsage().heapUsed;
    };
    await publish(partial, true); // warm up
    const before = heap();
    for (let i = 0; i < 40; i++) await publish(partial, true);
    await Bun.sleep(100);
    const after = heap();
    expect(after - before).toBeLessThan(8 * 1024 * 1024);
  });
});

describe("publisher takeover", () => {
  test("with --publisher-takeover a new publisher replaces the live one cleanly", async () => {
    const other = await startTestSluice(["--publisher-takeover", "true"]);
    try {
      const viewer = await connectViewer(`ws://127.0.0.1:${other.httpPort}/ws/live`);
      const first = runFfmpeg(LOWLAT_MP4(20, `tcp://127.0.0.1:${other.ingestPort}`));
      await viewer.until((m) => (sessions(m)[0]?.fragments.length ?? 0) > 3, 15_000, "first publisher's fragments");
      await publish(fixture("vp8-opus.webm"), true, other.ingestPort);
      expect(await first.done).not.toBe(0); // ffmpeg's connection was closed under it
      await viewer.until((m) => sessions(m).length === 2 && texts(m, "ended").length === 2, 5000, "second session");
      const [a, b] = sessions(viewer.messages);
      expect(a!.stream.format).toBe("fmp4");
      expect(b!.stream.format).toBe("webm");
      expect(b!.fragments.length).toBeGreaterThan(5);
      expect(texts(viewer.messages, "error")).toHaveLength(0);
      await other.waitLog(/publisher-takeover stream=live/);
      viewer.close();
    } finally {
      await other.stop();
    }
  });
});

/** An init whose tracks are all non-media (hdlr vide/soun → text). */
function patchedInit2(): Uint8Array {
  const once = patchedInit("h264-baseline-aac.mp4", "soun", ascii("text"));
  const f = ascii("vide");
  for (let i = 0; i + 4 <= once.byteLength; i++)
    if (once[i] === f[0] && once[i + 1] === f[1] && once[i + 2] === f[2] && once[i + 3] === f[3]) once.set(ascii("text"), i);
  return once;
}

function ftypOf(name: string): Uint8Array {
  const file = fixture(name);
  const ftyp = topLevelBoxes(file)[0]!;
  return file.subarray(0, ftyp.size);
}

/** The bytes of a WebM fixture before its first Cluster (ID 1F 43 B6 75). */
function webmInit(name: string): Uint8Array {
  const file = fixture(name);
  for (let i = 0; i + 4 <= file.byteLength; i++) {
    if (file[i] === 0x1f && file[i + 1] === 0x43 && file[i + 2] === 0xb6 && file[i + 3] === 0x75) return file.subarray(0, i);
  }
  throw new Error("no cluster");
}
