import { join } from "node:path";
import type { Config } from "../config.ts";
import type { InitEvent } from "../container/types.ts";
import type { Logger } from "../log.ts";
import type { CachedFragment } from "../stream/gop-cache.ts";
import type { StreamSink } from "../stream/sink.ts";
import type { Stream } from "../stream/stream.ts";
import { prftWallclock } from "../stream/wallclock.ts";
import { parseRecordingFileName, randomTag, recordingFileName } from "./file-names.ts";
import { FileWriter } from "./file-writer.ts";
import { RecordingStats } from "./recording-stats.ts";
import { RecordingStore } from "./recording-store.ts";
import { chooseDeletions } from "./retention.ts";
import { EndTracker } from "./segment-index.ts";

/** The config slice recording uses. */
export type RecorderConfig = Pick<
  Config,
  "recordDir" | "recordStreams" | "recordRotateMinutes" | "recordMaxAgeMs" | "recordMaxBytes" | "recordQueueBytes"
>;

/** Recording as the rest of Sluice sees it: a sink after the fan-out, the files on disk, metrics. */
export interface Recorder extends StreamSink {
  readonly store: RecordingStore;
  readonly stats: RecordingStats;
  /** Applies retention once now (it also runs on a timer and after every file is closed). */
  retain(): Promise<void>;
  /** Closes every file (writing its end into the index) and stops the retention timer. */
  stop(): Promise<void>;
}

/** The file a session is appending to (offsets as enqueued, ahead of the disk). */
interface OpenFile {
  path: string;
  offset: number;
  timescale: number;
  ends: EndTracker;
  openedAt: number;
}

interface Session {
  writer: FileWriter;
  init: InitEvent | undefined;
  publisher: string | undefined;
  file: OpenFile | undefined;
  /** Fragments were dropped (or skipped upstream): nothing is written until the next keyframe. */
  resync: boolean;
}

/**
 * Records each publisher session of the selected streams into `<recordDir>/<stream>/`: fMP4 (WebM for
 * WebM streams), every file the current init followed by whole fragments from a keyframe on, a new
 * file at the first keyframe after `recordRotateMinutes`, on a new init, and after fragments were
 * dropped. A `StreamSink`: every call only enqueues (see `FileWriter`); a full queue drops fragments
 * (counted) until the next keyframe; a write error stops that stream's recording with one log line
 * until its next publisher, never the relay. Retention by age and total bytes runs on a timer.
 */
