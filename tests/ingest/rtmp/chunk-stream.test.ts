import { describe, expect, test } from "bun:test";
import { ByteQueue, queueWork } from "../../../src/container/byte-queue.ts";
import { ParseError } from "../../../src/container/errors.ts";
import { ChunkReader, type RtmpMessage } from "../../../src/ingest/rtmp/chunk-reader.ts";
import { ChunkWriter, type OutgoingMessage } from "../../../src/ingest/rtmp/chunk-writer.ts";
import { MSG } from "../../../src/ingest/rtmp/constants.ts";
import { setChunkSizeMessage } from "../../../src/ingest/rtmp/messages.ts";
import { concat, prng } from "../../helpers/feed.ts";

const LIMITS = { maxMessageBytes: 1 << 20, maxChunkStreams: 64, maxPartialBytes: 2 << 20 };

/** Feeds `bytes` cut at `sizes` into one reader; returns every message (the chunking must not matter). */
function readAll(bytes: Uint8Array, sizes: () => number, limits = LIMITS): RtmpMessage[] {
  const q = new ByteQueue();
  const reader = new ChunkReader(limits);
  const out: RtmpMessage[] = [];
  for (let pos = 0; pos < bytes.byteLength; ) {
    const n = Math.min(sizes(), bytes.byteLength - pos);
    q.push(bytes.slice(pos, pos + n));
    pos += n;
    for (let m = reader.read(q); m; m = reader.read(q)) out.push(m);
  }
  expect(q.length).toBe(0);
  return out;
}

const whole = (bytes: Uint8Array) => readAll(bytes, () => bytes.byteLength);
const byteByByte = (bytes: Uint8Array) => readAll(bytes, () => 1);
const random = (bytes: Uint8Array, seed: number) => {
  const r = prng(seed);
  return readAll(bytes, () => 1 + Math.floor(r() * 700));
};

function payload(n: number, seed: number): Uint8Array {
  const r = prng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
}

/** Messages that make the writer use every header type, basic header size and extended timestamps. */
function sampleMessages(): OutgoingMessage[] {
  const m = (csid: number, typeId: number, streamId: number, timestamp: number, len: number, seed: number): OutgoingMessage => ({
    csid,
    typeId,
    streamId,
    timestamp,
    payload: payload(len, seed),
  });
  return [
    m(3, MSG.commandAmf0, 0, 0, 200, 1), // fmt 0, two chunks
    m(6, MSG.video, 1, 0, 1000, 2), // fmt 0, eight chunks
    m(6, MSG.video, 1, 40, 300, 3), // fmt 1 (length changes)
    m(6, MSG.video, 1, 80, 300, 4), // fmt 2 (delta changes 40 → 40? no: same length, same delta 40 → fmt 3)
    m(6, MSG.video, 1, 100, 300, 5), // fmt 2 (delta 20)
    m(4, MSG.audio, 1, 10, 0, 6), // empty message
    m(4, MSG.audio, 1, 0x1000000, 50, 7), // fmt 1 with an extended delta
    m(4, MSG.audio, 1, 0x2000000, 50, 8), // fmt 3 carrying the extended timestamp again (same delta)
    m(4, MSG.audio, 1, 0x3000000, 400, 9), // fmt 1, extended, continuation chunks repeat it
    m(63, MSG.dataAmf0, 1, 0xfffffff0, 10, 10), // 1-byte basic header max, extended absolute
    m(64, MSG.dataAmf0, 1, 5, 10, 11), // 2-byte basic header
    m(319, MSG.dataAmf0, 1, 6, 10, 12),
    m(320, MSG.dataAmf0, 1, 7, 130, 13), // 3-byte basic header
    m(65599, MSG.dataAmf0, 2, 8, 10, 14),
    m(63, MSG.dataAmf0, 1, 0xfffffffa, 10, 15), // timestamp going back: fmt 0 again
  ];
}

function expected(msgs: OutgoingMessage[]): unknown[] {
  return msgs.map(({ csid, typeId, streamId, timestamp, payload }) => ({ csid, typeId, streamId, timestamp, payload }));
}

