import { describe, expect, test } from "bun:test";
import { type BusMessage, channelOf, decodeMessage, encodeMessage, readMessage, streamOfChannel } from "../../src/cluster/wire.ts";
import { mutations } from "../security/bus-mutations.ts";

const tracks = [{ id: 1, kind: "video" as const, codec: "avc1.64001E", codecId: "avc1", timescale: 12800, width: 640, height: 360 }];

/** A `stream` message with this JSON text (sequence 3, init of 8 bytes). */
function withJson(text: string): Uint8Array {
  const good = encodeMessage({
    type: "stream",
    node: "node-a",
    seq: 3,
    initSeq: 3,
    info: { format: "fmp4", mime: "video/mp4", tracks: [] },
    init: new Uint8Array(8).fill(7),
  });
  const json = new TextEncoder().encode(text);
  const head = 24 + 6;
  const out = new Uint8Array(head + 4 + json.byteLength + 8);
  out.set(good.subarray(0, head));
  new DataView(out.buffer).setUint32(head, json.byteLength);
  out.set(json, head + 4);
  out.fill(7, head + 4 + json.byteLength);
  return out;
}

describe("cluster wire format", () => {
  test("stream, fragment and ended messages round-trip, binary payloads byte for byte", () => {
    const init = new Uint8Array(300).map((_, i) => (i * 7) & 255);
    const frag = new Uint8Array(70_000).map((_, i) => (i * 13 + 1) & 255);
    const messages: BusMessage[] = [
      {
        type: "stream",
        node: "node-a",
        seq: 0xffffffff,
        initSeq: 0xffffffff,
        info: { format: "fmp4", mime: 'video/mp4; codecs="avc1.64001E"', tracks },
        init,
      },
      {
        type: "fragment",
        node: "node-a",
        seq: 0,
        initSeq: 0xffffffff,
        keyframe: true,
        decodeTime: 2 ** 40 + 3,
        timescale: 12800,
        bytes: frag,
      },
      {
        type: "fragment",
        node: "node-a",
        seq: 1,
        initSeq: 0xffffffff,
        keyframe: false,
        decodeTime: 0,
        timescale: 48000,
        bytes: new Uint8Array([9]),
      },
      { type: "ended", node: "node-a", seq: 2, initSeq: 0xffffffff },
      { type: "ended", node: "node-a", seq: 3, initSeq: 7, error: { reason: "unknown-format", message: "not fMP4 or WebM" } },
    ];
    for (const m of messages) expect(decodeMessage(encodeMessage(m))).toEqual(m);
  });

  test("decodes from a view inside a larger buffer (as Redis clients hand out)", () => {
    const bytes = encodeMessage({
      type: "fragment",
      node: "n",
      seq: 5,
      initSeq: 4,
      keyframe: true,
      decodeTime: 10,
      timescale: 1000,
      bytes: new Uint8Array([1, 2, 3]),
    });
    const big = new Uint8Array(bytes.byteLength + 10);
    big.set(bytes, 5);
    const m = decodeMessage(big.subarray(5, 5 + bytes.byteLength));
    expect(m).toMatchObject({ type: "fragment", seq: 5, keyframe: true });
    expect([...(m as { bytes: Uint8Array }).bytes]).toEqual([1, 2, 3]);
  });

  test("malformed messages decode to undefined, never throw", () => {
    const good = encodeMessage({
      type: "stream",
      node: "n",
      seq: 1,
      initSeq: 1,
      info: { format: "webm", mime: "video/webm", tracks: [] },
      init: new Uint8Array(4),
    });
    expect(decodeMessage(new Uint8Array(0))).toBeUndefined();
    expect(decodeMessage(good.subarray(0, 20))).toBeUndefined();
    expect(decodeMessage(good.subarray(0, 30))).toBeUndefined();
    const badVersion = good.slice();
    badVersion[0] = 9;
    expect(decodeMessage(badVersion)).toBeUndefined();
    const badType = good.slice();
    badType[1] = 7;
    expect(decodeMessage(badType)).toBeUndefined();
    const badJson = encodeMessage({ type: "ended", node: "n", seq: 1, initSeq: 1 });
    badJson[badJson.byteLength - 1] = 0x7b;
    expect(decodeMessage(badJson)).toBeUndefined();
  });

  test("decoded stream info keeps only the known fields of the description and of each track", () => {
    const track = JSON.stringify(tracks[0]).replace(/}$/, ',"extra":{"a":1},"__proto__":{"polluted":1}}');
    const json = `{"format":"fmp4","mime":"video/mp4","tracks":[${track}],"more":true,"__proto__":{"polluted":1}}`;
    const m = decodeMessage(withJson(json));
    expect(m).toMatchObject({ type: "stream", info: { format: "fmp4", mime: "video/mp4", tracks } });
    expect(Object.keys((m as { info: object }).info)).toEqual(["format", "mime", "tracks"]);
    expect((m as { info: { tracks: object[] } }).info.tracks[0]).toEqual(tracks[0]);
    expect(Object.keys((m as { info: { tracks: object[] } }).info.tracks[0]!)).toEqual(Object.keys(tracks[0]!));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test("a stream message is rejected for any track field of the wrong type, tracks that are not an array of objects, or a bad format or MIME type", () => {
    const t = tracks[0];
    const bad: unknown[] = [
      { tracks: [null] },
      { tracks: [t, null] },
      { tracks: null },
      { tracks: {} },
      { tracks: "video" },
      { tracks: [1] },
      { tracks: [[]] },
      { tracks: Array.from({ length: 65 }, (_, i) => ({ ...t, id: i })) },
      { tracks: [{ ...t, id: "1" }] },
      { tracks: [{ ...t, id: -1 }] },
      { tracks: [{ ...t, id: 1.5 }] },
      { tracks: [{ ...t, id: null }] },
      { tracks: [{ ...t, kind: "subtitle" }] },
      { tracks: [{ ...t, kind: null }] },
      { tracks: [{ ...t, codec: 5 }] },
      { tracks: [{ ...t, codec: null }] },
      { tracks: [{ ...t, codec: "a\u0000b" }] },
      { tracks: [{ ...t, codec: "x".repeat(257) }] },
      { tracks: [{ ...t, codecId: {} }] },
      { tracks: [{ ...t, timescale: 0 }] },
      { tracks: [{ ...t, timescale: -1 }] },
      { tracks: [{ ...t, timescale: "12800" }] },
      { tracks: [{ ...t, width: null }] },
      { tracks: [{ ...t, height: -1 }] },
      { tracks: [{ ...t, sampleRate: "48000" }] },
      { tracks: [{ ...t, channels: [] }] },
      { format: "flv" },
      { format: null },
      { mime: null },
      { mime: 3 },
      { mime: "" },
      { mime: "x".repeat(1025) },
      { mime: "video/mp4\r\nX: y" },
    ];
    for (const patch of bad) {
      const json = JSON.stringify({ format: "fmp4", mime: "video/mp4", tracks, ...(patch as object) });
      expect([json, readMessage(withJson(json))]).toEqual([json, { ok: false, reason: "bad-stream-info" }]);
    }
    for (const { id, kind, codec, codecId, timescale } of [{ ...t, kind: "other" as const, timescale: 0 }]) {
      expect(
        decodeMessage(withJson(JSON.stringify({ format: "webm", mime: "video/webm", tracks: [{ id, kind, codec, codecId, timescale }] }))),
      ).toBeDefined();
    }
    for (const text of ["null", "[]", "42", '"x"', "{", ""]) expect(decodeMessage(withJson(text))).toBeUndefined();
  });

  test("header rules: node id of printable ASCII, known type and flags, a stream's init sequence is its own, time fields only on fragments", () => {
    const frag = encodeMessage({
      type: "fragment",
      node: "node-a",
      seq: 5,
      initSeq: 4,
      keyframe: true,
      decodeTime: 10,
      timescale: 1000,
      bytes: new Uint8Array([1]),
    });
    const edit = (b: Uint8Array, f: (v: DataView, b: Uint8Array) => void) => {
      const c = b.slice();
      f(new DataView(c.buffer), c);
      return readMessage(c);
    };
    expect(edit(frag, (_, b) => (b[24] = 0x1b))).toEqual({ ok: false, reason: "bad-node-id" });
    expect(edit(frag, (_, b) => (b[25] = 0x20))).toEqual({ ok: false, reason: "bad-node-id" });
    expect(edit(frag, (_, b) => (b[26] = 0xc3))).toEqual({ ok: false, reason: "bad-node-id" });
    expect(edit(frag, (_, b) => (b[3] = 0))).toEqual({ ok: false, reason: "bad-node-id" });
    expect(edit(frag, (_, b) => (b[3] = 200))).toEqual({ ok: false, reason: "too-short" });
    expect(edit(frag, (_, b) => (b[2] = 3))).toEqual({ ok: false, reason: "bad-flags" });
    expect(edit(frag, (_, b) => (b[1] = 0))).toEqual({ ok: false, reason: "unknown-type" });
    expect(() => encodeMessage({ type: "ended", node: "node a", seq: 1, initSeq: 1 })).toThrow(RangeError);
    const stream = withJson(JSON.stringify({ format: "fmp4", mime: "video/mp4", tracks }));
    expect(readMessage(stream).ok).toBe(true);
    expect(edit(stream, (v) => v.setUint32(8, 99))).toEqual({ ok: false, reason: "bad-init-seq" });
    expect(edit(stream, (_, b) => (b[2] = 1))).toEqual({ ok: false, reason: "bad-flags" });
    expect(edit(stream, (v) => v.setUint32(20, 1000))).toEqual({ ok: false, reason: "bad-header" });
    expect(edit(stream, (v) => v.setFloat64(12, 1))).toEqual({ ok: false, reason: "bad-header" });
    expect(edit(stream, (v) => v.setUint32(30, 0xffffffff))).toEqual({ ok: false, reason: "info-too-large" });
    expect(readMessage(stream.subarray(0, stream.byteLength - 8))).toEqual({ ok: false, reason: "empty-init" });
  });

  test("a fragment needs a finite decode time >= 0, a timescale > 0 and bytes", () => {
    const frag = (decodeTime: number, timescale: number, bytes = new Uint8Array([1])) =>
      readMessage(encodeMessage({ type: "fragment", node: "n", seq: 1, initSeq: 1, keyframe: false, decodeTime, timescale, bytes }));
    expect(frag(0, 1).ok).toBe(true);
    expect(frag(Number.NaN, 1000)).toEqual({ ok: false, reason: "bad-decode-time" });
    expect(frag(Number.POSITIVE_INFINITY, 1000)).toEqual({ ok: false, reason: "bad-decode-time" });
    expect(frag(-1, 1000)).toEqual({ ok: false, reason: "bad-decode-time" });
    expect(frag(5, 0)).toEqual({ ok: false, reason: "bad-timescale" });
    expect(frag(5, 1000, new Uint8Array(0))).toEqual({ ok: false, reason: "empty-fragment" });
  });

  test("an ended message's error, when present, has a string reason and message within bounds; anything else is rejected", () => {
    const ended = (text: string) => {
      const b = encodeMessage({ type: "ended", node: "n", seq: 1, initSeq: 1 });
      const out = new Uint8Array(b.byteLength - 2 + text.length);
      out.set(b.subarray(0, b.byteLength - 2));
      out.set(new TextEncoder().encode(text), b.byteLength - 2);
      return decodeMessage(out);
    };
    expect(ended("{}")).toMatchObject({ type: "ended" });
    expect(ended('{"error":{"reason":"idle-timeout","message":"no data for 10 s"}}')).toMatchObject({
      error: { reason: "idle-timeout", message: "no data for 10 s" },
    });
    for (const bad of [
      '{"error":null}',
      '{"error":5}',
      '{"error":{"reason":"x"}}',
      '{"error":{"reason":1,"message":"m"}}',
      '{"error":{"reason":"a b","message":"m"}}',
      `{"error":{"reason":"${"r".repeat(65)}","message":"m"}}`,
      `{"error":{"reason":"r","message":"${"m".repeat(1025)}"}}`,
      "null",
      "[]",
      "",
      "{",
      `{"pad":"${"p".repeat(5000)}"}`,
    ]) {
      expect([bad, ended(bad)]).toEqual([bad, undefined]);
    }
  });

  test("every certainly-malformed mutation of real-shaped messages decodes to undefined; none throws", () => {
    const init = new Uint8Array(600).map((_, i) => (i * 11) & 255);
    const samples = [
      encodeMessage({
        type: "stream",
        node: "node-a",
        seq: 7,
        initSeq: 7,
        info: {
          format: "fmp4",
          mime: 'video/mp4; codecs="avc1.64001E,mp4a.40.2"',
          tracks: [
            ...tracks,
            { id: 2, kind: "audio", codec: "mp4a.40.2", codecId: "mp4a", timescale: 48000, sampleRate: 48000, channels: 2 },
          ],
        },
        init,
      }),
      ...Array.from({ length: 20 }, (_, i) =>
        encodeMessage({
          type: "fragment",
          node: "node-a",
          seq: 8 + i,
          initSeq: 7,
          keyframe: i % 10 === 0,
          decodeTime: i * 1280,
          timescale: 12800,
          bytes: new Uint8Array(2000 + i).map((_, j) => (j * i) & 255),
        }),
      ),
    ];
    let malformed = 0;
    for (const m of mutations(samples, 5000, 42)) {
      const r = readMessage(m.bytes);
      if (!m.malformed) continue;
      malformed++;
      expect([m.kind, r.ok]).toEqual([m.kind, false]);
    }
    expect(malformed).toBeGreaterThan(2500);
  });

  test("channel names carry the stream name", () => {
    expect(channelOf("cam-2")).toBe("sluice:s:cam-2");
    expect(streamOfChannel(channelOf("cam-2"))).toBe("cam-2");
    expect(streamOfChannel("other")).toBeUndefined();
  });
});
