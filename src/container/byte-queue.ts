/** Chunks shorter than this are copied into a shared block; longer ones are kept as they are (zero-copy). */
export const COPY_BELOW = 8 * 1024;
/** Capacity of the blocks short chunks are copied into. */
const BLOCK = 2 * COPY_BELOW;
/** Dead entries at the front of the entry list are dropped once there are this many and they are the majority. */
const COMPACT_AFTER = 1024;
const EMPTY = new Uint8Array(0);

/**
 * Work done by every ByteQueue since the process started, for tests that bound it per byte pushed:
 * `pushed` bytes pushed, `copied` bytes copied (into blocks, out by `take`, by `peek` across entries),
 * `steps` entries visited by look-ups and copies. Only ever increases.
 */
export const queueWork = { pushed: 0, copied: 0, steps: 0 };

/**
 * A FIFO of received bytes that lets a push parser look ahead at declared sizes and cut exact byte
 * ranges without ever re-concatenating everything it holds. Only the unparsed tail is kept.
 *
 * Cost and memory, whatever the chunking (amortised over the bytes pushed):
 * - `push` is O(1) per chunk plus O(n) for a chunk shorter than `COPY_BELOW`, which is copied into a
 *   shared block (so a stream of one-byte chunks costs one block per 16 KiB, not one object per byte);
 *   a longer chunk is kept by reference, never copied.
 * - `peek`/`byteAt` at offsets that only grow (between consuming calls) are O(1) + O(len): a cursor
 *   remembers the entry the last look-up ended in. Going back costs a walk over the entries in between.
 * - `take`/`skip` are O(len) + O(entries consumed).
 * - `retained` (memory pinned) stays below 2 × `length` + 2 blocks + the consumed prefix of the
 *   first entry (at most one pushed chunk).
 *
 * Ownership: a chunk of `COPY_BELOW` bytes or more is kept by reference; the caller must not mutate
 * it afterwards. `take` always returns a fresh, exactly sized copy, so an emitted event never pins a
 * block or a pushed chunk. A view returned by `peek` shares the queue's memory (bytes already written
 * are never overwritten, so it stays valid); the caller must not mutate it.
 */
export class ByteQueue {
  /** Entries; the live ones are [first, chunks.length). */
  private chunks: Uint8Array[] = [];
  /** Memory each live entry pins (0 for the segment of the open block, whose capacity is counted once). */
  private costs: number[] = [];
  private first = 0;
  /** Offset of the first unread byte inside chunks[first]. */
  private head = 0;
  private size = 0;
  /** Bytes consumed since the queue was created: the stream position of the read position. */
  private readPos = 0;
  /** Look-up cursor: an entry index and the stream position of that entry's first byte. */
  private curIndex = 0;
  private curStart = 0;
  /** The open block short chunks are appended to, and how much of it is written. */
  private block: Uint8Array | undefined;
  private fill = 0;
  /**
   * Whether the last entry is the block's live segment. That entry is then `block[tailStart, BLOCK)`
   * of which only `[tailStart, fill)` is written: it grows in place, without a new view per push.
   */
  private tailOpen = false;
  private tailStart = 0;
  private pinned = 0;

  /** Number of unread bytes held. */
  get length(): number {
    return this.size;
  }

  /** Bytes of memory the queue keeps alive: blocks at their capacity, kept chunks at their length. */
  get retained(): number {
    return this.pinned;
  }

  push(chunk: Uint8Array): void {
    const n = chunk.byteLength;
    if (n === 0) return;
    this.size += n;
    queueWork.pushed += n;
    if (n >= COPY_BELOW) {
      if (this.tailOpen) this.closeBlock();
      this.addEntry(chunk, n);
      return;
    }
    queueWork.copied += n;
    for (let from = 0; from < n; ) {
      if (!this.block || this.fill === BLOCK) this.openBlock();
      const block = this.block!;
      const k = Math.min(n - from, BLOCK - this.fill);
      if (k === 1) block[this.fill] = chunk[from]!;
      else block.set(k === n ? chunk : chunk.subarray(from, from + k), this.fill);
      if (!this.tailOpen) {
        this.tailStart = this.fill;
        this.addEntry(block.subarray(this.fill), 0);
        this.tailOpen = true;
      }
      this.fill += k;
      from += k;
    }
  }

  /** Byte at `offset` from the read position; caller guarantees `offset < length`. */
  byteAt(offset: number): number {
    if (offset < 0 || offset >= this.size) throw new RangeError(`byteAt(${offset}) past ${this.size} buffered bytes`);
    const at = this.seek(offset);
    return this.chunks[this.curIndex]![at]!;
  }

  /**
   * `len` bytes starting `offset` bytes after the read position, without consuming them. A view when
   * they lie in one entry, else a copy. Caller guarantees `offset + len <= length`.
   */
  peek(offset: number, len: number): Uint8Array {
    if (offset < 0 || len < 0 || offset + len > this.size) throw new RangeError(`peek(${offset}, ${len}) past ${this.size} buffered bytes`);
    if (len === 0) return EMPTY;
    let at = this.seek(offset);
    let i = this.curIndex;
    if (at + len <= this.lengthOf(i)) return this.chunks[i]!.subarray(at, at + len);
    const out = new Uint8Array(len);
    queueWork.copied += len;
    for (let filled = 0; filled < len; i++, at = 0) {
      const e = this.chunks[i]!;
      const n = Math.min(this.lengthOf(i) - at, len - filled);
      out.set(e.subarray(at, at + n), filled);
      filled += n;
      queueWork.steps++;
    }
    return out;
  }