export function createRecorder(config: RecorderConfig, log: Logger): Recorder {
  const sessions = new Map<string, Session>();
  const selected = config.recordStreams.length > 0 ? new Set(config.recordStreams) : undefined;
  const rotateMs = config.recordRotateMinutes * 60_000;
  const stats = new RecordingStats();
  const isActive = (path: string) => {
    for (const s of sessions.values()) if (s.file?.path === path || s.writer.openPath === path) return true;
    return false;
  };
  const store = new RecordingStore(config.recordDir, isActive);

  const newSession = (name: string, publisher: string | undefined): Session => {
    const s: Session = { writer: undefined as unknown as FileWriter, init: undefined, publisher, file: undefined, resync: false };
    s.writer = new FileWriter(
      config.recordQueueBytes,
      (f) => {
        s.file = undefined;
        stats.of(name).errors.set(f.reason, (stats.of(name).errors.get(f.reason) ?? 0) + 1);
        log.warn("recording-stopped", { stream: name, reason: f.reason, message: f.message });
      },
      () => void retain(),
      (n) => (stats.of(name).written += n),
    );
    const per = stats.of(name);
    per.queued = () => (sessions.get(name) === s ? s.writer.queued : 0);
    sessions.set(name, s);
    return s;
  };

  const closeFile = (s: Session) => {
    if (!s.file) return;
    s.writer.push({ kind: "close", end: s.file.ends.endAt(s.file.offset), bytes: 0 });
    s.file = undefined;
  };

  const openFile = (name: string, s: Session, init: InitEvent, frag: CachedFragment, wall: number, now: number) => {
    const format = init.format === "webm" ? "webm" : "fmp4";
    const file = recordingFileName(wall, format, randomTag());
    const path = join(config.recordDir, name, file);
    const indexPath = join(config.recordDir, name, parseRecordingFileName(file)!.index);
    const header = { format, mime: init.mime, initBytes: init.bytes.byteLength, timescale: frag.timescale!, startMs: wall } as const;
    s.writer.push({ kind: "open", path, indexPath, init: init.bytes, header, bytes: init.bytes.byteLength });
    s.file = { path, offset: init.bytes.byteLength, timescale: frag.timescale!, ends: new EndTracker(frag.timescale!), openedAt: now };
    log.info("recording-file", { stream: name, file });
  };

  let retaining: Promise<void> | undefined;
  let again = false;
  const retainOnce = async () => {
    const files = (await Promise.all((await store.streams()).map((n) => store.files(n)))).flat();
    const byKey = new Map(files.map((f) => [`${f.stream}/${f.file}`, f]));
    const stored = files.map((f) => ({
      key: `${f.stream}/${f.file}`,
      startMs: f.startMs,
      modifiedMs: f.modifiedMs,
      bytes: f.bytes,
      active: f.active,
    }));
    for (const d of chooseDeletions(stored, Date.now(), config.recordMaxAgeMs, config.recordMaxBytes)) {
      const f = byKey.get(d.key)!;
      if (isActive(f.path)) continue; // opened since the listing
      await store.delete(f);
      stats.deleted.set(d.reason, (stats.deleted.get(d.reason) ?? 0) + 1);
      log.info("recording-deleted", { stream: f.stream, file: f.file, reason: d.reason, bytes: f.bytes });
    }
  };
  const retain = async (): Promise<void> => {
    if (config.recordMaxAgeMs <= 0 && config.recordMaxBytes <= 0) return;
    if (retaining) {
      again = true;
      return retaining;
    }
    retaining = (async () => {
      do {
        again = false;
        await retainOnce().catch((e) => log.warn("recording-retention-failed", { message: String((e as Error)?.message ?? e) }));
      } while (again);
      retaining = undefined;
    })();
    return retaining;
  };
  const every = config.recordMaxAgeMs > 0 ? Math.min(60_000, Math.max(1000, config.recordMaxAgeMs / 4)) : 10_000;
  const timer = setInterval(() => void retain(), every);
  void retain();

  return {
    store,
    stats,
    retain,
    started(stream: Stream) {
      if (selected && !selected.has(stream.name)) return;
      let s = sessions.get(stream.name);
      if (!s || (s.writer.failed && s.publisher !== stream.publisher)) s = newSession(stream.name, stream.publisher);
      if (s.writer.failed) return;
      closeFile(s);
      s.init = stream.init;
      s.publisher = stream.publisher;
      s.resync = false;
    },
    fragment(stream: Stream, frag: CachedFragment) {
      const s = sessions.get(stream.name);
      const init = s?.init;
      if (!s || !init || s.writer.failed || frag.decodeTime === undefined || !(frag.timescale! > 0)) return;
      const now = Date.now();
      const wall = prftWallclock(frag) ?? frag.arrivedMs ?? now;
      const per = stats.of(stream.name);
      if (s.file && frag.keyframe && now - s.file.openedAt >= rotateMs) closeFile(s);
      if (!s.file) {
        if (!frag.keyframe) return; // every file starts with a keyframe
        if (!s.writer.fits(init.bytes.byteLength + frag.bytes.byteLength)) {
          per.dropped++;
          return;
        }
        if (s.resync) log.info("recording-resumed", { stream: stream.name });
        s.resync = false;
        openFile(stream.name, s, init, frag, wall, now);
      }
      const file = s.file!;
      const bytes = frag.bytes.byteLength;
      if (!s.writer.fits(bytes)) {
        per.dropped++;
        s.resync = true;
        closeFile(s);
        log.warn("recording-queue-full", { stream: stream.name, queued: s.writer.queued, limit: config.recordQueueBytes });
        return;
      }
      const point =
        frag.keyframe && frag.timescale === file.timescale
          ? { offset: file.offset, decodeTime: frag.decodeTime, wallclockMs: wall }
          : undefined;
      s.writer.push({ kind: "fragment", data: frag.bytes, point, bytes });
      file.offset += bytes;
      file.ends.add({ decodeTime: frag.decodeTime, timescale: frag.timescale!, duration: frag.duration }, wall);
    },
    ended(stream: Stream) {
      const s = sessions.get(stream.name);
      if (!s) return;
      closeFile(s);
      s.init = undefined;
      void s.writer.drained().then(() => {
        if (sessions.get(stream.name) === s && !s.init) sessions.delete(stream.name);
      });
    },
    skipped(stream: Stream) {
      const s = sessions.get(stream.name);
      if (!s?.file) return;
      closeFile(s);
      s.resync = true;
    },
    async stop() {
      clearInterval(timer);
      for (const s of sessions.values()) closeFile(s);
      await Promise.all([...sessions.values()].map((s) => s.writer.drained()));
      await retaining;
    },
  };
}
