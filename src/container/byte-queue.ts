/**
 * A FIFO of received chunks that lets a push parser look ahead at declared sizes and cut exact byte
 * ranges without ever re-concatenating everything it holds. Only the unparsed tail is kept.
 *
 * Ownership: `push` keeps a reference to the chunk; the caller must not mutate it afterwards.
 * `take` always returns a fresh, exactly sized copy, so an emitted event never pins a large chunk.
 */
export class ByteQueue {
  private chunks: Uint8Array[] = [];
  /** Offset of the first unread byte inside chunks[0]. */
  private head = 0;
  private size = 0;

  /** Number of unread bytes held. */
  get length(): number {
    return this.size;
  }

  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.chunks.push(chunk);
    this.size += chunk.byteLength;
  }

  /** Byte at `offset` from the read position; caller guarantees `offset < length`. */
  byteAt(offset: number): number {
    let off = offset + this.head;
    for (const c of this.chunks) {
      if (off < c.byteLength) return c[off]!;
      off -= c.byteLength;
    }
    throw new RangeError(`byteAt(${offset}) past ${this.size} buffered bytes`);
  }

  /**
   * `len` bytes starting `offset` bytes after the read position, without consuming them. A view when
   * they lie in one chunk, else a copy. Caller guarantees `offset + len <= length`.
   */
  peek(offset: number, len: number): Uint8Array {
    if (offset + len > this.size) throw new RangeError(`peek(${offset}, ${len}) past ${this.size} buffered bytes`);
    let off = offset + this.head;
    let i = 0;
    while (off >= this.chunks[i]!.byteLength) off -= this.chunks[i++]!.byteLength;
    const first = this.chunks[i]!;
    if (off + len <= first.byteLength) return first.subarray(off, off + len);
    const out = new Uint8Array(len);
    let filled = 0;
    while (filled < len) {
      const c = this.chunks[i++]!;
      const n = Math.min(c.byteLength - off, len - filled);
      out.set(c.subarray(off, off + n), filled);
      filled += n;
      off = 0;
    }
    return out;
  }

  /** Removes and returns the next `len` bytes as a fresh copy. */
  take(len: number): Uint8Array {
    const out = new Uint8Array(len);
    let filled = 0;
    while (filled < len) {
      const c = this.chunks[0];
      if (!c) throw new RangeError(`take(${len}) past buffered bytes`);
      const n = Math.min(c.byteLength - this.head, len - filled);
      out.set(c.subarray(this.head, this.head + n), filled);
      filled += n;
      this.advance(n);
    }
    return out;
  }

  /** Drops the next `len` bytes (caller guarantees `len <= length`). */
  skip(len: number): void {
    while (len > 0) {
      const c = this.chunks[0];
      if (!c) throw new RangeError("skip past buffered bytes");
      const n = Math.min(c.byteLength - this.head, len);
      this.advance(n);
      len -= n;
    }
  }

  private advance(n: number): void {
    this.head += n;
    this.size -= n;
    if (this.head === this.chunks[0]!.byteLength) {
      this.chunks.shift();
      this.head = 0;
    }
  }
}
