/**
 * A strict, bounded parser for HLS media playlists (RFC 8216bis), runtime-neutral: text in, a
 * `MediaPlaylist` out, or a `PlaylistError` naming the line. It reads what a player of Sluice's
 * recordings and live playlists needs: EXTINF, EXT-X-BYTERANGE (implied offsets resolved), EXT-X-MAP
 * (URI, BYTERANGE), EXT-X-DISCONTINUITY(-SEQUENCE), EXT-X-PROGRAM-DATE-TIME, EXT-X-MEDIA-SEQUENCE,
 * EXT-X-TARGETDURATION, EXT-X-PLAYLIST-TYPE, EXT-X-ENDLIST, EXT-X-VERSION, EXT-X-INDEPENDENT-SEGMENTS.
 * Other tags (the LL-HLS EXT-X-PART, EXT-X-PRELOAD-HINT, EXT-X-SERVER-CONTROL …) are skipped, as §6.3.1
 * tells clients to ignore tags they do not recognise. URIs are returned as written (not resolved).
 * A multivariant playlist (EXT-X-STREAM-INF) and encryption (EXT-X-KEY other than NONE) are refused.
 */

/** A sub-range of a resource: `length` bytes from byte `offset`. */
export interface ByteRange {
  length: number;
  offset: number;
}

/** EXT-X-MAP: where the Media Initialization Section of the following segments is. */
interface InitSection {
  uri: string;
  byteRange?: ByteRange;
}

interface PlaylistSegment {
  uri: string;
  /** EXTINF duration in seconds. */
  duration: number;
  byteRange?: ByteRange;
  /** The EXT-X-MAP in effect for this segment. */
  map?: InitSection;
  /** An EXT-X-DISCONTINUITY precedes this segment. */
  discontinuity: boolean;
  /** EXT-X-DISCONTINUITY-SEQUENCE plus the discontinuities before and at this segment. */
  discontinuitySequence: number;
  mediaSequence: number;
  /** EXT-X-PROGRAM-DATE-TIME given for this segment, in ms since the Unix epoch. */
  programDateTime?: number;
  /** Seconds from the start of the playlist (sum of the EXTINF durations before it). */
  start: number;
}

export interface MediaPlaylist {
  version: number;
  targetDuration: number;
  mediaSequence: number;
  playlistType?: "VOD" | "EVENT";
  endList: boolean;
  independentSegments: boolean;
  segments: PlaylistSegment[];
  /** Sum of the EXTINF durations. */
  duration: number;
}

/** Bounds on what the parser accepts (hostile input is refused, not worked through). */
export interface PlaylistLimits {
  /** Characters in the whole text (default 8 MiB). */
  maxChars: number;
  /** Characters in one line (default 16 KiB). */
  maxLineChars: number;
  /** Media segments (default 100,000). */
  maxSegments: number;
}

const DEFAULT_LIMITS: PlaylistLimits = { maxChars: 8 * 1024 * 1024, maxLineChars: 16 * 1024, maxSegments: 100_000 };

/** Why a playlist was refused; `line` is 1-based (0: the text as a whole). */
export class PlaylistError extends Error {
  constructor(
    readonly line: number,
    detail: string,
  ) {
    super(line > 0 ? `playlist line ${line}: ${detail}` : `playlist: ${detail}`);
    this.name = "PlaylistError";
  }
}

/** One attribute value of an attribute list (§4.2): its text and whether it was a quoted-string. */
interface AttributeValue {
  value: string;
  quoted: boolean;
}

const ATTRIBUTE = /^([A-Z0-9-]+)=("[^"\r\n]*"|[^",\s]*)/;

/**
 * Parses an attribute list (§4.2: `NAME=value,NAME="quoted, string",…`). Throws a message on a
 * malformed list or a repeated name ("MUST NOT contain multiple attributes with the same name").
 */
export function parseAttributeList(text: string): Map<string, AttributeValue> {
  const out = new Map<string, AttributeValue>();
  let rest = text;
  while (rest !== "") {
    const m = ATTRIBUTE.exec(rest);
    if (!m || m[0].length === m[1]!.length + 1) throw new Error(`malformed attribute list at "${clip(rest)}"`);
    const [whole, name, raw] = m as unknown as [string, string, string];
    if (out.has(name)) throw new Error(`attribute ${name} appears twice`);
    const quoted = raw.startsWith('"');
    out.set(name, { value: quoted ? raw.slice(1, -1) : raw, quoted });
    rest = rest.slice(whole.length);
    if (rest === "") break;
    if (rest[0] !== ",") throw new Error(`expected "," after ${name} at "${clip(rest)}"`);
    rest = rest.slice(1);
  }
  return out;
}

