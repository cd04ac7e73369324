/**
 * A strict checker of the LL-HLS media playlists Sluice writes, from RFC 8216bis and its low-latency
 * extensions (section numbers of draft-pantos-hls-rfc8216bis): `checkPlaylist` parses one playlist and
 * throws naming the first rule broken; `checkReload`, `checkDelta` and `checkBlockingAnswer` check
 * a playlist against an earlier one, the full one, or the request it answers.
 */

interface CheckedPart {
  uri: string;
  duration: number;
  independent: boolean;
}

interface CheckedSegment {
  msn: number;
  /** The EXT-X-MAP URI in effect. */
  map: string;
  discontinuity: boolean;
  programDateTime?: number;
  parts: CheckedPart[];
  /** EXTINF duration and URI: undefined for the open segment (parts only). */
  duration?: number;
  uri?: string;
}

export interface CheckedPlaylist {
  version: number;
  targetDuration: number;
  partTarget: number;
  partHoldBack: number;
  canSkipUntil: number;
  mediaSequence: number;
  discontinuitySequence: number;
  skipped: number;
  segments: CheckedSegment[];
  preloadHint?: string;
  ended: boolean;
  /** EXT-X-INDEPENDENT-SEGMENTS is declared: every segment starts with an INDEPENDENT part. */
  independentSegments: boolean;
}

export interface CheckOptions {
  /** Also require every part but a segment's last and INDEPENDENT ones to last at least 85% of PART-TARGET. */
  strictPartMinimum?: boolean;
  /**
   * Largest gap, ms, between a segment's EXT-X-PROGRAM-DATE-TIME and the previous one's plus its
   * EXTINF (default 250: a real-time publisher's clock against its media time).
   */
  pdtToleranceMs?: number;
}

/** Sluice's part names: `p-<epoch>-<msn>-<index>.m4s` (query ignored). */
export function partId(uri: string): { msn: number; part: number } | undefined {
  const m = /(?:^|\/)p-[0-9a-f]{12}-(\d+)-(\d+)\.m4s(?:\?|$)/.exec(uri);
  return m ? { msn: Number(m[1]), part: Number(m[2]) } : undefined;
}

/** Reads an attribute list (§4.2): NAME=value pairs, quoted strings may hold commas. */
function attributes(text: string, at: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /([A-Z0-9-]+)=("[^"\r\n]*"|[^,]*)(,|$)/gy;
  let m: RegExpExecArray | null;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    m = re.exec(text);
    if (!m) throw new Error(`${at}: malformed attribute list at "${text.slice(pos)}"`);
    if (out.has(m[1]!)) throw new Error(`${at}: attribute ${m[1]} twice`);
    out.set(m[1]!, m[2]!.startsWith('"') ? m[2]!.slice(1, -1) : m[2]!);
    pos = re.lastIndex;
  }
  return out;
}

const DECIMAL = /^\d+(\.\d+)?$/;
const HEADER_TAGS = new Set([
  "EXT-X-VERSION",
  "EXT-X-TARGETDURATION",
  "EXT-X-SERVER-CONTROL",
  "EXT-X-PART-INF",
  "EXT-X-MEDIA-SEQUENCE",
  "EXT-X-DISCONTINUITY-SEQUENCE",
  "EXT-X-SKIP",
  "EXT-X-INDEPENDENT-SEGMENTS",
]);
const EPS = 1e-6;