  /**
   * Removes the next `len` bytes and returns them as a fresh exact copy, preceded by `prefix` when
   * given (one allocation for both).
   */
  take(len: number, prefix?: Uint8Array): Uint8Array {
    const p = prefix?.byteLength ?? 0;
    if (len > this.size) throw new RangeError(`take(${len}) past ${this.size} buffered bytes`);
    const out = new Uint8Array(p + len);
    if (prefix) {
      out.set(prefix);
      queueWork.copied += p;
    }
    this.takeInto(out, p, len);
    return out;
  }

  /** Removes the next `len` bytes, copying them into `dst` at `at`. */
  takeInto(dst: Uint8Array, at: number, len: number): void {
    if (len > this.size) throw new RangeError(`take(${len}) past ${this.size} buffered bytes`);
    queueWork.copied += len;
    for (let filled = 0; filled < len; ) {
      const c = this.chunks[this.first]!;
      const n = Math.min(this.lengthOf(this.first) - this.head, len - filled);
      dst.set(c.subarray(this.head, this.head + n), at + filled);
      filled += n;
      this.advance(n);
    }
  }

  /** Drops the next `len` bytes (caller guarantees `len <= length`). */
  skip(len: number): void {
    if (len > this.size) throw new RangeError(`skip(${len}) past ${this.size} buffered bytes`);
    while (len > 0) {
      const n = Math.min(this.lengthOf(this.first) - this.head, len);
      this.advance(n);
      len -= n;
    }
  }

  /** Index of the entry holding the byte `offset` after the read position (moves the cursor); returns its offset in that entry. */
  private seek(offset: number): number {
    const pos = this.readPos + offset;
    if (this.curIndex < this.first || this.curIndex >= this.chunks.length || pos < this.curStart) {
      this.curIndex = this.first;
      this.curStart = this.readPos - this.head;
    }
    let i = this.curIndex;
    let start = this.curStart;
    for (let len = this.lengthOf(i); pos >= start + len; len = this.lengthOf(i)) {
      start += len;
      i++;
      queueWork.steps++;
    }
    this.curIndex = i;
    this.curStart = start;
    return pos - start;
  }

  /** Bytes of entry `i` (the open segment is shorter than its view). */
  private lengthOf(i: number): number {
    return this.tailOpen && i === this.chunks.length - 1 ? this.fill - this.tailStart : this.chunks[i]!.byteLength;
  }

  private addEntry(entry: Uint8Array, cost: number): void {
    this.chunks.push(entry);
    this.costs.push(cost);
    this.pinned += cost;
  }

  private openBlock(): void {
    this.closeBlock();
    this.block = new Uint8Array(BLOCK);
    this.fill = 0;
    this.pinned += BLOCK;
  }

  /**
   * The open block takes no more bytes (it is full, or a long chunk follows it). Its live segment now
   * pins it alone: when that segment is less than half the block, it is replaced by an exact copy
   * (at most BLOCK / 2 bytes, paid for by the BLOCK bytes written or the long chunk pushed).
   */
  private closeBlock(): void {
    if (!this.block) return;
    if (this.tailOpen) {
      const last = this.chunks.length - 1;
      const segment = this.block.subarray(this.tailStart, this.fill);
      this.chunks[last] = segment;
      if (2 * segment.byteLength < BLOCK) {
        this.chunks[last] = segment.slice();
        queueWork.copied += segment.byteLength;
        this.costs[last] = segment.byteLength;
        this.pinned += segment.byteLength - BLOCK;
      } else {
        this.costs[last] = BLOCK;
      }
    } else {
      this.pinned -= BLOCK;
    }
    this.block = undefined;
    this.tailOpen = false;
  }

  /** Consumes `n` bytes of the first entry (caller guarantees they are there). */
  private advance(n: number): void {
    this.head += n;
    this.size -= n;
    this.readPos += n;
    queueWork.steps++;
    if (this.head < this.lengthOf(this.first)) return;
    this.pinned -= this.costs[this.first]!;
    this.chunks[this.first] = EMPTY;
    this.first++;
    this.head = 0;
    if (this.first === this.chunks.length) {
      // Empty: start the entry list over. The open block (if any) stays open for the next short chunk.
      this.chunks = [];
      this.costs = [];
      this.first = 0;
      this.tailOpen = false;
      this.curIndex = 0;
      this.curStart = this.readPos;
    } else if (this.first >= COMPACT_AFTER && 2 * this.first >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.costs = this.costs.slice(this.first);
      if (this.curIndex >= this.first) {
        this.curIndex -= this.first;
      } else {
        this.curIndex = 0;
        this.curStart = this.readPos;
      }
      this.first = 0;
    }
  }
}
