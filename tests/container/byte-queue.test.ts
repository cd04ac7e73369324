import { describe, expect, test } from "bun:test";
import { ByteQueue, COPY_BELOW, queueWork } from "../../src/container/byte-queue.ts";
import { prng } from "../helpers/feed.ts";

const bytes = (...xs: number[]) => new Uint8Array(xs);

describe("ByteQueue", () => {
  test("peeks across chunk boundaries without consuming", () => {
    const q = new ByteQueue();
    q.push(bytes(1, 2));
    q.push(bytes(3));
    q.push(bytes(4, 5, 6));
    expect([...q.peek(1, 4)]).toEqual([2, 3, 4, 5]);
    expect(q.byteAt(5)).toBe(6);
    expect(q.length).toBe(6);
  });

  test("take returns an exact fresh copy and keeps only the tail", () => {
    const q = new ByteQueue();
    const a = bytes(1, 2, 3);
    q.push(a);
    q.push(bytes(4, 5));
    const t = q.take(4);
    expect([...t]).toEqual([1, 2, 3, 4]);
    a[0] = 99;
    expect(t[0]).toBe(1);
    expect(q.length).toBe(1);
    expect([...q.peek(0, 1)]).toEqual([5]);
  });

  test("skip drops bytes over several chunks; reading past the end is a RangeError", () => {
    const q = new ByteQueue();
    q.push(bytes(1));
    q.push(bytes(2, 3));
    q.push(new Uint8Array(0));
    q.skip(2);
    expect(q.length).toBe(1);
    expect(q.byteAt(0)).toBe(3);
    expect(() => q.peek(0, 2)).toThrow(RangeError);
    expect(() => q.take(5)).toThrow(RangeError);
  });
});

/** What `ByteQueue` may pin for `length` unread bytes: twice them, two blocks and one pushed chunk. */
const retainBound = (length: number, largestChunk: number) => 2 * length + 2 * 2 * COPY_BELOW + largestChunk;