/** Parses and checks one playlist; throws `Error("line N …: rule")` on the first violation. */
export function checkPlaylist(text: string, opts: CheckOptions = {}): CheckedPlaylist {
  if (!text.endsWith("\n")) throw new Error("a playlist ends with a newline");
  const lines = text.slice(0, -1).split("\n");
  if (lines[0] !== "#EXTM3U") throw new Error("line 1: the first line must be #EXTM3U (§4.4.1.1)");
  const seen = new Set<string>();
  const head = new Map<string, string>();
  const segments: CheckedSegment[] = [];
  let pending: Omit<CheckedSegment, "msn"> = { map: "", discontinuity: false, parts: [] };
  let map = "";
  let inSegments = false;
  let ended = false;
  let hint: string | undefined;
  let expectUri = false;
  let extinf = 0;
  const num = (v: string | undefined, at: string, what: string) => {
    if (v === undefined || !DECIMAL.test(v)) throw new Error(`${at}: ${what} must be a decimal number (got ${v})`);
    return Number(v);
  };
  lines.slice(1).forEach((line, i) => {
    const at = `line ${i + 2} "${line}"`;
    if (ended) throw new Error(`${at}: nothing may follow EXT-X-ENDLIST`);
    if (line === "") return;
    if (expectUri) {
      if (line.startsWith("#")) throw new Error(`${at}: EXTINF must be followed by its URI`);
      segments.push({ msn: -1, ...pending, map, duration: extinf, uri: line });
      pending = { map: "", discontinuity: false, parts: [] };
      expectUri = false;
      return;
    }
    if (!line.startsWith("#EXT")) throw new Error(`${at}: a URI without EXTINF, or an unknown line`);
    const colon = line.indexOf(":");
    const tag = line.slice(1, colon < 0 ? undefined : colon);
    const value = colon < 0 ? "" : line.slice(colon + 1);
    if (HEADER_TAGS.has(tag)) {
      if (inSegments) throw new Error(`${at}: ${tag} must come before every media segment tag (§4.4.3)`);
      if (seen.has(tag)) throw new Error(`${at}: ${tag} appears twice`);
      seen.add(tag);
      head.set(tag, value);
      return;
    }
    inSegments = true;
    switch (tag) {
      case "EXT-X-DISCONTINUITY":
        pending.discontinuity = true;
        return;
      case "EXT-X-MAP": {
        const uri = attributes(value, at).get("URI");
        if (!uri) throw new Error(`${at}: EXT-X-MAP needs a quoted URI`);
        map = uri;
        return;
      }
      case "EXT-X-PROGRAM-DATE-TIME": {
        if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(value)) throw new Error(`${at}: not an ISO 8601 date-time`);
        pending.programDateTime = Date.parse(value);
        return;
      }
      case "EXT-X-PART": {
        const a = attributes(value, at);
        const uri = a.get("URI");
        if (!uri) throw new Error(`${at}: EXT-X-PART needs a URI`);
        const ind = a.get("INDEPENDENT");
        if (ind !== undefined && ind !== "YES") throw new Error(`${at}: INDEPENDENT may only be YES`);
        pending.parts.push({ uri, duration: num(a.get("DURATION"), at, "DURATION"), independent: ind === "YES" });
        return;
      }
      case "EXTINF": {
        const m = /^(\d+(?:\.\d+)?),.*$/.exec(value);
        if (!m) throw new Error(`${at}: EXTINF needs a duration and a comma`);
        extinf = Number(m[1]);
        expectUri = true;
        return;
      }
      case "EXT-X-PRELOAD-HINT": {
        const a = attributes(value, at);
        if (a.get("TYPE") === "PART") {
          if (hint !== undefined) throw new Error(`${at}: a second PART preload hint`);
          hint = a.get("URI");
        } else if (a.get("TYPE") !== "MAP") throw new Error(`${at}: TYPE must be PART or MAP`);
        return;
      }
      case "EXT-X-ENDLIST":
        ended = true;
        return;
      default:
        throw new Error(`${at}: a tag Sluice does not write (${tag})`);
    }
  });
  if (expectUri) throw new Error("the last EXTINF has no URI");
  if (pending.parts.length > 0) segments.push({ msn: -1, ...pending, map });
  else if (pending.discontinuity || pending.programDateTime !== undefined) throw new Error("tags after the last segment apply to nothing");

  const need = (tag: string) => {
    const v = head.get(tag);
    if (v === undefined) throw new Error(`${tag} is missing`);
    return v;
  };
  const version = Number(need("EXT-X-VERSION"));
  const targetDuration = Number(need("EXT-X-TARGETDURATION"));
  if (!/^\d+$/.test(need("EXT-X-TARGETDURATION"))) throw new Error("EXT-X-TARGETDURATION must be an integer (§4.4.3.1)");
  const sc = attributes(need("EXT-X-SERVER-CONTROL"), "EXT-X-SERVER-CONTROL");
  if (sc.get("CAN-BLOCK-RELOAD") !== "YES") throw new Error("EXT-X-SERVER-CONTROL must say CAN-BLOCK-RELOAD=YES");
  const partTarget = num(attributes(need("EXT-X-PART-INF"), "EXT-X-PART-INF").get("PART-TARGET"), "EXT-X-PART-INF", "PART-TARGET");
  const partHoldBack = num(sc.get("PART-HOLD-BACK"), "EXT-X-SERVER-CONTROL", "PART-HOLD-BACK");
  const canSkipUntil = num(sc.get("CAN-SKIP-UNTIL"), "EXT-X-SERVER-CONTROL", "CAN-SKIP-UNTIL");
  const mediaSequence = Number(need("EXT-X-MEDIA-SEQUENCE"));
  const independentSegments = head.has("EXT-X-INDEPENDENT-SEGMENTS");
  const discontinuitySequence = Number(head.get("EXT-X-DISCONTINUITY-SEQUENCE") ?? "0");
  const skipText = head.get("EXT-X-SKIP");
  const skipped =
    skipText === undefined ? 0 : num(attributes(skipText, "EXT-X-SKIP").get("SKIPPED-SEGMENTS"), "EXT-X-SKIP", "SKIPPED-SEGMENTS");
  if (segments.some((s) => s.map === "")) throw new Error("a segment has no EXT-X-MAP before it");
  if (version < 6) throw new Error(`EXT-X-VERSION ${version}: EXT-X-MAP outside an I-frames-only playlist needs 6 (§8)`);
  if (skipped > 0 && version < 9) throw new Error(`EXT-X-VERSION ${version}: EXT-X-SKIP needs 9`);
  if (partTarget <= 0) throw new Error("PART-TARGET must be positive");
  if (partHoldBack < 3 * partTarget - EPS) throw new Error(`PART-HOLD-BACK ${partHoldBack} is under three PART-TARGETs (${partTarget})`);
  if (canSkipUntil < 6 * targetDuration - EPS) throw new Error(`CAN-SKIP-UNTIL ${canSkipUntil} is under six target durations`);

  const uris = new Set<string>();
  segments.forEach((s, i) => {
    s.msn = mediaSequence + skipped + i;
    const at = `segment ${s.msn}`;
    if (s.duration !== undefined) {
      if (Math.round(s.duration) > targetDuration)
        throw new Error(`${at}: EXTINF ${s.duration} rounds above the target duration ${targetDuration} (§4.4.3.1)`);
      if (uris.has(s.uri!)) throw new Error(`${at}: URI ${s.uri} listed twice`);
      uris.add(s.uri!);
    } else if (i !== segments.length - 1) throw new Error(`${at}: only the last segment may be listed by its parts alone`);
    // A segment may start mid-GOP (§6.2.1: cutting at keyframes is a SHOULD) unless the playlist says
    // EXT-X-INDEPENDENT-SEGMENTS (§4.4.2.1); a stream's first segment and one after a discontinuity
    // always start at a keyframe in Sluice.
    if (s.parts.length > 0 && !s.parts[0]!.independent && (independentSegments || s.msn === 0 || s.discontinuity))
      throw new Error(
        `${at}: its first part must be INDEPENDENT=YES (${independentSegments ? "EXT-X-INDEPENDENT-SEGMENTS" : "it follows a discontinuity or starts the playlist"})`,
      );
    s.parts.forEach((p, j) => {
      if (uris.has(p.uri)) throw new Error(`${at}: URI ${p.uri} listed twice`);
      uris.add(p.uri);
      if (p.duration > partTarget + EPS) throw new Error(`${at} part ${j}: DURATION ${p.duration} over PART-TARGET ${partTarget}`);
      const last = j === s.parts.length - 1 && s.duration !== undefined;
      if (opts.strictPartMinimum && !last && !p.independent && p.duration < 0.85 * partTarget - EPS)
        throw new Error(`${at} part ${j}: DURATION ${p.duration} under 85% of PART-TARGET ${partTarget}`);
      const id = partId(p.uri);
      if (!id || id.msn !== s.msn || id.part !== j) throw new Error(`${at} part ${j}: URI ${p.uri} names the wrong segment or index`);
    });
    if (s.duration !== undefined && s.parts.length > 0) {
      const sum = s.parts.reduce((n, p) => n + p.duration, 0);
      if (Math.abs(sum - s.duration) > 1e-4 * (s.parts.length + 1))
        throw new Error(`${at}: parts add up to ${sum}, EXTINF says ${s.duration}`);
    }
    const prev = segments[i - 1];
    if (prev?.programDateTime !== undefined && s.programDateTime !== undefined && !s.discontinuity) {
      const expected = prev.programDateTime + (prev.duration ?? 0) * 1000;
      if (Math.abs(s.programDateTime - expected) > (opts.pdtToleranceMs ?? 250))
        throw new Error(`${at}: PROGRAM-DATE-TIME off the previous segment's end by ${s.programDateTime - expected} ms`);
    }
  });
  // Parts are listed for the trailing segments only, and dropped beyond three target durations (§6.2.2).
  let after = 0;
  let partsSeen = true;
  for (let i = segments.length - 1; i >= 0; i--) {
    const s = segments[i]!;
    if (s.parts.length > 0) {
      if (!partsSeen) throw new Error(`segment ${s.msn}: parts listed for a segment before one without them`);
      if (after >= 3 * targetDuration + EPS)
        throw new Error(`segment ${s.msn}: parts listed more than three target durations from the end`);
    } else partsSeen = false;
    after += s.duration ?? s.parts.reduce((n, p) => n + p.duration, 0);
  }
  if (ended && hint !== undefined) throw new Error("a preload hint after the publisher left (EXT-X-ENDLIST)");
  if (!ended) {
    if (hint === undefined) throw new Error("a live playlist needs an EXT-X-PRELOAD-HINT for the next part");
    const last = segments[segments.length - 1];
    const next =
      last === undefined
        ? undefined
        : last.duration === undefined
          ? { msn: last.msn, part: last.parts.length }
          : { msn: last.msn + 1, part: 0 };
    const id = partId(hint);
    if (next && (id?.msn !== next.msn || id.part !== next.part))
      throw new Error(`the preload hint ${hint} is not the next part (${JSON.stringify(next)})`);
  }
  return {
    version,
    targetDuration,
    partTarget,
    partHoldBack,
    canSkipUntil,
    mediaSequence,
    discontinuitySequence,
    skipped,
    segments,
    preloadHint: hint,
    ended,
    independentSegments,
  };
}

