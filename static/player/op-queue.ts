/**
 * The ordered, bounded queue of SourceBuffer operations. Appends, init segments and removals go
 * through it so that nothing touches the SourceBuffer while it is `updating`.
 *
 * Bounds: `maxBytes` and `maxCount`. On overflow every queued media fragment is dropped (init and
 * remove operations stay, in order) and the queue *resyncs*: it refuses media fragments until one
 * that is a sync point (contains a video keyframe) arrives. `resync()` does the same on demand.
 */

import type { FragmentInfo } from "./fragment-info.ts";

/** Append one media fragment. */
export interface MediaOp {
  kind: "media";
  bytes: Uint8Array;
  info: FragmentInfo;
}

/**
 * Append an init segment. `first`: into a fresh SourceBuffer. `continue`: set timestampOffset so the
 * next media fragment starts at the current buffered end. `changeType`: `changeType(mime)`, then
 * like `continue`. `resume`: the same init segment again (a reconnect to the same publisher): if
 * the next fragment's timestamps carry on from the last appended ones, nothing is appended and the
 * timestampOffset stays; else like `continue`.
 */
export interface InitOp {
  kind: "init";
  bytes: Uint8Array;
  mime: string;
  mode: "first" | "continue" | "changeType" | "resume";
}

/** Remove [start, end) seconds from the SourceBuffer. */
export interface RemoveOp {
  kind: "remove";
  start: number;
  end: number;
}

export type Op = MediaOp | InitOp | RemoveOp;

export class OpQueue {
  #ops: Op[] = [];
  #bytes = 0;
  #awaitingSync = false;
  /** Media fragments dropped so far (overflow, resync, idle trimming). */
  dropped = 0;

  constructor(
    readonly maxBytes = 32 * 1024 * 1024,
    readonly maxCount = 1000,
  ) {}

  get length(): number {
    return this.#ops.length;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** True while media fragments are refused until the next sync point. */
  get awaitingSync(): boolean {
    return this.#awaitingSync;
  }

  /**
   * Queues an operation. `dropped`: a media fragment refused while awaiting a sync point.
   * `overflow`: the bounds were hit, queued media was dropped and the queue resyncs (the fragment
   * itself is kept if it is a sync point).
   */
  push(op: Op): "queued" | "dropped" | "overflow" {
    if (op.kind === "media") {
      if (this.#awaitingSync && !op.info.syncPoint) {
        this.dropped++;
        return "dropped";
      }
      this.#awaitingSync = false;
      if (this.#bytes + op.bytes.byteLength > this.maxBytes || this.#ops.length + 1 > this.maxCount) {
        this.resync();
        if (op.info.syncPoint) {
          this.#awaitingSync = false;
          this.#add(op);
        } else {
          this.dropped++;
        }
        return "overflow";
      }
    }
    this.#add(op);
    return "queued";
  }

  /** Puts an operation back at the head (an append that must be retried). */
  unshift(op: Op): void {
    this.#ops.unshift(op);
    this.#bytes += size(op);
  }

  peek(): Op | undefined {
    return this.#ops[0];
  }

  shift(): Op | undefined {
    const op = this.#ops.shift();
    if (op) this.#bytes -= size(op);
    return op;
  }

  /** The first media fragment queued behind the head (the one an `init` at the head is aligned to). */
  mediaAfterHead(): MediaOp | undefined {
    for (let i = 1; i < this.#ops.length; i++) {
      const op = this.#ops[i]!;
      if (op.kind === "media") return op;
    }
    return undefined;
  }

  /** True if a media fragment is queued. */
  hasMedia(): boolean {
    return this.#ops.some((op) => op.kind === "media");
  }

  /** True if a remove operation is already queued. */
  hasRemove(): boolean {
    return this.#ops.some((op) => op.kind === "remove");
  }

  /** Drops every queued media fragment and refuses new ones until a sync point. */
  resync(): void {
    this.#filter((op) => op.kind !== "media");
    this.#awaitingSync = true;
  }

  /** Refuses new media fragments until a sync point, keeping what is queued. */
  awaitSync(): void {
    this.#awaitingSync = true;
  }

  /**
   * Keeps only the latest GOP: drops media fragments queued before the last sync point (used while
   * a ManagedMediaSource does not want data). Init and remove operations stay.
   */
  keepLatestGop(): void {
    let last = -1;
    this.#ops.forEach((op, i) => {
      if (op.kind === "media" && op.info.syncPoint) last = i;
    });
    if (last <= 0) return;
    const cut = this.#ops.slice(0, last);
    this.#ops = [...cut.filter((op) => op.kind !== "media"), ...this.#ops.slice(last)];
    this.dropped += cut.filter((op) => op.kind === "media").length;
    this.#bytes = this.#ops.reduce((n, op) => n + size(op), 0);
  }

  /** Empties the queue and forgets the resync state. */
  clear(): void {
    this.#ops = [];
    this.#bytes = 0;
    this.#awaitingSync = false;
  }

  #add(op: Op): void {
    this.#ops.push(op);
    this.#bytes += size(op);
  }

  #filter(keep: (op: Op) => boolean): void {
    const before = this.#ops.length;
    this.#ops = this.#ops.filter(keep);
    this.dropped += before - this.#ops.length;
    this.#bytes = this.#ops.reduce((n, op) => n + size(op), 0);
  }
}

function size(op: Op): number {
  return op.kind === "remove" ? 0 : op.bytes.byteLength;
}
