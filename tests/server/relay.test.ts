import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createParser } from "../../src/container/index.ts";
import type { FragmentEvent } from "../../src/container/types.ts";
import { concat } from "../helpers/feed.ts";
import { CLASSIC_MP4, CLASSIC_WEBM, runFfmpeg } from "../helpers/ffmpeg.ts";
import { equalBytes, firstVideoPacketIsKey, withoutMfra } from "../helpers/media.ts";
import { startTestSluice, type TestSluice } from "../helpers/sluice.ts";
import { startTcpRecorder } from "../helpers/tcp-recorder.ts";
import { connectViewer, sessions, texts } from "../helpers/ws-viewer.ts";

setDefaultTimeout(60_000);

let sluice: TestSluice;
beforeAll(async () => {
  sluice = await startTestSluice();
});
afterAll(async () => {
  await sluice.stop();
});

/** Fragment events of a viewer's session, parsed back (for sequence numbers / timecodes). */
function parsedFragments(format: "fmp4" | "webm", init: Uint8Array, fragments: Uint8Array[]): FragmentEvent[] {
  const p = createParser(format, { maxElementBytes: 32 << 20 });
  return [...p.push(init), ...fragments.flatMap((f) => p.push(f)), ...p.end()].filter((e): e is FragmentEvent => e.type === "fragment");
}

describe.each([
  // x264's ultrafast preset fits Constrained Baseline, so "-profile:v main" still yields avc1.42C01E.
  {
    name: "classic fMP4 (libx264 main, empty_moov+default_base_moof)",
    cmd: CLASSIC_MP4,
    format: "fmp4" as const,
    ext: "mp4" as const,
    mime: 'video/mp4; codecs="avc1.42C01E"',
    seconds: 6,
  },
  {
    name: "classic WebM (libvpx)",
    cmd: CLASSIC_WEBM,
    format: "webm" as const,
    ext: "webm" as const,
    mime: 'video/webm; codecs="vp8"',
    seconds: 4,
  },
])("$name published over TCP", ({ cmd, format, ext, mime, seconds }) => {
  test("viewers get the type string, then init + fragments byte-identical to what ffmpeg sent; a mid-stream joiner gets a keyframe GOP then live fragments with no gap", async () => {
    const recorder = startTcpRecorder(sluice.ingestPort);
    const early = await connectViewer(`ws://127.0.0.1:${sluice.httpPort}/ws`);
    await early.until((m) => texts(m, "waiting").length === 1, 5000, "waiting message");
    const seq0 = sluice.registry.get("live")?.seq ?? 0; // sequence numbers continue across publishers
    const ff = runFfmpeg(cmd(seconds, `tcp://127.0.0.1:${recorder.port}`));
    // Join once the GOP cache holds a later GOP than the first, so the join really is mid-stream.
    await early.until(() => (sluice.registry.get("live")?.gop.fragments[0]?.seq ?? 0) > seq0 + 1, 20_000, "a second GOP");
    await early.until(
      (m) => seq0 + (sessions(m)[0]?.fragments.length ?? 0) >= (sluice.registry.get("live")?.gop.fragments[0]?.seq ?? Infinity),
      5000,
      "the GOP's first fragment",
    );
    const late = await connectViewer(`ws://127.0.0.1:${sluice.httpPort}/ws/live`);
    expect(await ff.done, await ff.stderr()).toBe(0);
    await early.until((m) => texts(m, "ended").length === 1, 10_000, "ended");
    await late.until((m) => texts(m, "ended").length === 1, 10_000, "ended");
    recorder.stop();

    const [a] = sessions(early.messages);
    expect(sessions(early.messages)).toHaveLength(1);
    expect(a!.stream.mime).toBe(mime);
    expect(a!.stream.format).toBe(format);
    expect(a!.stream.width).toBe(640);
    const sent = concat(recorder.connections[0]!);
    const expected = format === "fmp4" ? withoutMfra(sent) : sent;
    expect(equalBytes(concat([a!.init, ...a!.fragments]), expected)).toBe(true);

    const [b] = sessions(late.messages);
    expect(b!.stream.mime).toBe(mime);
    expect(equalBytes(b!.init, a!.init)).toBe(true);
    expect(firstVideoPacketIsKey(b!.init, b!.fragments[0]!, ext)).toBe(true);
    // The late viewer's fragments are exactly a contiguous tail of the early viewer's: no gap, no duplicate.
    const k = a!.fragments.findIndex((f) => equalBytes(f, b!.fragments[0]!));
    expect(k).toBeGreaterThan(0);
    expect(b!.fragments.length).toBe(a!.fragments.length - k);
    b!.fragments.forEach((f, i) => expect(equalBytes(f, a!.fragments[k + i]!)).toBe(true));
    const parsed = parsedFragments(format, b!.init, b!.fragments);
    for (let i = 1; i < parsed.length; i++) {
      if (format === "fmp4") expect(parsed[i]!.sequence).toBe(parsed[i - 1]!.sequence! + 1);
      else expect(parsed[i]!.decodeTime).toBeGreaterThan(parsed[i - 1]!.decodeTime);
    }
    expect(sluice.logs.some((l) => / stream-live stream=live format=/.test(l) && l.includes(format))).toBe(true);
    early.close();
    late.close();
  });
});
