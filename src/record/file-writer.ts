import { type FileHandle, mkdir, open } from "node:fs/promises";
import { dirname } from "node:path";
import { headerLine, type IndexHeader, type IndexPoint, pointLine } from "./segment-index.ts";

/** One write to do, in order. `bytes` is what the operation costs in the queue. */
export type WriteOp =
  | { kind: "open"; path: string; indexPath: string; init: Uint8Array; header: IndexHeader; bytes: number }
  | { kind: "fragment"; data: Uint8Array; point: IndexPoint | undefined; bytes: number }
  | { kind: "close"; end: IndexPoint | undefined; bytes: number };

/** Why writing stopped: a short reason for metrics (the errno code, e.g. ENOSPC) and the message. */
export interface WriteFailure {
  reason: string;
  message: string;
}

/**
 * The disk side of one stream's recording: a FIFO of write operations capped in bytes, drained by one
 * async loop, so the fan-out only ever enqueues. Data are appended whole fragment by whole fragment;
 * a fragment's index line goes to the sidecar after its bytes. The first failing write stops
 * everything: the data file is cut back to its last whole fragment (best effort), both files closed,
 * the queue emptied, and `onFailure` called once.
 */
export class FileWriter {
  private ops: WriteOp[] = [];
  private head = 0;
  private pumping: Promise<void> | undefined;
  private data: FileHandle | undefined;
  private index: FileHandle | undefined;
  /** Bytes of the data file known to be whole (init + whole fragments). */
  private good = 0;
  private failure: WriteFailure | undefined;
  /** Bytes waiting in the queue. */
  queued = 0;
  /** Path of the data file open on disk (or being opened), undefined between files. */
  openPath: string | undefined;

  constructor(
    private readonly capBytes: number,
    private readonly onFailure: (f: WriteFailure) => void,
    private readonly onClosed: (path: string) => void,
    private readonly onWritten: (bytes: number) => void = () => undefined,
  ) {}

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Whether an operation of `bytes` fits in the queue now. */
  fits(bytes: number): boolean {
    return this.queued + bytes <= this.capBytes;
  }

  /** Enqueues `op` (never blocks); the caller checked `fits` for data it may drop. */
  push(op: WriteOp): void {
    if (this.failure) return;
    this.ops.push(op);
    this.queued += op.bytes;
    this.pumping ??= this.pump();
  }

  /** Resolves once everything queued so far is written (or writing failed). */
  async drained(): Promise<void> {
    while (this.pumping) await this.pumping;
  }

  private async pump(): Promise<void> {
    try {
      while (this.head < this.ops.length && !this.failure) {
        const op = this.ops[this.head]!;
        this.ops[this.head++] = undefined as unknown as WriteOp; // release the bytes as soon as written
        try {
          await this.run(op);
        } catch (e) {
          await this.fail(e);
        }
        this.queued -= op.bytes;
        if (this.head > 1024 && this.head * 2 > this.ops.length) {
          this.ops = this.ops.slice(this.head);
          this.head = 0;
        }
      }
    } finally {
      this.pumping = undefined;
      if (this.head >= this.ops.length) {
        this.ops = [];
        this.head = 0;
      }
    }
  }

  private async run(op: WriteOp): Promise<void> {
    switch (op.kind) {
      case "open":
        await mkdir(dirname(op.path), { recursive: true });
        this.openPath = op.path;
        this.good = 0;
        this.data = await open(op.path, "wx");
        this.index = await open(op.indexPath, "wx");
        await writeAll(this.data, op.init);
        this.good = op.init.byteLength;
        this.onWritten(op.init.byteLength);
        await this.index.write(headerLine(op.header));
        return;
      case "fragment":
        if (!this.data) return;
        await writeAll(this.data, op.data);
        this.good += op.data.byteLength;
        this.onWritten(op.data.byteLength);
        if (op.point) await this.index!.write(pointLine("s", op.point));
        return;
      case "close": {
        if (!this.data) return;
        if (op.end) await this.index!.write(pointLine("e", op.end));
        await this.closeFiles();
      }
    }
  }

  private async closeFiles(): Promise<void> {
    const path = this.openPath;
    const [d, i] = [this.data, this.index];
    this.data = this.index = undefined;
    this.openPath = undefined;
    await d?.close().catch(() => undefined);
    await i?.close().catch(() => undefined);
    if (path) this.onClosed(path);
  }

  private async fail(e: unknown): Promise<void> {
    const err = e as NodeJS.ErrnoException;
    this.failure = {
      reason: typeof err?.code === "string" && /^E[A-Z]{1,15}$/.test(err.code) ? err.code : "write-error",
      message: String(err?.message ?? e),
    };
    // Leave only whole fragments behind (a partial write after ENOSPC would otherwise end the file).
    await this.data?.truncate(this.good).catch(() => undefined);
    await this.closeFiles();
    for (let i = this.head; i < this.ops.length; i++) this.queued -= this.ops[i]!.bytes;
    this.ops = [];
    this.head = 0;
    this.onFailure(this.failure);
  }
}

/** Writes every byte of `bytes` (a write may be short). */
async function writeAll(fh: FileHandle, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.byteLength) {
    const { bytesWritten } = await fh.write(bytes, at, bytes.byteLength - at);
    if (bytesWritten <= 0) throw Object.assign(new Error("write returned 0 bytes"), { code: "EIO" });
    at += bytesWritten;
  }
}
