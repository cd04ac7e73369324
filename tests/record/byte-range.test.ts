import { expect, test } from "bun:test";
import { answerRange } from "../../src/record/byte-range.ts";

test("single ranges: first-last, open-ended, suffix, clipped to the size", () => {
  expect(answerRange("bytes=0-99", 1000)).toEqual({ kind: "partial", start: 0, end: 99 });
  expect(answerRange("bytes=900-", 1000)).toEqual({ kind: "partial", start: 900, end: 999 });
  expect(answerRange("bytes=-100", 1000)).toEqual({ kind: "partial", start: 900, end: 999 });
  expect(answerRange("bytes=-5000", 1000)).toEqual({ kind: "partial", start: 0, end: 999 });
  expect(answerRange("bytes=10-5000", 1000)).toEqual({ kind: "partial", start: 10, end: 999 });
  expect(answerRange("BYTES=1-1", 1000)).toEqual({ kind: "partial", start: 1, end: 1 });
});

test("unsatisfiable: a start at or past the end, a zero-length suffix, any range of an empty file", () => {
  for (const h of ["bytes=1000-", "bytes=5000-6000", "bytes=-0"]) expect(answerRange(h, 1000)).toEqual({ kind: "unsatisfiable" });
  expect(answerRange("bytes=-10", 0)).toEqual({ kind: "unsatisfiable" });
});

test("no header, several ranges, other units or malformed ones: the whole representation", () => {
  for (const h of [null, "bytes=0-1,4-5", "items=0-1", "bytes=", "bytes=-", "bytes=5-1", "bytes=a-b", `bytes=0-${"9".repeat(300)}`]) {
    expect(answerRange(h, 1000)).toEqual({ kind: "whole" });
  }
});
