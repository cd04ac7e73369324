import { describe, expect, test } from "bun:test";
import { advancePartLimit, blockingState, parseDirectives } from "../../src/hls/delivery-directives.ts";
import { LiveWindow } from "../../src/hls/live-window.ts";
import type { BuiltPart } from "../../src/hls/part-builder.ts";

const parse = (q: string) => parseDirectives(new URLSearchParams(q));
const part = (segmentStart: boolean): BuiltPart => ({
  bytes: new Uint8Array(8),
  duration: 0.2,
  independent: segmentStart,
  start: 0,
  segmentStart,
});

/** Segments 0..2 complete with 5 parts each, segment 3 open with 2 parts. */
function window(): LiveWindow {
  const w = new LiveWindow({ segments: 6, maxBytes: 1 << 20, partTarget: 0.2 }, "e", new Uint8Array(10));
  for (let s = 0; s < 3; s++) for (let p = 0; p < 5; p++) w.addPart(part(p === 0));
  w.addPart(part(true));
  w.addPart(part(false));
  return w;
}

describe("delivery directives", () => {
  test("well-formed directives are read", () => {
    expect(parse("_HLS_msn=12&_HLS_part=3&_HLS_skip=YES")).toEqual({ ok: true, directives: { msn: 12, part: 3, skip: true } });
    expect(parse("_HLS_skip=v2")).toEqual({ ok: true, directives: { skip: true } });
    expect(parse("token=x")).toEqual({ ok: true, directives: { skip: false } });
  });

  test("malformed, repeated or hostile values are refused with a reason (400)", () => {
    for (const q of [
      "_HLS_part=1",
      "_HLS_msn=-1",
      "_HLS_msn=1e3",
      "_HLS_msn=0x10",
      "_HLS_msn=1.5",
      "_HLS_msn=",
      "_HLS_msn=9999999999999999999",
      "_HLS_msn=1&_HLS_msn=2",
      "_HLS_msn=1&_HLS_part=%00",
      "_HLS_skip=NO",
      "_HLS_skip=yes",
      `_HLS_msn=${"9".repeat(5000)}`,
    ]) {
      const r = parse(q);
      expect(r.ok, q).toBe(false);
      if (!r.ok) expect(r.message).toMatch(/_HLS_/);
    }
  });

  test("the Advance Part Limit is 3 / PART-TARGET under a second, else 3", () => {
    expect(advancePartLimit(0.2)).toBe(15);
    expect(advancePartLimit(0.33334)).toBe(8);
    expect(advancePartLimit(1)).toBe(3);
    expect(advancePartLimit(2)).toBe(3);
  });

  test("blocking state: ready for what the playlist holds, wait for what comes next, too far beyond the limits", () => {
    const w = window();
    const st = (msn?: number, p?: number) => blockingState(w, { msn, part: p, skip: false });
    expect(st()).toBe("ready");
    expect(st(2)).toBe("ready");
    expect(st(3)).toBe("wait");
    expect(st(3, 1)).toBe("ready");
    expect(st(3, 2)).toBe("wait");
    expect(st(2, 9)).toBe("ready"); // past segment 2's last part = part 0 of segment 3, which exists
    expect(st(0, 0)).toBe("ready");
    expect(st(4)).toBe("wait");
    expect(st(5)).toBe("wait");
    expect(st(6)).toBe("too-far"); // beyond the last segment (3) plus two
    expect(st(3, 1 + 15)).toBe("wait");
    expect(st(3, 1 + 16)).toBe("too-far");
    expect(st(4, 14)).toBe("wait");
    expect(st(4, 15)).toBe("too-far");
    w.end();
    expect(st(99, 99)).toBe("ready"); // EXT-X-ENDLIST: directives are ignored
  });
});
