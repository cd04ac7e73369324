import { readdir, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { STREAM_NAME_RE } from "../config.ts";
import { createParser } from "../container/index.ts";
import { DEFAULT_PARSER_OPTIONS } from "../container/types.ts";
import { parseRecordingFileName } from "./file-names.ts";
import { IndexScanner, indexIsComplete, parseIndex, type SegmentIndex } from "./segment-index.ts";

/** One recording file on disk. */
export interface RecordingFile {
  stream: string;
  /** The file name (validated). */
  file: string;
  path: string;
  indexPath: string;
  format: "fmp4" | "webm";
  /** Start wallclock from the file name. */
  startMs: number;
  bytes: number;
  modifiedMs: number;
  /** Being written now. */
  active: boolean;
}

/** Sidecars larger than this are not read (the file is scanned instead). */
const MAX_SIDECAR_BYTES = 4 * 1024 * 1024;
/** Indexes remembered (by path, valid while size and mtime are unchanged). */
const CACHE_ENTRIES = 512;

/**
 * The recordings under one directory (`<dir>/<stream>/<file>`): listing, the segment index of a
 * file, deletion. The index comes from the sidecar when it covers the file (or the file is being
 * written: its last segment is then left out), else from scanning the file with Sluice's own parser
 * (after a crash), one scan at a time; results are cached by path, size and mtime.
 */
export class RecordingStore {
  private readonly cache = new Map<string, { bytes: number; modifiedMs: number; index: SegmentIndex | undefined }>();
  private scans: Promise<unknown> = Promise.resolve();
  /** Files scanned so far (the sidecar was missing or short). */
  scanned = 0;

  constructor(
    readonly dir: string,
    private readonly isActive: (path: string) => boolean,
  ) {}

  /** Streams with a folder of recordings (folder names that are valid stream names). */
  async streams(): Promise<string[]> {
    const entries = await readdir(this.dir, { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isDirectory() && STREAM_NAME_RE.test(e.name)).map((e) => e.name);
  }

  /** The stream's recording files, oldest first; `stream` must be a valid stream name. */
  async files(stream: string): Promise<RecordingFile[]> {
    if (!STREAM_NAME_RE.test(stream)) return [];
    const folder = join(this.dir, stream);
    const names = await readdir(folder).catch(() => [] as string[]);
    const out: RecordingFile[] = [];
    for (const file of names) {
      const info = await this.file(stream, file);
      if (info) out.push(info);
    }
    return out.sort((a, b) => a.startMs - b.startMs || (a.file < b.file ? -1 : 1));
  }

  /** One file by its name, undefined unless the name is a valid recording name and the file exists. */
  async file(stream: string, file: string): Promise<RecordingFile | undefined> {
    const parsed = parseRecordingFileName(file);
    if (!parsed || !STREAM_NAME_RE.test(stream)) return undefined;
    const path = join(this.dir, stream, file);
    const st = await stat(path).catch(() => undefined);
    if (!st?.isFile()) return undefined;
    return {
      stream,
      file,
      path,
      indexPath: join(this.dir, stream, parsed.index),
      format: parsed.format,
      startMs: parsed.startMs,
      bytes: st.size,
      modifiedMs: st.mtimeMs,
      active: this.isActive(path),
    };
  }

  /** The file's segment index (see the class comment); undefined when it has no whole keyframe segment. */
  async index(f: RecordingFile): Promise<SegmentIndex | undefined> {
    const hit = this.cache.get(f.path);
    if (hit && hit.bytes === f.bytes && hit.modifiedMs === f.modifiedMs) return hit.index;
    const sidecar = await readSidecar(f.indexPath);
    let index = sidecar && (indexIsComplete(sidecar, f.bytes) || (f.active && sidecar.points.length > 0)) ? sidecar : undefined;
    if (!index) {
      const run = this.scans.then(() => scanFile(f));
      this.scans = run.catch(() => undefined);
      index = await run;
      this.scanned++;
    }
    if (this.cache.size >= CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(f.path, { bytes: f.bytes, modifiedMs: f.modifiedMs, index });
    return index;
  }

  /** Deletes the file and its sidecar. */
  async delete(f: RecordingFile): Promise<void> {
    this.cache.delete(f.path);
    await unlink(f.path).catch(() => undefined);
    await unlink(f.indexPath).catch(() => undefined);
  }
}

async function readSidecar(path: string): Promise<SegmentIndex | undefined> {
  try {
    const file = Bun.file(path);
    if (file.size > MAX_SIDECAR_BYTES) return undefined;
    return parseIndex(await file.text());
  } catch {
    return undefined;
  }
}

/** Rebuilds the index from the file's bytes, up to its last whole fragment. */
async function scanFile(f: RecordingFile): Promise<SegmentIndex | undefined> {
  const parser = createParser(f.format, DEFAULT_PARSER_OPTIONS);
  const scanner = new IndexScanner(f.startMs);
  try {
    for await (const chunk of Bun.file(f.path).slice(0, f.bytes).stream()) {
      for (const ev of parser.push(chunk)) if (!scanner.add(ev)) return scanner.result();
    }
  } catch {
    // A damaged tail: keep what was whole before it.
  }
  return scanner.result();
}
