import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { concat } from "../helpers/feed.ts";
import { LOWLAT_MP4, runFfmpeg } from "../helpers/ffmpeg.ts";
import { fixture } from "../helpers/fixtures.ts";
import { equalBytes, topLevelBoxes } from "../helpers/media.ts";
import { startTestSluice, type TestSluice } from "../helpers/sluice.ts";
import { startTcpRecorder } from "../helpers/tcp-recorder.ts";
import { connectViewer, sessions, type TestViewer, texts } from "../helpers/ws-viewer.ts";

setDefaultTimeout(60_000);

let sluice: TestSluice;
beforeAll(async () => {
  sluice = await startTestSluice(["--ingest", "0=cam2", "--publisher-idle-seconds", "1"]);
});
afterAll(async () => {
  await sluice.stop();
});

/** Connects to an ingest port, sends `bytes`, optionally half-closes, and resolves when the server closes. */
async function publishRaw(port: number, bytes: Uint8Array, endAfterSend: boolean): Promise<{ closedByServer: boolean }> {
  let closedByServer = true;
  let done!: () => void;
  const closed = new Promise<void>((r) => (done = r));
  const sock = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {}, close: () => done(), error: () => done() } });
  sock.write(bytes);
  if (endAfterSend) {
    closedByServer = false;
    sock.end();
  }
  await closed;
  return { closedByServer };
}

describe("bad publishers on one stream leave another stream's viewers untouched", () => {
  let viewer: TestViewer;
  let victimViewer: TestViewer;
  let ff: ReturnType<typeof runFfmpeg>;
  let recorder: ReturnType<typeof startTcpRecorder>;

  beforeAll(async () => {
    viewer = await connectViewer(`ws://127.0.0.1:${sluice.httpPort}/ws/live`);
    victimViewer = await connectViewer(`ws://127.0.0.1:${sluice.httpPort}/ws/cam2`);
    recorder = startTcpRecorder(sluice.ingestPorts.live!);
    ff = runFfmpeg(LOWLAT_MP4(6, `tcp://127.0.0.1:${recorder.port}`));
    await viewer.until((m) => (sessions(m)[0]?.fragments.length ?? 0) > 3, 15_000, "live fragments");
  });

  test("random bytes: connection closed, reason logged, cam2 viewers told", async () => {
    const garbage = new Uint8Array(4096).map((_, i) => (i * 7919 + 13) & 0xff);
    expect((await publishRaw(sluice.ingestPorts.cam2!, garbage, false)).closedByServer).toBe(true);
    await sluice.waitLog(/publisher-error stream=cam2 .*reason=unknown-format/);
    await victimViewer.until((m) => texts(m, "error").some((e) => e.reason === "unknown-format"), 5000, "error message");
  });

  test("an HTTP request on the ingest port: closed with reason http-request", async () => {
    const req = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    expect((await publishRaw(sluice.ingestPorts.cam2!, req, false)).closedByServer).toBe(true);
    await sluice.waitLog(/publisher-error stream=cam2 .*reason=http-request/);
  });

  test("a truncated init: reason truncated when the publisher hangs up", async () => {
    const file = fixture("h264-baseline-aac.mp4");
    const moov = topLevelBoxes(file).find((b) => b.type === "moov")!;
    await publishRaw(sluice.ingestPorts.cam2!, file.subarray(0, moov.start + 100), true);
    await sluice.waitLog(/publisher-error stream=cam2 .*reason=truncated/);
  });

  test("a truncated init from a publisher that stays connected: closed after the idle timeout", async () => {
    const file = fixture("vp8-opus.webm");
    const r = await publishRaw(sluice.ingestPorts.cam2!, file.subarray(0, 200), false);
    expect(r.closedByServer).toBe(true);
    await sluice.waitLog(/publisher-error stream=cam2 .*reason=idle-timeout/);
  });

  test("a second publisher for the live stream is refused and the first is untouched", async () => {
    const file = fixture("h264-baseline-aac.mp4");
    expect((await publishRaw(sluice.ingestPorts.live!, file, false)).closedByServer).toBe(true);
    await sluice.waitLog(/publisher-refused stream=live .*already has a publisher/);
  });

  test("the live stream's viewer received every byte ffmpeg sent, in order, with no error", async () => {
    expect(await ff.done, await ff.stderr()).toBe(0);
    await viewer.until((m) => texts(m, "ended").length === 1, 5000, "ended");
    const [s] = sessions(viewer.messages);
    expect(sessions(viewer.messages)).toHaveLength(1);
    expect(texts(viewer.messages, "error")).toHaveLength(0);
    expect(equalBytes(concat([s!.init, ...s!.fragments]), concat(recorder.connections[0]!))).toBe(true);
    recorder.stop();
    viewer.close();
    victimViewer.close();
  });
});
