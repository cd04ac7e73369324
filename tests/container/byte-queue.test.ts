import { describe, expect, test } from "bun:test";
import { ByteQueue } from "../../src/container/byte-queue.ts";

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
