import { describe, expect, test } from "bun:test";
import { GopCache } from "../../src/stream/gop-cache.ts";

const frag = (seq: number, keyframe: boolean, size = 10) => ({ bytes: new Uint8Array(size), keyframe, seq });

describe("GopCache", () => {
  test("holds the latest keyframe fragment and everything after it", () => {
    const c = new GopCache(1000);
    c.add(frag(1, true));
    c.add(frag(2, false));
    c.add(frag(3, true));
    c.add(frag(4, false));
    c.add(frag(5, false));
    expect(c.fragments.map((f) => f.seq)).toEqual([3, 4, 5]);
    expect(c.bytes).toBe(30);
  });

  test("ignores fragments until the first keyframe", () => {
    const c = new GopCache(1000);
    c.add(frag(1, false));
    expect(c.fragments).toHaveLength(0);
    c.add(frag(2, true));
    expect(c.fragments.map((f) => f.seq)).toEqual([2]);
  });

  test("a GOP outgrowing the cap is dropped whole and caching resumes at the next keyframe", () => {
    const c = new GopCache(25);
    c.add(frag(1, true));
    c.add(frag(2, false));
    c.add(frag(3, false)); // 30 > 25
    expect(c.fragments).toHaveLength(0);
    c.add(frag(4, false));
    expect(c.fragments).toHaveLength(0);
    c.add(frag(5, true));
    expect(c.fragments.map((f) => f.seq)).toEqual([5]);
  });

  test("a cap of 0 disables caching", () => {
    const c = new GopCache(0);
    c.add(frag(1, true));
    expect(c.fragments).toHaveLength(0);
  });
});