describe("chunk stream round trip", () => {
  for (const compress of [true, false]) {
    test(`writer → reader, ${compress ? "compressed headers (fmt 0–3)" : "fmt 0 only"}: whole, byte by byte, random splits`, () => {
      const w = new ChunkWriter(128, compress);
      const msgs = sampleMessages();
      const bytes = concat(msgs.map((m) => w.write(m)));
      const want = expected(msgs);
      expect(whole(bytes)).toEqual(want as RtmpMessage[]);
      expect(byteByByte(bytes)).toEqual(want as RtmpMessage[]);
      for (const seed of [1, 2, 3, 4, 5]) expect(random(bytes, seed)).toEqual(want as RtmpMessage[]);
    });
  }

  test("the writer really uses every header type", () => {
    const w = new ChunkWriter(128);
    const fmts = sampleMessages().map((m) => w.write(m)[0]! >> 6);
    expect(new Set(fmts)).toEqual(new Set([0, 1, 2, 3]));
  });

  test("Set Chunk Size applies from the next chunk on, up and down", () => {
    const w = new ChunkWriter(128);
    const msgs = [
      { csid: 6, typeId: MSG.video, streamId: 1, timestamp: 0, payload: payload(5000, 1) },
      { csid: 6, typeId: MSG.video, streamId: 1, timestamp: 33, payload: payload(70000, 2) },
      { csid: 6, typeId: MSG.video, streamId: 1, timestamp: 66, payload: payload(300, 3) },
    ];
    const parts = [w.write(msgs[0]!), w.write(setChunkSizeMessage(65536))];
    w.setChunkSize(65536);
    parts.push(w.write(msgs[1]!), w.write(setChunkSizeMessage(1)));
    w.setChunkSize(1);
    parts.push(w.write(msgs[2]!));
    const bytes = concat(parts);
    const want = expected(msgs) as RtmpMessage[];
    expect(whole(bytes)).toEqual(want);
    expect(random(bytes, 9)).toEqual(want);
  });

  test("interleaved chunks of two messages on two chunk streams", () => {
    const w = new ChunkWriter(128);
    const a = w.write({ csid: 6, typeId: MSG.video, streamId: 1, timestamp: 1, payload: payload(300, 1) }); // 12+128, 1+128, 1+44
    const b = w.write({ csid: 4, typeId: MSG.audio, streamId: 1, timestamp: 2, payload: payload(200, 2) }); // 12+128, 1+72
    const bytes = concat([a.subarray(0, 140), b.subarray(0, 140), a.subarray(140, 269), b.subarray(140), a.subarray(269)]);
    const got = whole(bytes);
    expect(got.map((m) => [m.csid, m.timestamp, m.payload.byteLength])).toEqual([
      [4, 2, 200],
      [6, 1, 300],
    ]);
    expect(got[1]!.payload).toEqual(payload(300, 1));
    expect(byteByByte(bytes)).toEqual(got);
  });

  test("Abort Message drops the partial message of its chunk stream", () => {
    const w = new ChunkWriter(128);
    const first = w.write({ csid: 7, typeId: MSG.video, streamId: 1, timestamp: 0, payload: payload(300, 1) });
    const abort = w.write({ csid: 2, typeId: MSG.abort, streamId: 0, timestamp: 0, payload: Uint8Array.from([0, 0, 0, 7]) });
    const w2 = new ChunkWriter(128);
    const next = w2.write({ csid: 7, typeId: MSG.video, streamId: 1, timestamp: 40, payload: payload(150, 2) });
    const bytes = concat([first.subarray(0, 140), abort, next]);
    expect(whole(bytes).map((m) => [m.csid, m.timestamp, m.payload.byteLength])).toEqual([[7, 40, 150]]);
  });

  test("fmt 3 after fmt 0 adds the fmt 0 timestamp field as its delta (ffmpeg writes and reads it so)", () => {
    // csid 5: fmt 0 ts 40, len 1, type 8, stream 1; then fmt 3 new message → ts 80.
    const bytes = Uint8Array.from([0x05, 0, 0, 40, 0, 0, 1, 8, 1, 0, 0, 0, 0xaa, 0xc5, 0xbb]);
    expect(whole(bytes).map((m) => [m.timestamp, m.payload[0]])).toEqual([
      [40, 0xaa],
      [80, 0xbb],
    ]);
  });

  test("continuation chunks without the repeated extended timestamp are read too", () => {
    const head = [0x06, 0xff, 0xff, 0xff, 0, 0, 200, 9, 1, 0, 0, 0, 0x01, 0x00, 0x00, 0x00];
    const body = payload(200, 3);
    const bytes = Uint8Array.from([...head, ...body.subarray(0, 128), 0xc6, ...body.subarray(128)]);
    const got = whole(bytes);
    expect(got.map((m) => m.timestamp)).toEqual([0x01000000]);
    expect(got[0]!.payload).toEqual(body);
  });

  test("32-bit timestamps wrap modulo 2^32 through deltas", () => {
    const w = new ChunkWriter(128);
    const msgs = [0xffffffe0, 0xfffffff0, 0x10].map((t, i) => ({
      csid: 6,
      typeId: MSG.video,
      streamId: 1,
      timestamp: t,
      payload: payload(10, i),
    }));
    const bytes = concat(msgs.map((m) => w.write(m)));
    expect(whole(bytes).map((m) => m.timestamp)).toEqual([0xffffffe0, 0xfffffff0, 0x10]);
  });
});

