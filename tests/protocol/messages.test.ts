import { describe, expect, test } from "bun:test";
import type { TrackInfo } from "../../src/container/types.ts";
import {
  decodeServerMessage,
  decodeTrack,
  decodeViewerMessage,
  encodeServerMessage,
  encodeViewerMessage,
  LATENCY_KINDS,
  type ServerMessage,
  VIEWER_MESSAGE_MAX_BYTES,
  type ViewerMessage,
} from "../../src/protocol/messages.ts";

const video: TrackInfo = { id: 1, kind: "video", codec: "avc1.64001E", codecId: "avc1", timescale: 12800, width: 640, height: 360 };
const audio: TrackInfo = { id: 2, kind: "audio", codec: "mp4a.40.2", codecId: "mp4a", timescale: 48000, sampleRate: 48000, channels: 2 };

describe("viewer protocol", () => {
  test("every server message decodes to what was encoded", () => {
    const all: ServerMessage[] = [
      { type: "waiting", stream: "cam" },
      {
        type: "stream",
        stream: "cam",
        mime: 'video/mp4; codecs="avc1.64001E,mp4a.40.2"',
        format: "fmp4",
        tracks: [video, audio],
        width: 640,
        height: 360,
      },
      {
        type: "stream",
        stream: "cam",
        mime: 'video/webm; codecs="vp8"',
        format: "webm",
        tracks: [{ id: 1, kind: "video", codec: "vp8", codecId: "V_VP8", timescale: 1000 }],
      },
      { type: "skip", stream: "cam" },
      { type: "error", stream: "cam", reason: "too-large", message: "too-large: a box" },
      { type: "ended", stream: "cam" },
      { type: "pong", t: 1234.5 },
    ];
    for (const m of all) expect(decodeServerMessage(encodeServerMessage(m))).toEqual(m);
  });

  test("malformed server messages decode to undefined", () => {
    const bad = [
      "",
      "null",
      "[]",
      "42",
      '"stream"',
      "{",
      '{"type":"nope","stream":"x"}',
      '{"type":"waiting"}',
      '{"type":"waiting","stream":7}',
      '{"type":"error","stream":"x","reason":"r"}',
      '{"type":"pong"}',
      '{"type":"pong","t":"1"}',
      '{"type":"stream","stream":"x","mime":"","format":"fmp4","tracks":[]}',
      '{"type":"stream","stream":"x","mime":"video/mp4","format":"mkv","tracks":[]}',
      '{"type":"stream","stream":"x","mime":"video/mp4","format":"fmp4","tracks":[null]}',
      '{"type":"stream","stream":"x","mime":"video/mp4","format":"fmp4","tracks":{"0":1}}',
      '{"type":"stream","stream":"x","mime":"video/mp4","format":"fmp4","tracks":[{"id":1,"kind":"video","codec":"avc1","codecId":"avc1","timescale":0}]}',
      '{"__proto__":{"type":"waiting","stream":"x"}}',
    ];
    for (const text of bad) expect({ text, m: decodeServerMessage(text) }).toEqual({ text, m: undefined });
  });

  test("track validation: every field typed, optional numbers finite and non-negative, nothing inherited", () => {
    expect(decodeTrack(video)).toEqual(video);
    expect(decodeTrack({ ...video, kind: "subtitles" })).toBeUndefined();
    expect(decodeTrack({ ...video, width: -1 })).toBeUndefined();
    expect(decodeTrack({ ...video, height: "360" })).toBeUndefined();
    expect(decodeTrack({ ...video, id: Number.NaN })).toBeUndefined();
    expect(decodeTrack(Object.create({ ...video }))).toBeUndefined();
    expect(decodeTrack({ ...video, extra: 1 })).toEqual(video);
  });

  test("viewer reports decode to what was encoded; target is optional", () => {
    const full: ViewerMessage = { type: "report", latency: 0.213, kind: "e2e", target: 0.15, stalls: 0, dropped: 3, decoded: 900 };
    const noTarget: ViewerMessage = { type: "report", latency: 1.5, kind: "buffer", stalls: 2, dropped: 0, decoded: 0 };
    expect(decodeViewerMessage(encodeViewerMessage(full))).toEqual(full);
    expect(decodeViewerMessage(encodeViewerMessage(noTarget))).toEqual(noTarget);
    expect(decodeViewerMessage('{"type":"report","latency":1.5,"kind":"buffer","target":null,"stalls":2,"dropped":0,"decoded":0}')).toEqual(
      noTarget,
    );
    expect(encodeViewerMessage(full).length).toBeLessThan(VIEWER_MESSAGE_MAX_BYTES / 4);
    // Ranges are the server's business: the decoder only checks the shape.
    expect(decodeViewerMessage('{"type":"report","latency":-4,"kind":"e2e","stalls":-1,"dropped":1e300,"decoded":0.5}')).toEqual({
      type: "report",
      latency: -4,
      kind: "e2e",
      stalls: -1,
      dropped: 1e300,
      decoded: 0.5,
    });
    expect(LATENCY_KINDS).toEqual(["e2e", "buffer"]);
  });

  test("malformed reports decode to undefined, nothing read through a prototype", () => {
    const ok = { type: "report", latency: 0.2, kind: "e2e", stalls: 0, dropped: 0, decoded: 0 };
    const bad: unknown[] = [
      { ...ok, latency: "0.2" },
      { ...ok, latency: null },
      { ...ok, kind: "wallclock" },
      { ...ok, kind: "constructor" },
      { ...ok, kind: ["e2e"] },
      { ...ok, stalls: undefined },
      { ...ok, dropped: "3" },
      { ...ok, decoded: true },
      { ...ok, target: "0.1" },
      { ...ok, target: {} },
      [ok],
    ];
    for (const m of bad) expect({ m, d: decodeViewerMessage(JSON.stringify(m)) }).toEqual({ m, d: undefined });
    expect(decodeViewerMessage('{"type":"report","latency":1e999,"kind":"e2e","stalls":0,"dropped":0,"decoded":0}')).toBeUndefined();
    expect(
      decodeViewerMessage('{"__proto__":{"type":"report","latency":0.2,"kind":"e2e","stalls":0,"dropped":0,"decoded":0}}'),
    ).toBeUndefined();
    expect(
      decodeViewerMessage('{"type":"report","latency":0.2,"kind":"e2e","stalls":0,"dropped":0,"__proto__":{"decoded":0}}'),
    ).toBeUndefined();
  });

  test("viewer messages: only a well-formed ping or report", () => {
    expect(decodeViewerMessage(encodeViewerMessage({ type: "ping", t: 17 }))).toEqual({ type: "ping", t: 17 });
    for (const text of [
      '{"type":"ping"}',
      '{"type":"ping","t":null}',
      '{"type":"ping","t":"1"}',
      '{"type":"pong","t":1}',
      '{"type":"report"}',
      '{"type":"Report","latency":0.2,"kind":"e2e","stalls":0,"dropped":0,"decoded":0}',
      "ping",
      '"ping"',
      '{"x":"\\"ping\\""}',
    ]) {
      expect(decodeViewerMessage(text)).toBeUndefined();
    }
  });
});
