/**
 * Which recording files to delete, pure: files whose last write is older than the maximum age, then,
 * while all files together exceed the byte budget, the oldest remaining ones. A file being written
 * is never chosen (it counts toward the budget all the same).
 */

export interface StoredFile {
  /** Opaque identity handed back in the result (e.g. "stream/file"). */
  key: string;
  /** Wallclock of the file's start (ms since the Unix epoch): the order of deletion. */
  startMs: number;
  /** Wallclock of its last write. */
  modifiedMs: number;
  bytes: number;
  /** Being written now. */
  active: boolean;
}

export interface Deletion {
  key: string;
  reason: "age" | "bytes";
}

/** Deletions for `files` at `nowMs`, oldest first; `maxAgeMs` / `maxBytes` of 0 mean no limit. */
export function chooseDeletions(files: readonly StoredFile[], nowMs: number, maxAgeMs: number, maxBytes: number): Deletion[] {
  const sorted = [...files].sort((a, b) => a.startMs - b.startMs || (a.key < b.key ? -1 : 1));
  const out: Deletion[] = [];
  let total = 0;
  const kept: StoredFile[] = [];
  for (const f of sorted) {
    if (!f.active && maxAgeMs > 0 && nowMs - f.modifiedMs > maxAgeMs) out.push({ key: f.key, reason: "age" });
    else {
      kept.push(f);
      total += f.bytes;
    }
  }
  if (maxBytes <= 0) return out;
  for (const f of kept) {
    if (total <= maxBytes) break;
    if (f.active) continue;
    out.push({ key: f.key, reason: "bytes" });
    total -= f.bytes;
  }
  return out;
}
