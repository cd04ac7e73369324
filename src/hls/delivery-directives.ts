/**
 * LL-HLS Delivery Directives on a playlist request (RFC 8216bis §6.2.5), pure: `_HLS_msn`, `_HLS_part`
 * (Blocking Playlist Reload, §6.2.5.2) and `_HLS_skip` (Playlist Delta Updates, §6.2.5.1).
 */

import type { LiveWindow } from "./live-window.ts";

export interface Directives {
  msn?: number;
  part?: number;
  skip: boolean;
}

export type DirectivesResult = { ok: true; directives: Directives } | { ok: false; message: string };

/** Largest sequence number or part index accepted (bounded digits: no float or exponent tricks). */
const DECIMAL = /^[0-9]{1,15}$/;

/** Reads the directives; anything malformed is an error with a message for a 400 answer. */
export function parseDirectives(params: URLSearchParams): DirectivesResult {
  const one = (name: string): string | undefined | null => {
    const all = params.getAll(name);
    if (all.length > 1) return null;
    return all[0];
  };
  const msnText = one("_HLS_msn");
  const partText = one("_HLS_part");
  const skipText = one("_HLS_skip");
  if (msnText === null || partText === null || skipText === null)
    return { ok: false, message: "a delivery directive (_HLS_msn, _HLS_part, _HLS_skip) is given twice" };
  if (msnText !== undefined && !DECIMAL.test(msnText)) return { ok: false, message: "_HLS_msn must be a media sequence number (digits)" };
  if (partText !== undefined && !DECIMAL.test(partText)) return { ok: false, message: "_HLS_part must be a part index (digits)" };
  // §6.2.5.2: _HLS_part without _HLS_msn is a Bad Request.
  if (partText !== undefined && msnText === undefined) return { ok: false, message: "_HLS_part needs _HLS_msn" };
  if (skipText !== undefined && skipText !== "YES" && skipText !== "v2") return { ok: false, message: "_HLS_skip must be YES or v2" };
  const directives: Directives = { skip: skipText !== undefined };
  if (msnText !== undefined) directives.msn = Number(msnText);
  if (partText !== undefined) directives.part = Number(partText);
  return { ok: true, directives };
}

/**
 * The Advance Part Limit (§6.2.5.2): three divided by the Part Target Duration when that is under a
 * second, else three.
 */
export function advancePartLimit(partTarget: number): number {
  return partTarget > 0 && partTarget < 1 ? Math.floor(3 / partTarget) : 3;
}

/**
 * What a blocking request deserves now: `ready` (answer), `wait` (hold until the window changes), or
 * `too-far` (§6.2.5.2: an msn beyond the last segment plus two, or a part beyond the last part by the
 * Advance Part Limit: 400). A playlist with EXT-X-ENDLIST ignores the directives (`ready`).
 */
export function blockingState(w: LiveWindow, d: Directives): "ready" | "wait" | "too-far" {
  if (d.msn === undefined || w.ended) return "ready";
  const last = w.last ?? { msn: w.nextMsn - 1, part: -1 };
  if (d.msn > last.msn + 2) return "too-far";
  if (d.part !== undefined) {
    const limit = advancePartLimit(w.partTarget);
    if (d.msn === last.msn && d.part - last.part > limit) return "too-far";
    if (d.msn > last.msn && d.part + (d.msn - last.msn) > limit) return "too-far";
  }
  return w.has(d.msn, d.part) ? "ready" : "wait";
}