describe("ByteQueue memory and work under any chunking", () => {
  test("1 MiB pushed one byte at a time is coalesced into blocks: retained below 2x the bytes, no object per byte", () => {
    const q = new ByteQueue();
    const n = 1 << 20;
    for (let i = 0; i < n; i++) q.push(bytes(i & 0xff));
    expect(q.length).toBe(n);
    expect(q.retained).toBeLessThanOrEqual(n + 2 * COPY_BELOW);
    const all = q.take(n);
    expect(all.every((b, i) => b === (i & 0xff))).toBe(true);
    expect(q.retained).toBeLessThanOrEqual(2 * COPY_BELOW); // at most the open block, kept for the next short chunk
  });

  test("a chunk of COPY_BELOW bytes or more is kept by reference: peek returns a view of it", () => {
    const q = new ByteQueue();
    const big = new Uint8Array(COPY_BELOW).map((_, i) => i & 0xff);
    q.push(bytes(9));
    q.push(big);
    expect(q.retained).toBeLessThanOrEqual(1 + COPY_BELOW); // the one-byte block segment was sealed to an exact copy
    const view = q.peek(1, 100);
    expect(view.buffer).toBe(big.buffer);
    const taken = q.take(101);
    expect(taken.buffer).not.toBe(big.buffer);
    expect([...taken.subarray(0, 3)]).toEqual([9, 0, 1]);
  });

  test("alternating one-byte and 8 KiB chunks keep retained within 2x the bytes held", () => {
    const q = new ByteQueue();
    for (let i = 0; i < 500; i++) {
      q.push(bytes(1));
      q.push(new Uint8Array(COPY_BELOW));
      expect(q.retained).toBeLessThanOrEqual(retainBound(q.length, COPY_BELOW));
    }
    expect(q.retained).toBeLessThanOrEqual(q.length * 1.01);
  });

  test("take returns fresh copies, also of bytes still in a block that keeps filling", () => {
    const q = new ByteQueue();
    q.push(bytes(1, 2, 3));
    const t = q.take(2);
    q.push(bytes(4, 5));
    expect([...t]).toEqual([1, 2]);
    expect([...q.take(3)]).toEqual([3, 4, 5]);
    expect([...q.take(0, bytes(7, 8))]).toEqual([7, 8]);
    q.push(bytes(6));
    expect([...q.take(1, bytes(7))]).toEqual([7, 6]);
  });

  test("40k peeks at growing offsets over 40k one-byte chunks walk O(1) entries each", () => {
    const q = new ByteQueue();
    const steps = queueWork.steps;
    for (let i = 0; i < 40_000; i++) {
      q.push(bytes(i & 0xff));
      expect(q.byteAt(i)).toBe(i & 0xff);
      if (i >= 8) expect(q.peek(i - 8, 8).byteLength).toBe(8);
    }
    expect(queueWork.steps - steps).toBeLessThan((4 * 40_000) / (2 * COPY_BELOW) + 100);
  });

  test("40k peeks at growing offsets over 40k chunks of 8 KiB walk O(1) entries each", () => {
    const q = new ByteQueue();
    const chunk = new Uint8Array(COPY_BELOW);
    const steps = queueWork.steps;
    for (let i = 0; i < 40_000; i++) {
      q.push(chunk);
      q.peek(i * COPY_BELOW + 10, 16);
    }
    expect(queueWork.steps - steps).toBeLessThan(3 * 40_000);
  });

  test("thousands of consumed entries are dropped from the front without losing the look-up cursor", () => {
    const q = new ByteQueue();
    const n = 5000;
    for (let i = 0; i < n; i++) q.push(new Uint8Array(COPY_BELOW).fill(i & 0xff));
    expect(q.byteAt(4000 * COPY_BELOW)).toBe(4000 & 0xff); // cursor far ahead
    for (let i = 0; i < 3000; i++) q.skip(COPY_BELOW); // compaction happens on the way
    expect(q.byteAt(1000 * COPY_BELOW)).toBe(4000 & 0xff);
    expect(q.byteAt(0)).toBe(3000 & 0xff);
    expect(q.peek(1999 * COPY_BELOW, 2)[0]).toBe(4999 & 0xff);
    expect(q.retained).toBe(q.length);
  });

  test("random pushes, peeks, takes and skips agree with a plain array and stay within the memory bound", () => {
    const rnd = prng(7);
    const q = new ByteQueue();
    let model: number[] = [];
    let next = 0;
    for (let op = 0; op < 20_000; op++) {
      const r = rnd();
      if (r < 0.45 || model.length === 0) {
        // Mostly tiny chunks, sometimes long ones (kept by reference).
        const n = rnd() < 0.9 ? 1 + Math.floor(rnd() * 40) : COPY_BELOW + Math.floor(rnd() * 3 * COPY_BELOW);
        const c = new Uint8Array(n).map(() => next++ & 0xff);
        q.push(c);
        model.push(...c);
      } else if (r < 0.75) {
        const off = Math.floor(rnd() * model.length);
        const len = Math.floor(rnd() * Math.min(64, model.length - off + 1));
        expect([...q.peek(off, len)]).toEqual(model.slice(off, off + len));
        expect(q.byteAt(off)).toBe(model[off]!);
      } else if (r < 0.9) {
        const len = Math.floor(rnd() * Math.min(model.length + 1, 3 * COPY_BELOW));
        expect([...q.take(len)]).toEqual(model.slice(0, len));
        model = model.slice(len);
      } else {
        const len = Math.floor(rnd() * (model.length + 1));
        q.skip(len);
        model = model.slice(len);
      }
      expect(q.length).toBe(model.length);
      expect(q.retained).toBeLessThanOrEqual(retainBound(model.length, 4 * COPY_BELOW));
    }
  });
});
