import { expect, test } from "bun:test";
import { prftWallclock } from "../../src/stream/wallclock.ts";

test("a prft gives the wallclock; one whose media time is far from the decode time falls back (no date a file name cannot hold)", () => {
  const frag = { decodeTime: 180_000, timescale: 90_000, prftWallclockMs: 1_800_000_000_000, prftMediaTime: 90_000 };
  expect(prftWallclock(frag) ?? 5).toBe(1_800_000_001_000);
  expect(prftWallclock({ ...frag, prftMediaTime: 2 ** 62 }) ?? 5).toBe(5);
  expect(prftWallclock({ ...frag, decodeTime: 2 ** 62 }) ?? 5).toBe(5);
  expect(prftWallclock({ ...frag, prftWallclockMs: -10_000 }) ?? 5).toBe(5);
});
