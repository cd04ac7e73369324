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
});
