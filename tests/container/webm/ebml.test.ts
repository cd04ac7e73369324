import { describe, expect, test } from "bun:test";
import { ByteQueue } from "../../../src/container/byte-queue.ts";
import { ID, isTopLevelId, readHeader, readId, readQueuedHeader, readVint, UNKNOWN_SIZE } from "../../../src/container/webm/ebml.ts";
import { reasonOf, sizeVint, unknownSizeVint } from "./helpers.ts";

const b = (...x: number[]) => Uint8Array.from(x);

describe("readId", () => {
  test("reads 1- to 4-byte IDs with the marker bit kept", () => {
    expect(readId(b(0xa3), 0)).toEqual({ id: ID.SimpleBlock, length: 1 });
    expect(readId(b(0x63, 0xa2), 0)).toEqual({ id: ID.CodecPrivate, length: 2 });
    expect(readId(b(0x2a, 0xd7, 0xb1), 0)).toEqual({ id: ID.TimecodeScale, length: 3 });
    expect(readId(b(0x1f, 0x43, 0xb6, 0x75), 0)).toEqual({ id: ID.Cluster, length: 4 });
  });

  test("returns null until all ID bytes are there", () => {
    expect(readId(b(), 0)).toBeNull();
    expect(readId(b(0x1f, 0x43, 0xb6), 0)).toBeNull();
  });

  test("rejects IDs longer than 4 bytes and reserved all-0 / all-1 IDs as malformed", () => {
    expect(reasonOf(() => readId(b(0x00), 0))).toBe("malformed");
    expect(reasonOf(() => readId(b(0x08, 1, 2, 3, 4), 0))).toBe("malformed");
    expect(reasonOf(() => readId(b(0x80), 0))).toBe("malformed");
    expect(reasonOf(() => readId(b(0xff), 0))).toBe("malformed");
    expect(reasonOf(() => readId(b(0x7f, 0xff), 0))).toBe("malformed");
  });
});

describe("readHeader", () => {
  test("reads sizes of every length 1..8", () => {
    for (let len = 1; len <= 8; len++) {
      const size = 2 ** Math.min(7 * len - 1, 40) - 3;
      expect(readHeader(Uint8Array.from([0xa3, ...sizeVint(size, len)]), 0)).toEqual({ id: 0xa3, size, headerLength: 1 + len });
    }
  });

  test("all value bits set means unknown size, at any length", () => {
    for (let len = 1; len <= 8; len++) {
      expect(readHeader(Uint8Array.from([0x1f, 0x43, 0xb6, 0x75, ...unknownSizeVint(len)]), 0)).toEqual({
        id: ID.Cluster,
        size: UNKNOWN_SIZE,
        headerLength: 4 + len,
      });
    }
    expect(readHeader(b(0x18, 0x53, 0x80, 0x67, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), 0)!.size).toBe(UNKNOWN_SIZE);
    expect(readHeader(b(0xa3, 0x7f, 0xfe), 0)!.size).toBe(0x3ffe);
  });

  test("returns null for every incomplete prefix and honours `end`", () => {
    const whole = b(0x1f, 0x43, 0xb6, 0x75, 0x01, 0, 0, 0, 0, 0, 0x12, 0x34);
    for (let n = 0; n < whole.byteLength; n++) expect(readHeader(whole.subarray(0, n), 0)).toBeNull();
    expect(readHeader(whole, 0, 11)).toBeNull();
    expect(readHeader(whole, 0)).toEqual({ id: ID.Cluster, size: 0x1234, headerLength: 12 });
  });

  test("a size VINT starting with 0x00 is malformed", () => {
    expect(reasonOf(() => readHeader(b(0xa3, 0x00, 0xff), 0))).toBe("malformed");
  });
});

describe("readQueuedHeader", () => {
  test("reads across chunk borders", () => {
    const q = new ByteQueue();
    q.push(b(0x16, 0x54));
    expect(readQueuedHeader(q, 0, 100)).toBeNull();
    q.push(b(0xae, 0x6b, 0x40));
    expect(readQueuedHeader(q, 0, 100)).toBeNull();
    q.push(b(0x20, 0xee));
    expect(readQueuedHeader(q, 0, 100)).toEqual({ id: ID.Tracks, size: 0x20, headerLength: 6 });
  });

  test("a declared size above the cap is too-large before any body byte; the Segment is exempt", () => {
    const q = new ByteQueue();
    q.push(b(0xa3, 0x82, 0x00));
    expect(reasonOf(() => readQueuedHeader(q, 0, 1))).toBe("too-large");
    const s = new ByteQueue();
    s.push(b(0x18, 0x53, 0x80, 0x67, 0x01, 0, 0, 0x10, 0, 0, 0, 0));
    expect(readQueuedHeader(s, 0, 1)).toEqual({ id: ID.Segment, size: 2 ** 36, headerLength: 12 });
  });
});

describe("readVint and level rules", () => {
  test("readVint removes the marker and checks bounds", () => {
    expect(readVint(b(0x81), 0, 1)).toEqual({ value: 1, length: 1 });
    expect(readVint(b(0x40, 0x02), 0, 2)).toEqual({ value: 2, length: 2 });
    expect(reasonOf(() => readVint(b(0x40, 0x02), 0, 1))).toBe("malformed");
    expect(reasonOf(() => readVint(b(0x00), 0, 1))).toBe("malformed");
  });

  test("level-0/1 IDs end unknown-size Clusters; Cluster children and global elements do not", () => {
    for (const id of [ID.EBML, ID.Segment, ID.SeekHead, ID.Info, ID.Tracks, ID.Cluster, ID.Cues, ID.Tags, ID.Chapters, ID.Attachments]) {
      expect(isTopLevelId(id)).toBe(true);
    }
    for (const id of [ID.Timecode, ID.SimpleBlock, ID.BlockGroup, ID.Void, ID.CRC32, ID.Position, ID.PrevSize]) {
      expect(isTopLevelId(id)).toBe(false);
    }
  });
});
