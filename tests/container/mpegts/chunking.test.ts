import { describe, expect, test } from "bun:test";
import { queueWork } from "../../../src/container/byte-queue.ts";
import { fixture } from "../../helpers/fixtures.ts";
import { byteByByte, demuxer, feed, frames, packets, pidOf, pusiOf, randomSplits, summarize, whole } from "./helpers.ts";

/** The same bytes in any chunking give the same events; work stays proportional to the bytes. */

const FILES = ["h264-aac.mpegts", "h264-aac-bframes.mpegts", "hevc-aac.mpegts", "h264-opus.mpegts", "h264-aac.m2ts"];

describe("MPEG-TS demuxer: chunking does not change the output", () => {
  for (const file of FILES) {
    test(`${file}: whole, byte by byte and random splits give identical events`, () => {
      const bytes = fixture(file);
      const expected = summarize(whole(demuxer(), bytes));
      expect(expected.length).toBeGreaterThan(150);
      expect(summarize(byteByByte(demuxer(), bytes))).toEqual(expected);
      for (const seed of [1, 2, 3]) expect(summarize(randomSplits(demuxer(), bytes, seed))).toEqual(expected);
      expect(summarize(randomSplits(demuxer(), bytes, 9, 7))).toEqual(expected);
      // Chunks of exactly one packet, and chunks straddling packets by one byte.
      expect(
        summarize(
          feed(
            demuxer(),
            bytes,
            (function* () {
              for (;;) yield 188;
            })(),
          ),
        ),
      ).toEqual(expected);
      expect(
        summarize(
          feed(
            demuxer(),
            bytes,
            (function* () {
              for (;;) yield 189;
            })(),
          ),
        ),
      ).toEqual(expected);
    });
  }

  test("byte by byte: bounded queue work per byte; only the frames and PES in progress are held", () => {
    const bytes = fixture("h264-aac.mpegts");
    const d = demuxer();
    const before = { ...queueWork };
    let maxTail = 0;
    for (let i = 0; i < bytes.byteLength; i++) {
      d.push(bytes.subarray(i, i + 1), i);
      maxTail = Math.max(maxTail, d.buffered);
    }
    d.end();
    const pushed = queueWork.pushed - before.pushed;
    expect(pushed).toBe(bytes.byteLength);
    expect((queueWork.copied - before.copied) / pushed).toBeLessThan(3);
    expect((queueWork.steps - before.steps) / pushed).toBeLessThan(1);
    // What is held: the first frames until the audio configuration is known (~12 KB at packet 80), then
    // the PES being collected per track (a keyframe is ~4 KB here) and a partial packet.
    expect(maxTail).toBeLessThan(16 * 1024);
  });
});

describe("MPEG-TS demuxer: frames leave as early as the stream allows", () => {
  /** Feeds one packet per push (arrivalMs = packet index); returns, per frame, the index of the push that emitted it. */
  function emittedAt(file: string) {
    const d = demuxer();
    const list = packets(fixture(file));
    const at: Array<{ kind: string; push: number; arrivalMs: number }> = [];
    list.forEach((p, i) => {
      for (const f of frames(d.push(p.slice(), i))) at.push({ kind: f.kind, push: i, arrivalMs: f.arrivalMs });
    });
    for (const f of frames(d.end())) at.push({ kind: f.kind, push: list.length, arrivalMs: f.arrivalMs });
    return { list, at };
  }

  test("audio (PES_packet_length set) leaves with the PES's last packet; video (length 0) with the next video PES start", () => {
    const { list, at } = emittedAt("h264-aac.mpegts");
    // Last packet of each PES per PID: the packet before the PID's next payload_unit_start (or the PID's last packet).
    const lastOfPes = new Map<number, number[]>();
    const nextStart = new Map<number, number[]>();
    const lastSeen = new Map<number, number>();
    list.forEach((p, i) => {
      const pid = pidOf(p);
      if (pid !== 0x100 && pid !== 0x101) return;
      if (pusiOf(p) && lastSeen.has(pid)) {
        (lastOfPes.get(pid) ?? lastOfPes.set(pid, []).get(pid)!).push(lastSeen.get(pid)!);
        (nextStart.get(pid) ?? nextStart.set(pid, []).get(pid)!).push(i);
      }
      lastSeen.set(pid, i);
    });
    const video = at.filter((f) => f.kind === "video");
    const audio = at.filter((f) => f.kind === "audio");
    // Frames wait until both configurations are known (the first audio PES completes after the first video frame).
    const announced = at[0]!.push;
    // Video frame k is complete when the packet that starts video PES k+1 arrives; its last byte came in the packet before.
    video.forEach((f, k) => {
      if (k + 1 < video.length) expect(f.push).toBe(Math.max(nextStart.get(0x100)![k]!, announced));
      expect(f.arrivalMs).toBe(lastOfPes.get(0x100)?.[k] ?? lastSeen.get(0x100)!);
    });
    // Each audio frame leaves with its PES's last packet.
    const audioPesEnds = [...(lastOfPes.get(0x101) ?? []), lastSeen.get(0x101)!];
    for (const f of audio) {
      expect(audioPesEnds).toContain(f.arrivalMs);
      expect(f.push).toBe(Math.max(f.arrivalMs, announced));
    }
    expect(audio.filter((f) => f.push > announced).length).toBeGreaterThan(100);
    expect(video.filter((f) => f.push > announced).length).toBeGreaterThan(60);
  });
});
