/**
 * File names of a live stream's LL-HLS media, pure. Every name carries the epoch (a random id per init
 * segment), so a name always means the same bytes: caches may keep them forever, and a publisher restart
 * or a Sluice restart never reuses a name for other content.
 */

/** What a media file name refers to. */
export type MediaName =
  | { kind: "init"; epoch: string }
  | { kind: "segment"; epoch: string; msn: number }
  | { kind: "part"; epoch: string; msn: number; part: number };

/** An epoch id: 12 lowercase hex digits. */
const EPOCH = "[0-9a-f]{12}";

/**
 * The pattern of every media file name, without capturing groups (a Hono route parameter regex):
 * `init-<epoch>.mp4`, `s-<epoch>-<msn>.m4s` (media segment), `p-<epoch>-<msn>-<part>.m4s` (partial segment).
 */
export const MEDIA_NAME_PATTERN = `(?:init-${EPOCH}\\.mp4|[sp]-${EPOCH}-[0-9]{1,15}(?:-[0-9]{1,6})?\\.m4s)`;

const NAME_RE = new RegExp(`^(?:init-(${EPOCH})\\.mp4|([sp])-(${EPOCH})-([0-9]{1,15})(?:-([0-9]{1,6}))?\\.m4s)$`);

/** A new random epoch id (Web Crypto: the same in Bun and browsers). */
export function newEpoch(): string {
  const b = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

export function initName(epoch: string): string {
  return `init-${epoch}.mp4`;
}

export function segmentName(epoch: string, msn: number): string {
  return `s-${epoch}-${msn}.m4s`;
}

export function partName(epoch: string, msn: number, part: number): string {
  return `p-${epoch}-${msn}-${part}.m4s`;
}

/** Reads a media file name; undefined for anything that is not exactly one of the three forms. */
export function parseMediaName(name: string): MediaName | undefined {
  const m = NAME_RE.exec(name);
  if (!m) return undefined;
  if (m[1] !== undefined) return { kind: "init", epoch: m[1] };
  const msn = Number(m[4]);
  if (!Number.isSafeInteger(msn)) return undefined;
  if (m[2] === "s") return m[5] === undefined ? { kind: "segment", epoch: m[3]!, msn } : undefined;
  return m[5] === undefined ? undefined : { kind: "part", epoch: m[3]!, msn, part: Number(m[5]) };
}
