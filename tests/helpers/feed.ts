import type { ContainerParser, ParserEvent } from "../../src/container/types.ts";

/** Deterministic PRNG (mulberry32) so random split points are reproducible from a seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Feeds `bytes` to a fresh parser cut at the given chunk sizes; returns all events including end(). */
export function feedChunks(parser: ContainerParser, bytes: Uint8Array, sizes: Iterable<number>): ParserEvent[] {
  const events: ParserEvent[] = [];
  let pos = 0;
  for (const n of sizes) {
    if (pos >= bytes.byteLength) break;
    // Copy each chunk like a socket would deliver it, so parsers cannot rely on one backing buffer.
    events.push(...parser.push(bytes.slice(pos, Math.min(bytes.byteLength, pos + n))));
    pos += n;
  }
  if (pos < bytes.byteLength) events.push(...parser.push(bytes.slice(pos)));
  events.push(...parser.end());
  return events;
}

export function feedWhole(parser: ContainerParser, bytes: Uint8Array): ParserEvent[] {
  return feedChunks(parser, bytes, [bytes.byteLength]);
}

export function feedByteByByte(parser: ContainerParser, bytes: Uint8Array): ParserEvent[] {
  return feedChunks(
    parser,
    bytes,
    (function* () {
      for (;;) yield 1;
    })(),
  );
}

/** Random chunk sizes in [1, maxChunk], seeded. */
export function feedRandom(parser: ContainerParser, bytes: Uint8Array, seed: number, maxChunk = 4096): ParserEvent[] {
  const rnd = prng(seed);
  return feedChunks(
    parser,
    bytes,
    (function* () {
      for (;;) yield 1 + Math.floor(rnd() * maxChunk);
    })(),
  );
}

/** A comparable form of events: byte arrays as length + hash so `toEqual` diffs stay readable. */
export function summarize(events: ParserEvent[]): unknown[] {
  return events.map((e) => ({ ...e, bytes: `${e.bytes.byteLength}:${fnv1a(e.bytes)}` }));
}

function fnv1a(b: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.byteLength; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return (h >>> 0).toString(16);
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}
