import { describe, expect, test } from "bun:test";
import { detectFormat } from "../../src/container/detect.ts";
import { ParseError } from "../../src/container/errors.ts";
import { createSniffingParser } from "../../src/container/index.ts";
import { fixture } from "../helpers/fixtures.ts";

const ascii = (s: string) => new TextEncoder().encode(s);

describe("detectFormat", () => {
  test("recognises fMP4 by a box type at offset 4 and WebM by the EBML magic", () => {
    expect(detectFormat(fixture("h264-baseline-aac.mp4").subarray(0, 8))).toBe("fmp4");
    expect(detectFormat(fixture("vp8-opus.webm").subarray(0, 8))).toBe("webm");
    expect(detectFormat(new Uint8Array([0, 0, 0, 24, ...ascii("styp")]))).toBe("fmp4");
  });

  test("waits while the first bytes are not enough to decide", () => {
    expect(detectFormat(new Uint8Array([]))).toBeNull();
    expect(detectFormat(new Uint8Array([0x1a, 0x45]))).toBeNull();
    expect(detectFormat(new Uint8Array([0, 0, 0, 24, 0x66]))).toBeNull();
  });

  test("an HTTP request gets its own reason", () => {
    expect(() => detectFormat(ascii("GET / HTTP/1.1\r\n"))).toThrow(expect.objectContaining({ reason: "http-request" }));
    expect(() => detectFormat(ascii("POST /x"))).toThrow(ParseError);
  });

  test("anything else is unknown-format", () => {
    expect(() => detectFormat(ascii("hello world"))).toThrow(expect.objectContaining({ reason: "unknown-format" }));
  });

  test("a sniffing parser fed one byte at a time decides as soon as it can", () => {
    const p = createSniffingParser({ maxElementBytes: 1 << 20 });
    const mp4 = fixture("h264-baseline-aac.mp4");
    for (let i = 0; i < 8; i++) p.push(mp4.subarray(i, i + 1));
    expect(p.format).toBe("fmp4");
  });

  test("a stream ending before its format is known is truncated (or unknown when it is garbage)", () => {
    const p = createSniffingParser({ maxElementBytes: 1 << 20 });
    p.push(new Uint8Array([0x1a, 0x45]));
    expect(() => p.end()).toThrow(expect.objectContaining({ reason: "truncated" }));
  });

  test("recognises MPEG-TS by sync bytes every 188 bytes, and M2TS every 192 after a 4-byte prefix", () => {
    const ts = new Uint8Array(3 * 188).fill(0xff);
    for (let i = 0; i < 3; i++) ts[i * 188] = 0x47;
    expect(detectFormat(ts)).toBe("mpegts");
    expect(detectFormat(ts.subarray(0, 300))).toBeNull(); // one more sync byte needed to be sure
    const m2ts = new Uint8Array(4 + 3 * 192).fill(0xff);
    for (let i = 0; i < 3; i++) m2ts[4 + i * 192] = 0x47;
    expect(detectFormat(m2ts)).toBe("mpegts");
    const broken = ts.slice();
    broken[376] = 0;
    expect(() => detectFormat(broken)).toThrow(expect.objectContaining({ reason: "unknown-format" }));
  });

  test("an HTTP GET (starting with 0x47 like a TS packet) is still told apart at once", () => {
    expect(() => detectFormat(ascii("GET "))).toThrow(expect.objectContaining({ reason: "http-request" }));
  });

  test("a sniffing parser fed ffmpeg's MPEG-TS byte by byte emits the same events as fed whole", () => {
    const r = Bun.spawnSync([
      "ffmpeg",
      "-hide_banner",
      "-loglevel",
      "error",
      "-f",
      "lavfi",
      "-i",
      "testsrc2=size=160x120:rate=25:duration=1",
      "-f",
      "lavfi",
      "-i",
      "sine=duration=1",
      "-c:v",
      "libx264",
      "-g",
      "10",
      "-c:a",
      "aac",
      "-f",
      "mpegts",
      "pipe:1",
    ]);
    expect(r.exitCode).toBe(0);
    const bytes = new Uint8Array(r.stdout);
    const summary = (events: Array<{ type: string; bytes: Uint8Array }>) => events.map((e) => `${e.type}:${e.bytes.byteLength}`);
    const whole = createSniffingParser({ maxElementBytes: 1 << 20 });
    const a = [...whole.push(bytes), ...whole.end()];
    expect(whole.format).toBe("mpegts");
    const byByte = createSniffingParser({ maxElementBytes: 1 << 20 });
    const b = [];
    for (let i = 0; i < bytes.byteLength; i++) b.push(...byByte.push(bytes.subarray(i, i + 1)));
    b.push(...byByte.end());
    expect(summary(b)).toEqual(summary(a));
    expect(a[0]?.type).toBe("init");
    expect(a.filter((e) => e.type === "fragment").length).toBeGreaterThan(20);
  });
});
