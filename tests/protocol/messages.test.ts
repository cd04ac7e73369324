import { describe, expect, test } from "bun:test";
import type { TrackInfo } from "../../src/container/types.ts";
import {
  decodeServerMessage,
  decodeTrack,
  decodeViewerMessage,
  encodeServerMessage,
  encodeViewerMessage,
  type ServerMessage,
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

  test("viewer messages: only a well-formed ping", () => {
    expect(decodeViewerMessage(encodeViewerMessage({ type: "ping", t: 17 }))).toEqual({ type: "ping", t: 17 });
    for (const text of [
      '{"type":"ping"}',
      '{"type":"ping","t":null}',
      '{"type":"ping","t":"1"}',
      '{"type":"pong","t":1}',
      "ping",
      '"ping"',
      '{"x":"\\"ping\\""}',
    ]) {
      expect(decodeViewerMessage(text)).toBeUndefined();
    }
  });
});
