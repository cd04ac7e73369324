import { createParser } from "../../src/container/index.ts";
import type { Plan } from "./recording.ts";
import { median } from "./stats.ts";

/**
 * Parser throughput: a recording fed in 64 KiB chunks to a fresh fMP4 / WebM push parser, next to two
 * references over the same chunks: copying each chunk into one preallocated buffer the size of the
 * recording (one memcpy of every byte: the physical limit), and `Uint8Array.slice` of each chunk (a
 * fresh allocation + copy per chunk, as a parser emitting copies must do at least once).
 * Each repetition handles the recording `passes` times; the median over `reps` repetitions is reported.
 */

export interface ParserResult {
  recording: string;
  format: string;
  mb: number;
  medianFragmentBytes: number;
  parseMBps: number;
  copyMBps: number;
  sliceMBps: number;
  parseRunsMBps: number[];
}

const CHUNK = 64 * 1024;

function timed(mb: number, fn: () => void): number {
  const t = performance.now();
  fn();
  return mb / ((performance.now() - t) / 1000);
}

export function measureParser(plan: Plan, reps = 9, passes = 5): ParserResult {
  const chunks: Uint8Array[] = [];
  for (let o = 0; o < plan.bytes.byteLength; o += CHUNK) chunks.push(plan.bytes.subarray(o, Math.min(o + CHUNK, plan.bytes.byteLength)));
  const mb = (plan.bytes.byteLength * passes) / 1e6;
  const dst = new Uint8Array(plan.bytes.byteLength);
  let events = 0;
  const parse = () => {
    for (let p = 0; p < passes; p++) {
      const parser = createParser(plan.format, { maxElementBytes: 32 * 1024 * 1024 });
      for (const c of chunks) events += parser.push(c).length;
      parser.end();
    }
  };
  const copy = () => {
    for (let p = 0; p < passes; p++)
      for (let i = 0, off = 0; i < chunks.length; off += chunks[i]!.byteLength, i++) dst.set(chunks[i]!, off);
  };
  let keep = 0;
  const slice = () => {
    for (let p = 0; p < passes; p++) for (const c of chunks) keep += c.slice().byteLength;
  };
  for (let w = 0; w < 3; w++) parse(), copy(), slice(); // warm-up (JIT tiers)
  const runs = { parse: [] as number[], copy: [] as number[], slice: [] as number[] };
  for (let r = 0; r < reps; r++) {
    runs.parse.push(timed(mb, parse));
    runs.copy.push(timed(mb, copy));
    runs.slice.push(timed(mb, slice));
  }
  if (events !== (plan.fragments.length + 1) * passes * (reps + 3) || keep === 0)
    throw new Error(`parser emitted ${events} events, expected ${(plan.fragments.length + 1) * passes * (reps + 3)}`);
  const sizes = plan.fragments.map((f) => f.length);
  return {
    recording: plan.path.split("/").pop()!,
    format: plan.format,
    mb: plan.bytes.byteLength / 1e6,
    medianFragmentBytes: median(sizes),
    parseMBps: median(runs.parse),
    copyMBps: median(runs.copy),
    sliceMBps: median(runs.slice),
    parseRunsMBps: runs.parse,
  };
}
