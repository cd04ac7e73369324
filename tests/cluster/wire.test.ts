import { describe, expect, test } from "bun:test";
import { type BusMessage, channelOf, decodeMessage, encodeMessage, streamOfChannel } from "../../src/cluster/wire.ts";

const tracks = [{ id: 1, kind: "video" as const, codec: "avc1.64001E", codecId: "avc1", timescale: 12800, width: 640, height: 360 }];

describe("cluster wire format", () => {
  test("stream, fragment and ended messages round-trip, binary payloads byte for byte", () => {
    const init = new Uint8Array(300).map((_, i) => (i * 7) & 255);
    const frag = new Uint8Array(70_000).map((_, i) => (i * 13 + 1) & 255);
    const messages: BusMessage[] = [
      { type: "stream", node: "node-a", seq: 0xffffffff, initSeq: 0xffffffff, info: { format: "fmp4", mime: 'video/mp4; codecs="avc1.64001E"', tracks }, init },
      { type: "fragment", node: "node-a", seq: 0, initSeq: 0xffffffff, keyframe: true, decodeTime: 2 ** 40 + 3, timescale: 12800, bytes: frag },
      { type: "fragment", node: "node-a", seq: 1, initSeq: 0xffffffff, keyframe: false, decodeTime: 0, timescale: 48000, bytes: new Uint8Array(0) },
      { type: "ended", node: "node-a", seq: 2, initSeq: 0xffffffff },
      { type: "ended", node: "node-a", seq: 3, initSeq: 7, error: { reason: "unknown-format", message: "not fMP4 or WebM" } },
    ];
    for (const m of messages) expect(decodeMessage(encodeMessage(m))).toEqual(m);
  });

  test("decodes from a view inside a larger buffer (as Redis clients hand out)", () => {
    const bytes = encodeMessage({ type: "fragment", node: "n", seq: 5, initSeq: 4, keyframe: true, decodeTime: 10, timescale: 1000, bytes: new Uint8Array([1, 2, 3]) });
    const big = new Uint8Array(bytes.byteLength + 10);
    big.set(bytes, 5);
    const m = decodeMessage(big.subarray(5, 5 + bytes.byteLength));
    expect(m).toMatchObject({ type: "fragment", seq: 5, keyframe: true });
    expect([...(m as { bytes: Uint8Array }).bytes]).toEqual([1, 2, 3]);
  });

  test("malformed messages decode to undefined, never throw", () => {
    const good = encodeMessage({ type: "stream", node: "n", seq: 1, initSeq: 1, info: { format: "webm", mime: "video/webm", tracks: [] }, init: new Uint8Array(4) });
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

  test("channel names carry the stream name", () => {
    expect(channelOf("cam-2")).toBe("sluice:s:cam-2");
    expect(streamOfChannel(channelOf("cam-2"))).toBe("cam-2");
    expect(streamOfChannel("other")).toBeUndefined();
  });
});