/**
 * A reload of the same playlist: EXT-X-TARGETDURATION and PART-TARGET unchanged (§6.2.1: the server MUST NOT
 * change the target duration, nor the playlist but by the changes listed there), sequence numbers continue,
 * listed segments keep their URI and duration.
 */
export function checkReload(prev: CheckedPlaylist, next: CheckedPlaylist): void {
  if (next.targetDuration !== prev.targetDuration)
    throw new Error(`EXT-X-TARGETDURATION changed from ${prev.targetDuration} to ${next.targetDuration} (§6.2.1: MUST NOT change)`);
  if (next.partTarget !== prev.partTarget) throw new Error(`PART-TARGET changed from ${prev.partTarget} to ${next.partTarget}`);
  if (next.independentSegments !== prev.independentSegments) throw new Error("EXT-X-INDEPENDENT-SEGMENTS came or went");
  if (next.mediaSequence < prev.mediaSequence)
    throw new Error(`EXT-X-MEDIA-SEQUENCE went back from ${prev.mediaSequence} to ${next.mediaSequence}`);
  const lastPrev = prev.segments[prev.segments.length - 1]?.msn ?? prev.mediaSequence - 1;
  const lastNext = next.segments[next.segments.length - 1]?.msn ?? next.mediaSequence - 1;
  if (lastNext < lastPrev) throw new Error(`the newest segment went back from ${lastPrev} to ${lastNext}`);
  let removedDiscontinuities = 0;
  for (const p of prev.segments) {
    const n = next.segments.find((s) => s.msn === p.msn);
    if (!n) {
      if (p.msn >= next.mediaSequence + next.skipped) throw new Error(`segment ${p.msn} vanished from the middle of the playlist`);
      if (p.msn < next.mediaSequence && p.discontinuity) removedDiscontinuities++;
      continue;
    }
    if (p.duration !== undefined && (n.duration !== p.duration || n.uri !== p.uri))
      throw new Error(`segment ${p.msn} changed its EXTINF or URI`);
    if (n.discontinuity !== p.discontinuity || n.map !== p.map) throw new Error(`segment ${p.msn} changed its discontinuity or map`);
    // Parts, where both list them, only grow.
    if (n.parts.length > 0 && p.parts.length > 0) {
      p.parts.forEach((part, j) => {
        if (n.parts[j]?.uri !== part.uri || n.parts[j]?.duration !== part.duration) throw new Error(`segment ${p.msn} part ${j} changed`);
      });
    }
  }
  if (next.discontinuitySequence !== prev.discontinuitySequence + removedDiscontinuities && prev.skipped === 0 && next.skipped === 0)
    throw new Error(
      `EXT-X-DISCONTINUITY-SEQUENCE ${next.discontinuitySequence}, expected ${prev.discontinuitySequence + removedDiscontinuities}`,
    );
}

