import type { CachedFragment } from "./gop-cache.ts";

/** The latest wallclock Sluice states for media: a four-digit year (ISO 8601 dates, recording names). */
const MAX_WALLCLOCK_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Whether `ms` is a wallclock Sluice can state: from 1970 to the end of the year 9999. */
export function isStatableWallclock(ms: number): boolean {
  return ms >= 0 && ms <= MAX_WALLCLOCK_MS;
}

/**
 * The wallclock (ms since the Unix epoch) of a fragment's decode time, from its `prft` (ISO/IEC
 * 14496-12 §8.16.5); undefined without one, or when it names a date outside 1970–9999 (a prft media
 * time far from the decode time: a publisher's timestamps, never a date to state).
 */
export function prftWallclock(
  f: Pick<CachedFragment, "decodeTime" | "timescale" | "prftWallclockMs" | "prftMediaTime">,
): number | undefined {
  if (f.prftWallclockMs === undefined || f.prftMediaTime === undefined || f.decodeTime === undefined) return undefined;
  if (!(f.timescale !== undefined && f.timescale > 0)) return undefined;
  const wall = f.prftWallclockMs + ((f.decodeTime - f.prftMediaTime) / f.timescale) * 1000;
  return isStatableWallclock(wall) ? wall : undefined;
}
