import { describe, expect, test } from "bun:test";
import { ParseError, type ParseErrorReason } from "../../../src/container/errors.ts";
import { createFmp4Parser } from "../../../src/container/fmp4/parser.ts";
import { type ContainerParser, DEFAULT_PARSER_OPTIONS } from "../../../src/container/types.ts";
import { concat, feedRandom, feedWhole, prng } from "../../helpers/feed.ts";
import { fixture } from "../../helpers/fixtures.ts";
import { ascii, box, bytes, scanTopLevel, u32 } from "./build.ts";

const parser = (maxElementBytes = DEFAULT_PARSER_OPTIONS.maxElementBytes) => createFmp4Parser({ maxElementBytes });

function reasonOf(fn: () => unknown): ParseErrorReason | "no error" {
  try {
    fn();
  } catch (e) {
    if (e instanceof ParseError) return e.reason;
    throw e;
  }
  return "no error";
}

/** The bytes of `name` up to the end of its moov. */
function initOf(name: string): Uint8Array {
  const file = fixture(name);
  const moov = scanTopLevel(file).find((b) => b.type === "moov")!;
  return file.slice(0, moov.start + moov.size);
}

/** Offset of the `n`-th occurrence of `text` in `b` at or after `from`. */
function indexOf(b: Uint8Array, text: string, from = 0): number {
  const needle = ascii(text);
  outer: for (let i = from; i + needle.length <= b.byteLength; i++) {
    for (let j = 0; j < needle.length; j++) if (b[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function setU32(b: Uint8Array, at: number, v: number): void {
  new DataView(b.buffer, b.byteOffset).setUint32(at, v);
}

describe("box sizes", () => {
  test("a size-0 box (to end of file) is unsupported-size, at the start or after the init", () => {
    expect(reasonOf(() => parser().push(bytes(u32(0), ascii("ftyp"))))).toBe("unsupported-size");
    expect(reasonOf(() => parser().push(bytes(initOf("vp9.mp4"), u32(0), ascii("mdat"))))).toBe("unsupported-size");
    expect(reasonOf(() => parser().push(bytes(initOf("vp9.mp4"), u32(0), ascii("moof"))))).toBe("unsupported-size");
  });

  test("a size below the header size is malformed", () => {
    expect(reasonOf(() => parser().push(bytes(u32(7), ascii("ftyp"))))).toBe("malformed");
    expect(reasonOf(() => parser().push(bytes(u32(1), ascii("mdat"), u32(0), u32(15))))).toBe("malformed");
  });

  test("a declared size over the cap is too-large from the header alone, holding less than the cap", () => {
    const p = parser(1000);
    expect(reasonOf(() => p.push(bytes(u32(5000), ascii("ftyp"))))).toBe("too-large");
    expect(p.buffered).toBeLessThan(1000);
    const q = parser(1000);
    expect(reasonOf(() => q.push(bytes(u32(1), ascii("mdat"), u32(0x100), u32(0))))).toBe("too-large");
    expect(q.buffered).toBeLessThan(1000);
  });

  test("a dropped box (mfra) over the cap is too-large too", () => {
    const init = initOf("vp9.mp4");
    const p = parser(init.byteLength + 100);
    expect(reasonOf(() => p.push(bytes(init, u32(10_000), ascii("mfra"))))).toBe("too-large");
  });

  test("a pending fragment whose boxes each fit but together exceed the cap is too-large", () => {
    const init = initOf("h264-baseline-aac.mp4");
    const cap = Math.max(init.byteLength, 2000);
    const p = parser(cap);
    p.push(init);
    p.push(box("sidx", new Uint8Array(1500)));
    expect(reasonOf(() => p.push(bytes(u32(1000), ascii("moof"))))).toBe("too-large");
    expect(p.buffered).toBeLessThan(cap);
  });

  test("a pending init whose boxes together exceed the cap is too-large", () => {
    const p = parser(2000);
    p.push(box("ftyp", new Uint8Array(600)));
    p.push(box("free", new Uint8Array(600)));
    expect(reasonOf(() => p.push(bytes(u32(900), ascii("moov"))))).toBe("too-large");
    expect(p.buffered).toBeLessThan(2000);
  });
});

describe("stream structure", () => {
  test("a moof before any moov is fragment-before-init", () => {
    const file = fixture("h264-opus.mp4");
    const boxes = scanTopLevel(file);
    const moof = boxes.find((b) => b.type === "moof")!;
    const ftyp = file.subarray(0, boxes[0]!.size);
    expect(reasonOf(() => parser().push(bytes(ftyp, file.subarray(moof.start))))).toBe("fragment-before-init");
    expect(reasonOf(() => parser().push(file.slice(moof.start)))).toBe("fragment-before-init");
  });

  test("a moof right after a moof (no mdat) is malformed", () => {
    const file = fixture("h264-opus.mp4");
    const moof = scanTopLevel(file).find((b) => b.type === "moof")!;
    const m = file.subarray(moof.start, moof.start + moof.size);
    expect(reasonOf(() => parser().push(bytes(initOf("h264-opus.mp4"), m, m)))).toBe("malformed");
  });

  test("a moov with no audio or video track is no-usable-track", () => {
    const init = initOf("h264-baseline-aac.mp4");
    for (let at = indexOf(init, "hdlr"); at >= 0; at = indexOf(init, "hdlr", at + 4)) init.set(ascii("text"), at + 12);
    expect(reasonOf(() => parser().push(init))).toBe("no-usable-track");
  });

  test("a media track whose sample entry has no printable fourcc is unknown-codec", () => {
    const init = initOf("vp9.mp4");
    init.set([0, 1, 2, 3], indexOf(init, "vp09", indexOf(init, "stsd")));
    expect(reasonOf(() => parser().push(init))).toBe("unknown-codec");
  });

  test("an encrypted sample entry keeps its fourcc as codec string", () => {
    const init = initOf("vp9.mp4");
    init.set(ascii("encv"), indexOf(init, "vp09", indexOf(init, "stsd")));
    const [event] = parser().push(init);
    expect(event?.type === "init" && event.mime).toBe('video/mp4; codecs="encv"');
  });

  test("a fragment naming a track the moov lacks is malformed", () => {
    const file = fixture("vp9.mp4");
    const tfhd = indexOf(file, "tfhd");
    setU32(file, tfhd + 8, 99);
    expect(reasonOf(() => feedWhole(parser(), file))).toBe("malformed");
  });

  test("children of size 0, below 8 or past their parent inside moov are malformed", () => {
    for (const size of [0, 4, 7, 0x7fff_ffff]) {
      const init = initOf("h264-main-aac.mp4");
      setU32(init, indexOf(init, "mvhd") - 4, size);
      expect(reasonOf(() => parser().push(init))).toBe("malformed");
    }
  });

  test("a trun claiming more samples than it holds is malformed", () => {
    const file = fixture("h264-main-aac.mp4");
    setU32(file, indexOf(file, "trun") + 8, 0x0fff_ffff);
    expect(reasonOf(() => feedWhole(parser(), file))).toBe("malformed");
  });
});

describe("end of stream", () => {
  const file = fixture("h264-opus.mp4");
  const boxes = scanTopLevel(file);
  const moov = boxes.find((b) => b.type === "moov")!;
  const moof = boxes.find((b) => b.type === "moof")!;

  const endAfter = (b: Uint8Array): ParseErrorReason | "no error" => {
    const p = parser();
    p.push(b);
    return reasonOf(() => p.end());
  };

  test("end() inside the init is truncated", () => {
    expect(endAfter(file.slice(0, moov.start + moov.size - 1))).toBe("truncated");
    expect(endAfter(file.slice(0, 3))).toBe("truncated");
  });

  test("end() after a complete moof without its mdat is truncated", () => {
    expect(endAfter(file.slice(0, moof.start + moof.size))).toBe("truncated");
  });

  test("end() inside an mdat, or after prefix boxes only, is truncated", () => {
    expect(endAfter(file.slice(0, moof.start + moof.size + 100))).toBe("truncated");
    expect(endAfter(bytes(file.subarray(0, moof.start), box("sidx", new Uint8Array(20))))).toBe("truncated");
  });

  test("end() inside a dropped box is truncated", () => {
    expect(endAfter(bytes(file.subarray(0, moof.start), u32(100), ascii("mfra")))).toBe("truncated");
  });

  test("end() after the init alone, or on nothing, returns no events", () => {
    const p = parser();
    p.push(file.slice(0, moov.start + moov.size));
    expect(p.end()).toEqual([]);
    expect(parser().end()).toEqual([]);
  });

  test("after an error the parser keeps failing with the same reason", () => {
    const p = parser();
    expect(reasonOf(() => p.push(bytes(u32(0), ascii("ftyp"))))).toBe("unsupported-size");
    expect(reasonOf(() => p.push(file))).toBe("unsupported-size");
    expect(reasonOf(() => p.end())).toBe("unsupported-size");
  });
});

describe("hostile input only ever raises ParseError", () => {
  const run = (p: ContainerParser, input: Uint8Array, seed: number) => {
    try {
      feedRandom(p, input, seed, 997);
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
    }
  };

  test("random garbage after a valid init", () => {
    const init = initOf("h264-baseline-aac.mp4");
    for (let seed = 1; seed <= 200; seed++) {
      const rnd = prng(seed);
      const garbage = Uint8Array.from({ length: 1 + Math.floor(rnd() * 3000) }, () => Math.floor(rnd() * 256));
      run(parser(1 << 20), concat([init, garbage]), seed);
    }
  });

  test("random byte flips anywhere in fixtures", () => {
    for (const name of ["h264-aac-dash-prft.mp4", "h264-every-frame.mp4", "av1-opus.mp4", "aac-only.mp4"]) {
      const original = fixture(name);
      const limit = Math.min(original.byteLength, 40_000); // headers, moov and the first fragments
      for (let seed = 1; seed <= 60; seed++) {
        const rnd = prng(seed);
        const file = original.slice();
        for (let k = 0; k < 1 + (seed % 4); k++) file[Math.floor(rnd() * limit)] = Math.floor(rnd() * 256);
        run(parser(1 << 20), file, seed);
      }
    }
  });

  test("random garbage with box-like headers inside a moof", () => {
    const file = fixture("h264-main-aac.mp4");
    const moof = scanTopLevel(file).find((b) => b.type === "moof")!;
    for (let seed = 1; seed <= 200; seed++) {
      const rnd = prng(seed);
      const f = file.slice();
      // Overwrite a random span of the moof with small box headers of random sizes and types.
      const at = moof.start + 8 + Math.floor(rnd() * (moof.size - 16));
      const types = ["traf", "tfhd", "trun", "tfdt", "mfhd", "moof"];
      f.set(
        bytes(u32(Math.floor(rnd() * 64)), ascii(types[Math.floor(rnd() * types.length)]!)).subarray(0, moof.start + moof.size - at),
        at,
      );
      run(parser(1 << 20), f, seed);
    }
  });
});