describe("chunk stream limits", () => {
  const error = (fn: () => unknown): ParseError => {
    try {
      fn();
    } catch (e) {
      if (e instanceof ParseError) return e;
      throw e;
    }
    throw new Error("no ParseError");
  };

  test("a message longer than maxMessageBytes is refused as soon as its header is read", () => {
    const bytes = Uint8Array.from([0x06, 0, 0, 0, 0x10, 0, 1, 9, 1, 0, 0, 0]);
    const e = error(() => whole(bytes));
    expect(e.reason).toBe("too-large");
  });

  test("a chunk stream that starts with a compressed header", () => {
    expect(error(() => whole(Uint8Array.from([0x46, 0, 0, 0, 0, 0, 1, 9, 0xaa]))).reason).toBe("malformed");
  });

  test("more than maxChunkStreams chunk streams", () => {
    const w = new ChunkWriter(128);
    const bytes = concat(
      Array.from({ length: 65 }, (_, i) => w.write({ csid: 3 + i, typeId: MSG.video, streamId: 1, timestamp: 0, payload: payload(1, i) })),
    );
    expect(error(() => whole(bytes)).reason).toBe("too-large");
  });

  test("partial messages on many chunk streams are capped together", () => {
    const w = new ChunkWriter(128);
    const firstChunks = Array.from({ length: 10 }, (_, i) =>
      w.write({ csid: 3 + i, typeId: MSG.video, streamId: 1, timestamp: 0, payload: payload(300_000, i) }).subarray(0, 140),
    );
    const e = error(() =>
      readAll(concat(firstChunks), () => 1 << 20, { maxMessageBytes: 1 << 20, maxChunkStreams: 64, maxPartialBytes: 1 << 20 }),
    );
    expect(e.reason).toBe("too-large");
  });

  test("Set Chunk Size 0 or with bit 31 set", () => {
    const w = new ChunkWriter(128);
    expect(error(() => whole(w.write(setChunkSizeMessage(0)))).reason).toBe("malformed");
    expect(error(() => whole(new ChunkWriter(128).write(setChunkSizeMessage(0x80000000)))).reason).toBe("malformed");
  });

  test("byte-by-byte input costs O(bytes) in the queue, also with a 64 KiB chunk size", () => {
    const w = new ChunkWriter(128);
    const parts = [w.write(setChunkSizeMessage(65536))];
    w.setChunkSize(65536);
    for (let i = 0; i < 20; i++)
      parts.push(w.write({ csid: 6, typeId: MSG.video, streamId: 1, timestamp: i * 33, payload: payload(60_000, i) }));
    const bytes = concat(parts);
    const before = { ...queueWork };
    expect(byteByByte(bytes).length).toBe(20);
    const steps = queueWork.steps - before.steps;
    const copied = queueWork.copied - before.copied;
    expect(steps).toBeLessThan(4 * bytes.byteLength);
    expect(copied).toBeLessThan(4 * bytes.byteLength);
  });
});
