/**
 * Names of recording files, pure: `<UTC start, ms>-<8 random hex digits>.mp4|.webm` and the sidecar
 * index `<same stem>.idx`, inside a folder named after the (validated) stream. Nothing of a file name
 * comes from user text; the random part keeps names from being guessed from the start time alone.
 */

import type { ContainerFormat } from "../container/types.ts";

/** The only file names served or deleted: anything else in a stream's folder is ignored. */
const FILE_RE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z-([0-9a-f]{8})\.(mp4|webm)$/;

/** What a valid recording file name says. */
export interface RecordingName {
  /** Wallclock (ms since the Unix epoch) of the file's first fragment. */
  startMs: number;
  format: ContainerFormat;
  /** The sidecar index's name. */
  index: string;
}

/** The file name for a recording starting at `startMs`; `random` must be 8 lowercase hex digits. */
export function recordingFileName(startMs: number, format: ContainerFormat, random: string): string {
  if (!/^[0-9a-f]{8}$/.test(random)) throw new Error("recordingFileName: random must be 8 hex digits");
  const stamp = new Date(startMs).toISOString().replace(/[-:]/g, "").replace(".", "");
  return `${stamp}-${random}.${format === "webm" ? "webm" : "mp4"}`;
}

/** Parses a recording file name; undefined for any other text (the strict check for names from URLs). */
export function parseRecordingFileName(name: string): RecordingName | undefined {
  const m = FILE_RE.exec(name);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s, ms] = m.slice(1, 8).map(Number) as [number, number, number, number, number, number, number];
  const startMs = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  // Reject dates that roll over (e.g. month 13): the name must be exactly what recordingFileName writes.
  if (Number.isNaN(startMs) || new Date(startMs).toISOString().replace(/[-:]/g, "").replace(".", "") !== name.slice(0, 19))
    return undefined;
  return { startMs, format: m[9] === "webm" ? "webm" : "fmp4", index: `${name.slice(0, -(m[9]!.length + 1))}.idx` };
}

/** 8 random lowercase hex digits (Web Crypto). */
export function randomTag(): string {
  const b = crypto.getRandomValues(new Uint8Array(4));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
