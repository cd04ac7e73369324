import { describe, expect, test } from "bun:test";
import { concat } from "../../helpers/feed.ts";
import { fixture } from "../../helpers/fixtures.ts";
import { demuxer, frames, MiB, packetize, packets, patSection, pes, pidOf, pmtSection, reasonOf, whole } from "./helpers.ts";

/** PES-level abuse: packets that never end, sizes that lie, and the memory they may take. */

const CLEAN = fixture("h264-aac.mpegts");
const VIDEO = 0x100;
const AUDIO = 0x101;

/** PAT + PMT (H.264 on 0x100, AAC on 0x101). */
function tables(): Uint8Array[] {
  return [
    ...packetize(0, patSection(0x1000), { n: 0 }, true),
    ...packetize(
      0x1000,
      pmtSection(0, VIDEO, [
        [0x1b, VIDEO],
        [0x0f, AUDIO],
      ]),
      { n: 0 },
      true,
    ),
  ];
}

/** An endless video PES: a unit start, then payload packets forever, produced `chunk` bytes at a time. */
function* endlessPes(chunk: number): Generator<Uint8Array> {
  const cc = { n: 0 };
  yield concat([...tables(), ...packetize(VIDEO, pes(0xe0, new Uint8Array(100), 90000, undefined, true), cc)]);
  const body = new Uint8Array(chunk);
  const filler = new Uint8Array(184).fill(0x11);
  for (;;) {
    for (let o = 0; o + 188 <= chunk; o += 188) {
      body[o] = 0x47;
      body[o + 1] = VIDEO >> 8;
      body[o + 2] = VIDEO & 0xff;
      body[o + 3] = 0x10 | (cc.n++ & 0x0f);
      body.set(filler, o + 4);
    }
    yield body.slice(0, chunk - (chunk % 188));
  }
}

function heap(): number {
  Bun.gc(true);
  const m = process.memoryUsage();
  return Math.max(m.heapUsed, m.arrayBuffers);
}

describe("MPEG-TS: PES that never ends", () => {
  test("64 MiB of one PES behind a 1 MiB budget: dropped and counted, held bytes stay under the budget, heap does not grow", () => {
    const d = demuxer(MiB);
    const gen = endlessPes(64 * 1024);
    let pushed = 0;
    let maxBuffered = 0;
    let before = 0;
    for (const chunk of gen) {
      expect(d.push(chunk, pushed)).toEqual([]);
      pushed += chunk.byteLength;
      maxBuffered = Math.max(maxBuffered, d.buffered);
      if (before === 0 && pushed > 4 * MiB) before = heap();
      if (pushed > 64 * MiB) break;
    }
    const grown = heap() - before;
    expect(maxBuffered).toBeLessThanOrEqual(MiB);
    expect(d.counters.oversizedPes).toBe(1);
    expect(grown).toBeLessThan(16 * MiB);
  });

  test("maxPesBytes caps one PES below the budget", () => {
    const d = demuxer(8 * MiB, 64 * 1024);
    const gen = endlessPes(16 * 1024);
    let n = 0;
    for (const chunk of gen) {
      d.push(chunk, 0);
      if (++n > 20) break;
    }
    expect(d.counters.oversizedPes).toBe(1);
    expect(d.buffered).toBeLessThan(188 * 2);
  });

  test("the same endless PES one byte at a time: identical counters, bounded memory", () => {
    const d = demuxer(256 * 1024);
    const gen = endlessPes(4096);
    let pushed = 0;
    let maxBuffered = 0;
    for (const chunk of gen) {
      for (let i = 0; i < chunk.byteLength; i++) d.push(chunk.subarray(i, i + 1), 0);
      pushed += chunk.byteLength;
      maxBuffered = Math.max(maxBuffered, d.buffered);
      if (pushed > MiB) break;
    }
    expect(maxBuffered).toBeLessThanOrEqual(256 * 1024);
    expect(d.counters.oversizedPes).toBe(1);
  });
});

describe("MPEG-TS: sizes that lie", () => {
  test("PES_packet_length larger than what comes before the next unit start: the PES is dropped as truncated", () => {
    const list = packets(CLEAN).map((p) => p.slice());
    // Make one audio PES claim 0xFFFF bytes.
    const i = list.findIndex((p, k) => k > 300 && pidOf(p) === AUDIO && (p[1]! & 0x40) !== 0);
    const at = list[i]![3]! & 0x20 ? 5 + list[i]![4]! : 4;
    list[i]![at + 4] = 0xff;
    list[i]![at + 5] = 0xff;
    const d = demuxer();
    const events = whole(d, concat(list));
    expect(d.counters.damagedPes).toBe(1);
    expect(frames(events, "audio").length).toBeLessThan(frames(whole(demuxer(), CLEAN), "audio").length);
    expect(frames(events, "video").length).toBe(75);
  });

  test("a PES that is not a PES (no 00 00 01), and one whose header length runs past it: dropped as damaged", () => {
    const cc = { n: 0 };
    const bad1 = packetize(AUDIO, Uint8Array.of(0, 0, 2, 0xc0, 0, 10, 0x80, 0x80, 5, 0x21, 0, 1, 0, 1), cc);
    const bad2 = packetize(AUDIO, Uint8Array.of(0, 0, 1, 0xc0, 0, 8, 0x80, 0x80, 200, 0x21, 0, 1, 0, 1), cc);
    const d = demuxer();
    const events = whole(
      d,
      concat([
        ...tables(),
        ...bad1,
        ...bad2,
        ...packets(CLEAN)
          .slice(3)
          .filter((p) => pidOf(p) !== AUDIO),
      ]),
    );
    expect(d.counters.damagedPes).toBe(2);
    expect(frames(events, "video").length).toBe(75);
  });

  test("an ADTS header claiming 8191 bytes in a short PES, and random bytes as audio: dropped and counted, never thrown", () => {
    const cc = { n: 0 };
    const liar = Uint8Array.of(0xff, 0xf1, 0x4c, 0x83, 0xff, 0xff, 0xfc, 1, 2, 3);
    let seed = 5;
    const junk = Uint8Array.from({ length: 3000 }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff);
    const audio = [
      ...packetize(AUDIO, pes(0xc0, liar, 90000), cc),
      ...packetize(AUDIO, pes(0xc0, junk, 92000), cc),
      ...packetize(AUDIO, pes(0xc0, liar.subarray(0, 3), 94000), cc),
    ];
    const d = demuxer();
    expect(
      reasonOf(() =>
        whole(
          d,
          concat([
            ...tables(),
            ...audio,
            ...packets(CLEAN)
              .slice(3)
              .filter((p) => pidOf(p) !== AUDIO),
          ]),
        ),
      ),
    ).toBe("no error");
    expect(d.counters.malformedData).toBeGreaterThan(0);
  });

  test("random bytes as video access units, behind a real SPS/PPS: never thrown", () => {
    let seed = 9;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    const list = packets(CLEAN).map((p) => p.slice());
    for (const p of list) {
      if (pidOf(p) !== VIDEO || p[1]! & 0x40) continue;
      const start = p[3]! & 0x20 ? 5 + p[4]! : 4;
      for (let i = start; i < 188; i++) if (rnd() < 0.05) p[i] = rnd();
    }
    expect(reasonOf(() => whole(demuxer(), concat(list)))).toBe("no error");
  });
});
