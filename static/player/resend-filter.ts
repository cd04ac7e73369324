/**
 * After a reconnect to the same publisher the server resends stream + init + its cached GOP, which
 * overlaps what this player already has. Appending that overlap again makes Chromium drop ~1 s of
 * video frames around the playhead, so the overlap is filtered out here:
 *
 * `arm()` when an identical init segment arrives. The first fragment after it must look like a
 * resend of the same timeline (start > 0.5 s and within 15 s before the last fragment taken) or the
 * filter disarms itself (a restarted publisher starts again near 0). Armed, it drops fragments up
 * to and including the last one taken (same start and size), or until one starts later than it.
 */

import type { FragmentInfo } from "./fragment-info.ts";

interface Seen {
  start: number;
  size: number;
}

export class ResendFilter {
  #last: Seen | undefined;
  #armed: Seen | undefined;
  #checked = false;

  /** A fragment was taken into the queue. */
  taken(info: FragmentInfo, size: number): void {
    if (Number.isFinite(info.start)) this.#last = { start: info.start, size };
  }

  /** The same init segment was sent again: what follows may be a resend. */
  arm(): void {
    this.#armed = this.#last;
    this.#checked = false;
  }

  /** Forget everything (a new MediaSource, or another stream). */
  reset(): void {
    this.#last = this.#armed = undefined;
  }

  /** True if this fragment is a copy of one already taken: drop it. */
  duplicate(info: FragmentInfo, size: number): boolean {
    const a = this.#armed;
    if (!a) return false;
    if (!this.#checked) {
      this.#checked = true;
      if (!(info.start > 0.5 && info.start >= a.start - 15)) this.#armed = undefined;
    }
    if (!this.#armed || !Number.isFinite(info.start) || info.start > a.start + 1e-6) {
      this.#armed = undefined;
      return false;
    }
    if (info.start === a.start && size === a.size) this.#armed = undefined;
    return true;
  }
}