/** Parses a byte range `n[@o]` (§4.4.4.2); `o` is undefined when absent. */
function parseByteRange(text: string): { length: number; offset?: number } {
  const m = /^(\d{1,16})(?:@(\d{1,16}))?$/.exec(text);
  const length = Number(m?.[1]);
  const offset = m?.[2] === undefined ? undefined : Number(m[2]);
  if (!m || !Number.isSafeInteger(length) || (offset !== undefined && !Number.isSafeInteger(offset)))
    throw new Error(`bad byte range "${clip(text)}" (expected <length>[@<offset>])`);
  return { length, offset };
}

function decimalInteger(text: string, what: string): number {
  const n = /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new Error(`${what} must be a decimal integer, got "${clip(text)}"`);
  return n;
}

/**
 * Parses a media playlist. Throws `PlaylistError` when the text is not one (no leading #EXTM3U, a
 * multivariant playlist), breaks a rule the player relies on (EXTINF before every URI, a byte range
 * without offset that does not follow one of the same resource, a required attribute missing), or
 * exceeds `limits`.
 */
export function parseMediaPlaylist(text: string, limits: Partial<PlaylistLimits> = {}): MediaPlaylist {
  const lim = { ...DEFAULT_LIMITS, ...limits };
  if (text.length > lim.maxChars) throw new PlaylistError(0, `longer than ${lim.maxChars} characters`);
  const pl: MediaPlaylist = {
    version: 1,
    targetDuration: Number.NaN,
    mediaSequence: 0,
    endList: false,
    independentSegments: false,
    segments: [],
    duration: 0,
  };
  let discontinuitySequence = 0;
  let pending: Partial<PlaylistSegment> = {};
  let pendingRange: { length: number; offset?: number } | undefined;
  let map: InitSection | undefined;
  let discontinuities = 0;
  /** Where the previous segment's sub-range ended, for an implied offset (same URI only). */
  let previousRange: { uri: string; end: number } | undefined;
  let lineNo = 0;
  let sawSegmentTags = false;
  for (let pos = 0; pos <= text.length; ) {
    let end = text.indexOf("\n", pos);
    if (end < 0) end = text.length;
    lineNo++;
    if (end - pos > lim.maxLineChars) throw new PlaylistError(lineNo, `longer than ${lim.maxLineChars} characters`);
    const line = text.slice(pos, end).replace(/\r$/, "");
    pos = end + 1;
    if (lineNo === 1) {
      // §4.1: the first line MUST be the EXTM3U tag.
      if (line.trimEnd() !== "#EXTM3U") throw new PlaylistError(1, "not an HLS playlist (the first line must be #EXTM3U)");
      continue;
    }
    if (line.trim() === "") continue;
    try {
      if (!line.startsWith("#")) {
        if (pending.duration === undefined) throw new Error(`URI "${clip(line)}" without a preceding #EXTINF`);
        if (pl.segments.length >= lim.maxSegments) throw new Error(`more than ${lim.maxSegments} segments`);
        const uri = line.trim();
        let byteRange: ByteRange | undefined;
        if (pendingRange) {
          // §4.4.4.2: without an offset the sub-range follows the previous segment's, of the same resource.
          const offset = pendingRange.offset ?? (previousRange?.uri === uri ? previousRange.end : undefined);
          if (offset === undefined) throw new Error("#EXT-X-BYTERANGE without an offset must follow a sub-range of the same URI");
          byteRange = { length: pendingRange.length, offset };
          previousRange = { uri, end: offset + pendingRange.length };
        } else {
          previousRange = undefined;
        }
        const seg: PlaylistSegment = {
          uri,
          duration: pending.duration,
          discontinuity: pending.discontinuity ?? false,
          discontinuitySequence: discontinuitySequence + discontinuities,
          mediaSequence: pl.mediaSequence + pl.segments.length,
          start: pl.duration,
        };
        if (byteRange) seg.byteRange = byteRange;
        if (map) seg.map = map;
        if (pending.programDateTime !== undefined) seg.programDateTime = pending.programDateTime;
        pl.segments.push(seg);
        pl.duration += seg.duration;
        pending = {};
        pendingRange = undefined;
        continue;
      }
      if (!line.startsWith("#EXT")) continue; // a comment
      const colon = line.indexOf(":");
      const tag = colon < 0 ? line.trimEnd() : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).trim();
      switch (tag) {
        case "#EXTM3U":
          throw new Error("#EXTM3U again");
        case "#EXT-X-VERSION":
          pl.version = decimalInteger(value, tag);
          break;
        case "#EXT-X-TARGETDURATION":
          pl.targetDuration = decimalInteger(value, tag);
          break;
        case "#EXT-X-MEDIA-SEQUENCE":
          if (sawSegmentTags) throw new Error(`${tag} must come before the first segment`);
          pl.mediaSequence = decimalInteger(value, tag);
          break;
        case "#EXT-X-DISCONTINUITY-SEQUENCE":
          if (sawSegmentTags) throw new Error(`${tag} must come before the first segment`);
          discontinuitySequence = decimalInteger(value, tag);
          break;
        case "#EXT-X-PLAYLIST-TYPE":
          if (value !== "VOD" && value !== "EVENT") throw new Error(`${tag} must be VOD or EVENT, got "${clip(value)}"`);
          pl.playlistType = value;
          break;
        case "#EXT-X-ENDLIST":
          pl.endList = true;
          break;
        case "#EXT-X-INDEPENDENT-SEGMENTS":
          pl.independentSegments = true;
          break;
        case "#EXTINF": {
          sawSegmentTags = true;
          const d = value.split(",", 1)[0]!.trim();
          const duration = /^\d+(\.\d*)?$/.test(d) ? Number(d) : Number.NaN;
          if (!Number.isFinite(duration)) throw new Error(`#EXTINF duration must be a non-negative number, got "${clip(d)}"`);
          pending.duration = duration;
          break;
        }
        case "#EXT-X-BYTERANGE":
          sawSegmentTags = true;
          pendingRange = parseByteRange(value);
          break;
        case "#EXT-X-DISCONTINUITY":
          sawSegmentTags = true;
          if (!pending.discontinuity) discontinuities++;
          pending.discontinuity = true;
          break;
        case "#EXT-X-PROGRAM-DATE-TIME": {
          const ms = Date.parse(value);
          if (!/^\d{4}-\d\d-\d\dT/.test(value) || !Number.isFinite(ms))
            throw new Error(`${tag} is not an ISO 8601 date-time: "${clip(value)}"`);
          pending.programDateTime = ms;
          break;
        }
        case "#EXT-X-MAP": {
          sawSegmentTags = true;
          const attrs = parseAttributeList(value);
          const uri = attrs.get("URI");
          if (!uri?.quoted || uri.value === "") throw new Error("#EXT-X-MAP needs a quoted URI attribute");
          map = { uri: uri.value };
          const range = attrs.get("BYTERANGE");
          if (range) {
            if (!range.quoted) throw new Error("#EXT-X-MAP BYTERANGE must be a quoted-string");
            const r = parseByteRange(range.value);
            // §4.4.4.5 requires the offset here; an absent one is read as 0.
            map.byteRange = { length: r.length, offset: r.offset ?? 0 };
          }
          break;
        }
        case "#EXT-X-KEY": {
          const method = parseAttributeList(value).get("METHOD")?.value;
          if (method !== "NONE") throw new Error(`encrypted segments (METHOD=${clip(method ?? "?")}) are not supported`);
          break;
        }
        case "#EXT-X-STREAM-INF":
        case "#EXT-X-I-FRAME-STREAM-INF":
          throw new Error(`a multivariant playlist (${tag}): give the URL of a media playlist`);
        default:
          break; // §6.3.1: ignore tags that are not recognised
      }
    } catch (e) {
      if (e instanceof PlaylistError) throw e;
      throw new PlaylistError(lineNo, (e as Error).message);
    }
  }
  if (pending.duration !== undefined) throw new PlaylistError(lineNo, "the last #EXTINF has no URI");
  if (Number.isNaN(pl.targetDuration)) throw new PlaylistError(0, "#EXT-X-TARGETDURATION is missing (is this a media playlist?)");
  return pl;
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}