/** A delta update (`_HLS_skip`) against the full playlist of the same moment (§6.2.5.1, §4.4.5.2). */
export function checkDelta(delta: CheckedPlaylist, full: CheckedPlaylist): void {
  if (delta.skipped === 0) throw new Error("the delta update skipped nothing");
  if (delta.mediaSequence !== full.mediaSequence) throw new Error("a delta update keeps EXT-X-MEDIA-SEQUENCE");
  if (delta.segments.length + delta.skipped !== full.segments.length)
    throw new Error(`SKIPPED-SEGMENTS ${delta.skipped} + ${delta.segments.length} listed != ${full.segments.length} in the full playlist`);
  delta.segments.forEach((s, i) => {
    const f = full.segments[delta.skipped + i]!;
    if (s.uri !== f.uri || s.duration !== f.duration || s.parts.length !== f.parts.length)
      throw new Error(`segment ${s.msn} differs from the full playlist`);
  });
  // Only segments at least the Skip Boundary (CAN-SKIP-UNTIL) before the end may be skipped.
  const total = full.segments.reduce((n, s) => n + (s.duration ?? s.parts.reduce((m, p) => m + p.duration, 0)), 0);
  let end = 0;
  for (let i = 0; i < delta.skipped; i++) end += full.segments[i]!.duration!;
  if (total - end < full.canSkipUntil - 1e-3)
    throw new Error(`skipped segments reach within ${total - end} s of the end, under CAN-SKIP-UNTIL ${full.canSkipUntil}`);
  const next = full.segments[delta.skipped]!;
  if (total - end - (next.duration ?? Number.POSITIVE_INFINITY) >= full.canSkipUntil - 1e-3)
    throw new Error("a skippable segment was not skipped");
}

