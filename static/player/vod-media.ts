/**
 * Media helpers of the VOD loader (vod-player.ts): reading a fetched init section (its facts for
 * `inspectFragment` and its MSE type, with the container code the server uses), and running one
 * SourceBuffer operation to its `updateend`.
 */

import { ParseError } from "../../src/container/errors.ts";
import { readInitFacts } from "../../src/container/inspect.ts";
import { buildMime } from "../../src/container/mime.ts";
import { fetchBytes, HttpRefusal } from "./range-fetch.ts";
import type { Resource } from "./vod-timeline.ts";

/** A fetched init section (EXT-X-MAP). */
export interface VodInit {
  key: string;
  bytes: Uint8Array;
  facts: ReturnType<typeof readInitFacts>;
  /** e.g. `video/mp4; codecs="avc1.64001E,mp4a.40.2"`. */
  mime: string;
}

/** Fetches and reads an fMP4 init section; one that cannot be read is an `HttpRefusal` (not retried). */
export async function loadInit(res: Resource, maxBytes: number, signal: AbortSignal): Promise<VodInit> {
  const bytes = await fetchBytes(res, maxBytes, signal);
  try {
    const facts = readInitFacts(bytes);
    if (facts.format !== "fmp4") throw new ParseError("malformed", "not an fMP4 init section");
    return { key: res.key, bytes, facts, mime: buildMime("fmp4", facts.movie.tracks) };
  } catch (e) {
    throw new HttpRefusal(0, `the init section ${new URL(res.url).pathname} cannot be read: ${(e as Error).message}`);
  }
}

/**
 * Runs `call` (appendBuffer / remove) on `sb` and resolves at its `updateend` (also after `abort()`);
 * an `error` event or a throwing call (e.g. QuotaExceededError) rejects.
 */
export function sourceBufferOp(sb: SourceBuffer, call: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (e: Event) => {
      sb.removeEventListener("updateend", done);
      sb.removeEventListener("error", done);
      if (e.type === "error") reject(new Error("the browser could not decode the recording's media"));
      else resolve();
    };
    sb.addEventListener("updateend", done);
    sb.addEventListener("error", done);
    try {
      call();
    } catch (err) {
      sb.removeEventListener("updateend", done);
      sb.removeEventListener("error", done);
      reject(err);
    }
  });
}