/**
 * The answer to `_HLS_msn=msn[&_HLS_part=part]` holds that segment (complete), or that part or a later
 * one (a part index past a segment's last means part 0 of the next), or ends the stream (§6.2.5.2).
 */
export function checkBlockingAnswer(p: CheckedPlaylist, msn: number, part?: number): void {
  if (p.ended || msn < p.mediaSequence) return;
  const last = p.segments[p.segments.length - 1];
  if (!last) throw new Error(`the answer to _HLS_msn=${msn} lists no segment`);
  const complete = last.duration !== undefined ? last.msn : last.msn - 1;
  if (part === undefined) {
    if (complete < msn) throw new Error(`the answer to _HLS_msn=${msn} has complete segments up to ${complete} only`);
    return;
  }
  if (complete > msn) return;
  if (complete === msn) {
    const seg = p.segments.find((s) => s.msn === msn);
    if (seg && (part < seg.parts.length || seg.parts.length === 0)) return;
    if (last.msn > msn) return; // past the last part: part 0 of the next segment, which is there
    throw new Error(`the answer to _HLS_msn=${msn}&_HLS_part=${part} lacks part 0 of segment ${msn + 1}`);
  }
  if (last.msn === msn && last.parts.length > part) return;
  throw new Error(`the answer to _HLS_msn=${msn}&_HLS_part=${part} lacks that part (newest: ${last.msn}.${last.parts.length - 1})`);
}
